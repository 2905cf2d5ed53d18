using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Netconsole.Lab;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Netconsole.Wire;
using Xunit.Abstractions;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Lab;

// One lab at a time, as every other lab test: a route lookup without a device (targets
// written "@/,@ip/") must not find another test's lab.
[Collection(LabTestsRunAlone.Name)]
public sealed class NetworkLabTrafficTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public void A_datagram_sent_from_the_device_end_arrives_at_the_peer_socket(AddressFamily family)
    {
        using NetworkLab lab = CreateLab(output);

        AssertUdpFlows(lab, family, 6666);
    }

    [SkippableTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public void A_frame_injected_on_the_device_end_arrives_at_the_peer_socket_and_in_the_peer_capture(AddressFamily family)
    {
        using NetworkLab lab = CreateLab(output);
        Requires.Libpcap();
        bool v4 = family == AddressFamily.InterNetwork;
        var builder = new FrameBuilder(
            lab.DeviceMac, lab.PeerMac, v4 ? lab.DeviceIPv4 : lab.DeviceIPv6, 6665, v4 ? lab.PeerIPv4 : lab.PeerIPv6, 6666);
        byte[] payload = Encoding.ASCII.GetBytes("4,12,3456789,-;injected through libpcap\n");
        byte[] frame = new byte[builder.HeaderLength + payload.Length];
        builder.Build(payload, frame);
        Socket receiver = lab.OpenPeerUdpSocket(family, 6666);
        using LabCapture capture = lab.StartCapture(bpfFilter: "udp port 6666");

        Inject(lab.DeviceName, frame);

        (byte[] received, IPEndPoint from) = Receive(receiver);
        received.Should().Equal(payload);
        from.Should().Be(new IPEndPoint(v4 ? lab.DeviceIPv4 : lab.DeviceIPv6, 6665));
        capture.WaitForFrames(1, Patience).Single().Data.Should().Equal(frame, "the peer captures the frame exactly as injected");
    }

    [SkippableFact]
    public void A_device_capture_sees_what_the_device_end_sends()
    {
        using NetworkLab lab = CreateLab(output);
        Requires.Libpcap();
        using LabCapture capture = lab.StartCapture(onPeer: false, bpfFilter: "udp and dst port 7000");
        Socket sender = lab.OpenDeviceUdpSocket(AddressFamily.InterNetwork, 6665);

        sender.SendTo("one"u8.ToArray(), new IPEndPoint(lab.PeerIPv4, 7000));
        sender.SendTo("two"u8.ToArray(), new IPEndPoint(lab.PeerIPv4, 7000));

        IReadOnlyList<CapturedFrame> frames = capture.WaitForFrames(2, Patience);
        frames.Select(f => Encoding.ASCII.GetString(f.Data[42..])).Should().Equal("one", "two");
        frames.Select(f => new PhysicalAddress(f.Data[6..12])).Should().AllBeEquivalentTo(lab.DeviceMac);
        frames.Select(f => BinaryPrimitives.ReadUInt16BigEndian(f.Data.AsSpan(34))).Should().AllBeEquivalentTo(6665);
        frames[0].Timestamp.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(10));
        capture.InterfaceName.Should().Be(lab.DeviceName);
    }

    [SkippableFact]
    public void A_capture_written_to_pcap_reads_back_frame_for_frame()
    {
        using NetworkLab lab = CreateLab(output);
        Requires.Libpcap();
        using LabCapture capture = lab.StartCapture(bpfFilter: "udp port 6666");
        lab.OpenDeviceUdpSocket(AddressFamily.InterNetworkV6).SendTo("pcap"u8.ToArray(), new IPEndPoint(lab.PeerIPv6, 6666));
        IReadOnlyList<CapturedFrame> frames = capture.WaitForFrames(1, Patience);
        string path = Path.Combine(Path.GetTempPath(), $"lab-{lab.Id}.pcap");

        try
        {
            capture.WritePcap(path);

            PcapFileReader.Read(path).Select(r => r.Frame).Should().BeEquivalentTo(frames.Select(f => f.Data), o => o.WithStrictOrdering());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SkippableFact]
    public void Two_labs_in_one_namespace_keep_their_traffic_apart()
    {
        using NetworkLab first = CreateLab(output);
        using NetworkLab second = CreateLab(output);

        // Both device ends hold 192.0.2.1 and route 192.0.2.0/24; sockets bound to their device pick the right one.
        AssertUdpFlows(second, AddressFamily.InterNetwork, 6666);
        AssertUdpFlows(first, AddressFamily.InterNetwork, 6666);
        AssertUdpFlows(second, AddressFamily.InterNetworkV6, 6666);
    }
}
