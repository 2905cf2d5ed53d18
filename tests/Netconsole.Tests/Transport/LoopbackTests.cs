using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Receiving;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Transport;

// What injecting on Linux's lo does, shown with real sockets in the private network namespace,
// through libpcap and through a packet socket.
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab
public class LoopbackTests
{
    public static TheoryData<string> Transports => [.. LabTransports.Kinds];

    private static readonly PhysicalAddress Zero = new(new byte[6]);
    private static readonly byte[] Record = "6,17,123456,-;netconsole over lo\n"u8.ToArray();

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void An_IPv6_frame_to_loopback_reaches_a_local_UDP_socket(string kind)
    {
        Lab.Require();
        using var receiver = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        receiver.ReceiveTimeout = 3000;
        int port = ((IPEndPoint)receiver.LocalEndPoint!).Port;
        using IFrameTransport transport = LabTransports.Open(kind, "lo");

        transport.Send(Frame(IPAddress.IPv6Loopback, port));

        var buffer = new byte[2048];
        int received = receiver.Receive(buffer);
        buffer[..received].Should().Equal(Record);
        ParsedDatagram datagram = DatagramParser.Parse(buffer.AsSpan(0, received));
        datagram.Sequence.Should().Be(17);
        datagram.Data.ToArray().Should().Equal("netconsole over lo\n"u8.ToArray());
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void An_IPv4_frame_to_loopback_is_put_on_lo_but_never_reaches_a_local_UDP_socket(string kind)
    {
        Lab.Require();
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.LocalEndPoint!).Port;
        using IFrameTransport transport = LabTransports.Open(kind, "lo");
        using var capture = new FrameCapture("lo", $"udp dst port {port}");
        byte[] frame = Frame(IPAddress.Loopback, port);

        transport.Send(frame);

        capture.NextEqualTo(frame, TimeSpan.FromSeconds(3)).Should().NotBeNull("the frame is on lo");
        receiver.Poll(TimeSpan.FromMilliseconds(500), SelectMode.SelectRead).Should().BeFalse(
            "the kernel drops IPv4 frames injected on lo as martians");
    }

    private static byte[] Frame(IPAddress loopback, int port)
    {
        var builder = new FrameBuilder(Zero, Zero, loopback, 6665, loopback, port);
        var frame = new byte[builder.MaxFrameLength];
        int length = builder.Build(Record, frame);
        return frame[..length];
    }
}
