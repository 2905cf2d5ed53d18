using Netconsole.Transport;

namespace Netconsole.Tests.Transport;

// The errno of a packet socket call means what libpcap's message with the same strerror text
// means (PcapErrorsTests): the two transports report the same FrameTransportError.
public class PacketSocketErrorsTests
{
    [Theory]
    [InlineData(1, FrameTransportError.PermissionDenied)] // EPERM
    [InlineData(13, FrameTransportError.PermissionDenied)] // EACCES
    [InlineData(100, FrameTransportError.DeviceDown)] // ENETDOWN
    [InlineData(90, FrameTransportError.FrameTooLong)] // EMSGSIZE
    [InlineData(6, FrameTransportError.DeviceGone)] // ENXIO: the socket's device was deleted
    [InlineData(19, FrameTransportError.DeviceGone)] // ENODEV
    [InlineData(105, FrameTransportError.Other)] // ENOBUFS: dropped, the transport stays usable
    [InlineData(-1, FrameTransportError.Other)] // part of the frame went
    public void A_send_errno_means_what_libpcap_s_message_with_its_text_means(int errno, FrameTransportError expected)
    {
        PacketSocketErrors.Classify(errno, PcapOperation.Send).Should().Be(expected);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(19)]
    public void A_device_missing_when_opening_is_NoSuchDevice(int errno)
    {
        PacketSocketErrors.Classify(errno, PcapOperation.Open).Should().Be(FrameTransportError.NoSuchDevice);
    }

    [Fact]
    public void ENOBUFS_is_a_transient_error_in_the_system_s_words()
    {
        FrameTransportException e = PacketSocketErrors.Create(105, "send(2)", "veth0", PcapOperation.Send);

        e.Error.Should().Be(FrameTransportError.Other);
        e.IsPermanent.Should().BeFalse();
        e.Message.Should().Be("Cannot send a frame on veth0: its packet socket failed. (send(2): No buffer space available (errno 105))");
    }

    [Fact]
    public void Packet_sockets_are_the_Linux_default_and_the_environment_variable_can_choose_libpcap()
    {
        Type linuxDefault = OperatingSystem.IsLinux() ? typeof(FrameTransports.PacketSocketFirst) : typeof(SharpPcapTransportFactory);
        FrameTransports.Choose("packet-socket").Should().BeOfType(linuxDefault);
        FrameTransports.Choose(null).Should().BeOfType(linuxDefault, "on Linux the packet socket is the default");
        FrameTransports.Choose(" LibPcap ").Should().BeOfType<SharpPcapTransportFactory>();
        FrameTransports.Choose("pcap-socket").Should().BeOfType(linuxDefault, "an unknown name keeps the default");
    }
}
