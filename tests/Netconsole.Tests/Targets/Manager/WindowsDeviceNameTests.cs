using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// On Windows a device has two names: the connection name (<c>Ethernet 2</c>, what
/// NetworkInterface and so the device watcher call it) and the Npcap name
/// (<c>\Device\NPF_{GUID}</c>, what libpcap lists). A target may give either; the device is found,
/// and opened through libpcap by whichever name libpcap knows it.
/// </summary>
public sealed class WindowsDeviceNameTests : ManagerTestBase
{
    private const string NpcapName = @"\Device\NPF_{4D36E972-E325-11CE-BFC1-08002BE10318}";

    public WindowsDeviceNameTests()
        : base(pretend: HostKind.Windows)
    {
    }

    private NetworkDevice RegisterWindowsDevice() =>
        Watcher.Register("Ethernet 2", MacA, [Local], pcapName: NpcapName);

    [Fact]
    public void A_device_is_named_by_its_name_exactly_or_by_its_npcap_name_in_any_case()
    {
        var device = new NetworkDevice(7, "Ethernet 2", MacA, true, true, []) { PcapName = NpcapName };

        device.IsNamed("Ethernet 2").Should().BeTrue();
        device.IsNamed(NpcapName).Should().BeTrue();
        device.IsNamed(NpcapName.ToLowerInvariant()).Should().BeTrue("a GUID is a number, written in either case");
        device.IsNamed("ethernet 2").Should().BeFalse("a name is compared exactly");
        device.IsNamed(@"\Device\NPF_{00000000-0000-0000-0000-000000000000}").Should().BeFalse();
        new NetworkDevice(7, "eth0", MacA, true, true, []).IsNamed(NetworkDevice.NpcapNamePrefix + "eth0").Should().BeFalse("only a device with an Npcap name has one");
    }

    [Theory]
    [InlineData(NpcapName)]
    [InlineData("Ethernet 2")]
    public void A_target_naming_the_device_either_way_is_enabled_on_it_and_opens_it_by_its_connection_name(string name)
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        RegisterWindowsDevice();
        Manager.Add(new NetconsoleTargetOptions { Name = "t", DeviceName = name, RemoteAddress = Remote });

        Manager.Enable("t").Reason.Should().Be("enabled on device Ethernet 2");
        Factory.Last.DeviceName.Should().Be("Ethernet 2");
    }

    [Fact]
    public void A_target_given_the_npcap_name_keeps_it_when_the_connection_is_renamed()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        RegisterWindowsDevice();
        NetconsoleTarget target = Manager.Add(new NetconsoleTargetOptions { Name = "t", DeviceName = NpcapName, RemoteAddress = Remote });
        Manager.Enable("t");

        Watcher.Rename("Ethernet 2", "Lab uplink");
        Settle();

        target.CurrentOptions.DeviceName.Should().Be(NpcapName, "the Npcap name still names the device");
        Watcher.Unregister("Lab uplink");
        Watcher.Register("Ethernet 3", MacB, [Local], pcapName: NpcapName);
        Settle();
        target.StateReason.Should().Be("resumed on device Ethernet 3");
    }

    [Fact]
    public void A_target_given_the_connection_name_follows_a_rename_as_on_linux()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        RegisterWindowsDevice();
        NetconsoleTarget target = Manager.Add(new NetconsoleTargetOptions { Name = "t", DeviceName = "Ethernet 2", RemoteAddress = Remote });
        Manager.Enable("t");

        Watcher.Rename("Ethernet 2", "Lab uplink");
        Settle();

        target.CurrentOptions.DeviceName.Should().Be("Lab uplink");
    }

    [Fact]
    public void Libpcap_finds_a_device_by_its_libpcap_name_first_and_off_linux_by_the_system_name()
    {
        (string, string?)[] listed = [(@"\Device\NPF_Loopback", null), (NpcapName, "Ethernet 2"), (@"\Device\NPF_{X}", NpcapName)];

        SharpPcapTransportFactory.IndexOfDevice(listed, NpcapName, linux: false).Should().Be(1, "libpcap's own name wins");
        SharpPcapTransportFactory.IndexOfDevice(listed, "Ethernet 2", linux: false).Should().Be(1);
        SharpPcapTransportFactory.IndexOfDevice(listed, "Ethernet 2", linux: true).Should().Be(-1, "on Linux libpcap's name is the device's name");
        SharpPcapTransportFactory.IndexOfDevice(listed, "Wi-Fi", linux: false).Should().Be(-1);
    }
}
