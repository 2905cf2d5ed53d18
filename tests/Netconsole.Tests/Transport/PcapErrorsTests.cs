using System.Net;
using System.Reflection;
using Netconsole.Transport;
using SharpPcap;

namespace Netconsole.Tests.Transport;

// How libpcap's failures become FrameTransportExceptions; the messages are the ones observed
// with libpcap 1.10 and SharpPcap 6.3.1 on Linux. No root needed.
public class PcapErrorsTests
{
    [Theory]
    [InlineData("Unable to load shared library 'wpcap' or one of its dependencies. In order to help diagnose loading problems, consider setting the LD_DEBUG environment variable: libwpcap: cannot open shared object file")]
    [InlineData("Unable to load DLL 'libpcap.so.1': The specified module could not be found.")]
    public void A_missing_native_library_is_LibpcapMissing_and_says_what_to_install(string message)
    {
        FrameTransportException e = PcapErrors.Translate(new DllNotFoundException(message), "veth0", PcapOperation.Open);

        e.Error.Should().Be(FrameTransportError.LibpcapMissing);
        e.DeviceName.Should().Be("veth0");
        e.Message.Should().Contain("install libpcap0.8 (Debian/Ubuntu), libpcap (Fedora), Npcap (Windows)");
    }

    [Fact]
    public void A_missing_native_library_is_said_in_one_line_without_the_runtimes_list_of_probed_paths()
    {
        var cause = new DllNotFoundException(
            "Unable to load shared library 'wpcap' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n"
            + "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/wpcap.so: cannot open shared object file: No such file or directory\n"
            + "/app/libwpcap.so: cannot open shared object file: No such file or directory\n");

        FrameTransportException e = PcapErrors.Translate(cause, "lo", PcapOperation.Open);

        e.Message.Should().Be("Cannot open lo: the native libpcap library could not be loaded; install libpcap0.8 (Debian/Ubuntu), libpcap (Fedora), Npcap (Windows). (Unable to load shared library 'wpcap' or one of its dependencies.)");
        e.InnerException.Should().BeSameAs(cause, "the whole of the runtime's message stays there");
    }

    [Fact]
    public void A_missing_native_library_behind_a_type_initializer_is_LibpcapMissing()
    {
        var cause = new TypeInitializationException("SharpPcap.LibPcap.LibPcapSafeNativeMethods", new DllNotFoundException("Unable to load shared library 'wpcap'"));

        PcapErrors.Translate(cause, "veth0", PcapOperation.Open).Error.Should().Be(FrameTransportError.LibpcapMissing);
    }

    [Fact]
    public void Another_missing_native_library_is_Other()
    {
        PcapErrors.Translate(new DllNotFoundException("Unable to load shared library 'libfoo'"), "veth0", PcapOperation.Open)
            .Error.Should().Be(FrameTransportError.Other);
    }

    [Theory]
    [InlineData(PcapError.PermissionDenied, "Unable to activate the adapter (lo). (Error Code: PermissionDenied)")]
    [InlineData(PcapError.PromiscuousPermissionDenied, "Unable to activate the adapter (lo). (Error Code: PromiscuousPermissionDenied)")]
    [InlineData(PcapError.Generic, "Can't send packet: send: Operation not permitted")]
    [InlineData(null, "socket: Permission denied")]
    public void No_permission_is_PermissionDenied_and_says_how_to_grant_it(PcapError? code, string message)
    {
        PcapErrors.Classify(code, message, PcapOperation.Open).Should().Be(FrameTransportError.PermissionDenied);
        PcapErrors.Create(FrameTransportError.PermissionDenied, "lo", PcapOperation.Open, message).Message.Should()
            .Contain("run as root, or give this program CAP_NET_RAW (all it needs)")
            .And.Contain("not on the shared dotnet binary");
    }

    [Fact]
    public void No_such_device_when_opening_is_NoSuchDevice_and_lists_the_devices()
    {
        PcapErrors.Classify(PcapError.NoSuchDevice, "Unable to activate the adapter (ncT0). (Error Code: NoSuchDevice)", PcapOperation.Open)
            .Should().Be(FrameTransportError.NoSuchDevice);
        PcapErrors.Create(FrameTransportError.NoSuchDevice, "eth9", PcapOperation.Open, null, null, ["lo", "veth0"]).Message
            .Should().Be("Cannot open eth9: there is no network device of that name. Devices: lo, veth0.");
    }

    [Theory]
    [InlineData(PcapError.NoSuchDevice, "Unable to activate the adapter (ncT0). (Error Code: NoSuchDevice)")]
    [InlineData(PcapError.Generic, "Can't send packet: send: No such device or address")]
    [InlineData(PcapError.Generic, "Can't send packet: send: No such device")]
    public void No_such_device_when_sending_is_DeviceGone_for_good(PcapError code, string message)
    {
        PcapErrors.Classify(code, message, PcapOperation.Send).Should().Be(FrameTransportError.DeviceGone);
        FrameTransportException e = PcapErrors.Create(FrameTransportError.DeviceGone, "veth0", PcapOperation.Send, message);
        e.IsPermanent.Should().BeTrue();
        e.Message.Should().Contain("open a new one once the device is back");
    }

    [Fact]
    public void Network_is_down_when_sending_is_DeviceDown_and_the_transport_stays_usable()
    {
        const string Message = "Can't send packet: send: Network is down";

        PcapErrors.Classify(PcapError.Generic, Message, PcapOperation.Send).Should().Be(FrameTransportError.DeviceDown);
        FrameTransportException e = PcapErrors.Create(FrameTransportError.DeviceDown, "veth0", PcapOperation.Send, Message);
        e.IsPermanent.Should().BeFalse();
        e.Message.Should().Be(
            "The frame was not sent: veth0 is down. The transport stays usable: send again once the device is up. "
            + "(Can't send packet: send: Network is down)");
    }

    [Fact]
    public void A_device_down_when_opening_is_DeviceDown_and_says_to_bring_it_up()
    {
        PcapErrors.Classify(PcapError.InterfaceNotUp, "Unable to activate the adapter (veth0). (Error Code: InterfaceNotUp)", PcapOperation.Open)
            .Should().Be(FrameTransportError.DeviceDown);
        PcapErrors.Create(FrameTransportError.DeviceDown, "veth0", PcapOperation.Open, null).Message
            .Should().Contain("ip link set veth0 up");
    }

    [Fact]
    public void Message_too_long_is_FrameTooLong()
    {
        PcapErrors.Classify(PcapError.Generic, "Can't send packet: send: Message too long", PcapOperation.Send)
            .Should().Be(FrameTransportError.FrameTooLong);
    }

    [Fact]
    public void Anything_else_is_Other_with_libpcaps_words()
    {
        var cause = new InvalidOperationException("Can't send packet: send: Invalid argument");

        FrameTransportException e = PcapErrors.Translate(cause, "veth0", PcapOperation.Send);

        e.Error.Should().Be(FrameTransportError.Other);
        e.Message.Should().Be("Cannot send a frame on veth0: libpcap failed. (Can't send packet: send: Invalid argument)");
        e.InnerException.Should().BeSameAs(cause);
    }

    [Fact]
    public void A_real_PcapException_is_translated_by_its_error_code()
    {
        Exception cause = NewPcapException("Unable to activate the adapter (lo). (Error Code: PermissionDenied)", PcapError.PermissionDenied);

        PcapErrors.Translate(cause, "lo", PcapOperation.Open).Error.Should().Be(FrameTransportError.PermissionDenied);
    }

    [Fact]
    public void Only_a_generic_Network_is_down_counts_as_a_stale_send_error()
    {
        PcapErrors.IsNetworkDown(NewPcapException("Can't send packet: send: Network is down", PcapError.Generic)).Should().BeTrue();
        PcapErrors.IsNetworkDown(NewPcapException("Can't send packet: send: No such device or address", PcapError.Generic)).Should().BeFalse();
    }

    [Fact]
    public void A_FrameTransportException_is_kept_as_it_is()
    {
        var e = new FrameTransportException(FrameTransportError.NotEthernet, "tun0", "not Ethernet");

        PcapErrors.Translate(e, "tun0", PcapOperation.Open).Should().BeSameAs(e);
    }

    [Fact]
    public void IPv4_on_a_loopback_device_is_refused_with_what_to_use_instead()
    {
        FrameTransportException? refusal = PcapErrors.CheckReachable("lo", deviceIsLoopback: true, IPAddress.Parse("127.0.0.1"));

        refusal.Should().NotBeNull();
        refusal!.DeviceName.Should().Be("lo");
        refusal.Message.Should().Be(
            "Cannot send to 127.0.0.1 on lo: IPv4 frames injected on lo never reach local sockets (martian source/destination "
            + "filtering); use an IPv6 target on lo such as \"+@/lo,@::1/\", or a veth.");
    }

    [Theory]
    [InlineData(true, "::1")]
    [InlineData(false, "127.0.0.1")]
    [InlineData(false, "192.0.2.2")]
    public void IPv6_on_loopback_and_anything_on_other_devices_is_accepted(bool loopback, string remote)
    {
        PcapErrors.CheckReachable("dev", loopback, IPAddress.Parse(remote)).Should().BeNull();
    }

    // PcapException's constructors are internal to SharpPcap.
    private static PcapException NewPcapException(string message, PcapError error) =>
        (PcapException)Activator.CreateInstance(
            typeof(PcapException), BindingFlags.Instance | BindingFlags.NonPublic, null, [message, error], null)!;
}
