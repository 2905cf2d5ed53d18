using Netconsole.Devices;
using Netconsole.Transport;

namespace Netconsole.Tests.Transport;

/// <summary>What to do about a libpcap failure is said in the terms of the system it happened on.</summary>
public sealed class PcapErrorsPlatformTests
{
    [SkippableFact]
    public void No_permission_says_how_to_get_it_on_each_system()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it checks Linux's own advice too");
        string Message() => PcapErrors.Create(FrameTransportError.PermissionDenied, "en0", PcapOperation.Open, null).Message;

        Message().Should().Contain("give this program CAP_NET_RAW (all it needs)", "the tests run on Linux");
        using (HostPlatform.Pretend(HostKind.Windows))
        {
            Message().Should().Be("Cannot open en0: no permission to inject frames; run as Administrator, or reinstall Npcap without its option to restrict the driver's access to Administrators.");
        }

        using (HostPlatform.Pretend(HostKind.MacOS))
        {
            Message().Should().Be("Cannot open en0: no permission to inject frames; run as root, or give your user read and write access to the /dev/bpf* devices.");
        }
    }

    [SkippableFact]
    public void A_device_down_when_opening_says_how_to_bring_it_up_on_each_system()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it checks Linux's own advice too");
        string Message(string device) => PcapErrors.Create(FrameTransportError.DeviceDown, device, PcapOperation.Open, null).Message;

        Message("veth0").Should().Contain("(ip link set veth0 up)");
        using (HostPlatform.Pretend(HostKind.Windows))
        {
            Message("Ethernet 2").Should().Be("Cannot open Ethernet 2: the device is down; bring it up (enable the network connection) and open it again.");
        }

        using (HostPlatform.Pretend(HostKind.MacOS))
        {
            Message("en0").Should().Contain("(ifconfig en0 up)");
        }
    }
}
