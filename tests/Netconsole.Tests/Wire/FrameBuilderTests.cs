using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using CsCheck;
using Netconsole.Wire;
using PacketDotNet;
using static Netconsole.Tests.Wire.FrameTestData;

namespace Netconsole.Tests.Wire;

public class FrameBuilderTests
{
    private static readonly byte[] Hi = "hi\n"u8.ToArray();

    [Fact]
    public void Ipv4_frame_is_exactly_what_netpoll_sends()
    {
        byte[] frame = BuildFrame(Ipv4Builder(), Hi);

        byte[] expected =
        [
            // Ethernet
            0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // destination MAC
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source MAC
            0x08, 0x00,                         // ethertype IPv4
            // IPv4
            0x45,                               // version 4, IHL 5
            0x00,                               // TOS
            0x00, 0x1f,                         // total length 31 = 20 + 8 + 3
            0x00, 0x01,                         // identification: the first frame carries 1
            0x00, 0x00,                         // flags (DF not set), fragment offset 0
            0x40,                               // TTL 64
            0x11,                               // protocol 17 (UDP)
            // header checksum: 4500 + 001f + 0001 + 0000 + 4011 + c000 + 0201 + c000 + 0202
            // = 0x20934 -> fold 0x0936 -> complement 0xf6c9
            0xf6, 0xc9,
            0xc0, 0x00, 0x02, 0x01,             // source 192.0.2.1
            0xc0, 0x00, 0x02, 0x02,             // destination 192.0.2.2
            // UDP
            0x1a, 0x09,                         // source port 6665
            0x1a, 0x0a,                         // destination port 6666
            0x00, 0x0b,                         // length 11 = 8 + 3
            // checksum: pseudo-header c000 + 0201 + c000 + 0202 + 0011 + 000b
            // + header 1a09 + 1a0a + 000b + payload 6869 + 0a00 (odd byte padded)
            // = 0x22aa6 -> fold 0x2aa8 -> complement 0xd557
            0xd5, 0x57,
            (byte)'h', (byte)'i', (byte)'\n',   // payload, no Ethernet padding
        ];
        frame.Should().Equal(expected);
    }

    [Fact]
    public void Ipv6_frame_is_exactly_what_netpoll_sends()
    {
        byte[] frame = BuildFrame(Ipv6Builder(), Hi);

        byte[] expected =
        [
            // Ethernet
            0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // destination MAC
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source MAC
            0x86, 0xdd,                         // ethertype IPv6
            // IPv6
            0x60, 0x00, 0x00, 0x00,             // version 6, traffic class 0, flow label 0
            0x00, 0x0b,                         // payload length 11 = 8 + 3
            0x11,                               // next header 17 (UDP)
            0x20,                               // hop limit 32
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // source 2001:db8::1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // destination 2001:db8::2
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
            // UDP
            0x1a, 0x09,                         // source port 6665
            0x1a, 0x0a,                         // destination port 6666
            0x00, 0x0b,                         // length 11
            // checksum: pseudo-header 2001 + 0db8 + 0001 + 2001 + 0db8 + 0002 + 000b (length)
            // + 0011 (next header) + header 1a09 + 1a0a + 000b + payload 6869 + 0a00
            // = 0x10218 -> fold 0x0219 -> complement 0xfde6
            0xfd, 0xe6,
            (byte)'h', (byte)'i', (byte)'\n',   // payload
        ];
        frame.Should().Equal(expected);
    }

    [Fact]
    public void Ipv4_frame_parses_back_with_every_field_as_netpoll_sets_it()
    {
        byte[] payload = Payload(100);
        byte[] frame = BuildFrame(Ipv4Builder(firstIdentification: 4242), payload);

        var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);
        ethernet.DestinationHardwareAddress.Should().Be(DestinationMac);
        ethernet.SourceHardwareAddress.Should().Be(SourceMac);
        ethernet.Type.Should().Be(EthernetType.IPv4);

        var ip = ethernet.Extract<IPv4Packet>();
        ip.Version.Should().Be(IPVersion.IPv4);
        ip.HeaderLength.Should().Be(5, "IHL is 5 32-bit words: no options");
        ip.TypeOfService.Should().Be(0);
        ip.TotalLength.Should().Be(20 + 8 + 100);
        ip.Id.Should().Be(4242);
        ip.FragmentFlags.Should().Be(0, "netpoll does not set DF");
        ip.FragmentOffset.Should().Be(0);
        ip.TimeToLive.Should().Be(64);
        ip.Protocol.Should().Be(PacketDotNet.ProtocolType.Udp);
        ip.SourceAddress.Should().Be(Ipv4Source);
        ip.DestinationAddress.Should().Be(Ipv4Destination);

        var udp = ethernet.Extract<UdpPacket>();
        udp.SourcePort.Should().Be(SourcePort);
        udp.DestinationPort.Should().Be(DestinationPort);
        udp.Length.Should().Be(8 + 100);
        udp.PayloadData.Should().Equal(payload);
    }

    [Fact]
    public void Ipv6_frame_parses_back_with_every_field_as_netpoll_sets_it()
    {
        byte[] payload = Payload(100);
        byte[] frame = BuildFrame(Ipv6Builder(), payload);

        var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);
        ethernet.DestinationHardwareAddress.Should().Be(DestinationMac);
        ethernet.SourceHardwareAddress.Should().Be(SourceMac);
        ethernet.Type.Should().Be(EthernetType.IPv6);

        var ip = ethernet.Extract<IPv6Packet>();
        ip.Version.Should().Be(IPVersion.IPv6);
        ip.TrafficClass.Should().Be(0);
        ip.FlowLabel.Should().Be(0);
        ip.PayloadLength.Should().Be(8 + 100);
        ip.NextHeader.Should().Be(PacketDotNet.ProtocolType.Udp);
        ip.HopLimit.Should().Be(32);
        ip.SourceAddress.Should().Be(Ipv6Source);
        ip.DestinationAddress.Should().Be(Ipv6Destination);

        var udp = ethernet.Extract<UdpPacket>();
        udp.SourcePort.Should().Be(SourcePort);
        udp.DestinationPort.Should().Be(DestinationPort);
        udp.Length.Should().Be(8 + 100);
        udp.PayloadData.Should().Equal(payload);
    }

    [Fact]
    public void Ipv4_header_checksum_matches_the_rfc_1071_reference()
    {
        var builder = Ipv4Builder();
        foreach (int length in new[] { 0, 1, 2, 57, 1000 })
        {
            byte[] frame = BuildFrame(builder, Payload(length));
            FrameReference.Word(frame, 24).Should().Be(FrameReference.ComputeIpv4HeaderChecksum(frame));
            FrameReference.Ipv4HeaderChecksumVerifies(frame).Should().BeTrue();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Udp_checksum_matches_the_reference_over_the_pseudo_header(bool ipv6)
    {
        var builder = Builder(ipv6);
        foreach (int length in new[] { 0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 500, 999, 1000 })
        {
            byte[] frame = BuildFrame(builder, Payload(length));
            int checksumOffset = FrameReference.UdpOffset(frame) + 6;
            FrameReference.Word(frame, checksumOffset).Should().Be(FrameReference.ComputeUdpChecksum(frame), $"payload of {length} bytes");
            FrameReference.UdpChecksumVerifies(frame).Should().BeTrue();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Udp_checksum_computed_as_zero_is_sent_as_ffff(bool ipv6)
    {
        byte[] payload = ZeroChecksumPayload(ipv6);

        byte[] frame = BuildFrame(Builder(ipv6), payload);

        FrameReference.ComputeUdpChecksum(frame).Should().Be(0, "the search found a payload whose checksum computes to 0");
        int checksumOffset = FrameReference.UdpOffset(frame) + 6;
        frame[checksumOffset..(checksumOffset + 2)].Should().Equal(0xff, 0xff);
        FrameReference.UdpChecksumVerifies(frame).Should().BeTrue("0xffff is the ones' complement equivalent of 0");
    }

    [Fact]
    public void First_ipv4_frame_carries_identification_1_and_each_next_frame_one_more()
    {
        var builder = Ipv4Builder();
        builder.NextIdentification.Should().Be(1);

        var ids = Enumerable.Range(0, 5).Select(_ => FrameReference.Word(BuildFrame(builder, Hi), 18)).ToArray();

        ids.Should().Equal(1, 2, 3, 4, 5);
        builder.NextIdentification.Should().Be(6);
    }

    [Fact]
    public void Ipv4_identification_wraps_from_65535_to_0()
    {
        var builder = Ipv4Builder(firstIdentification: 65534);

        var ids = Enumerable.Range(0, 4).Select(_ => FrameReference.Word(BuildFrame(builder, Hi), 18)).ToArray();

        ids.Should().Equal(65534, 65535, 0, 1);
    }

    [Fact]
    public void Ipv4_identification_wraps_after_a_full_cycle_from_the_default_start()
    {
        var builder = Ipv4Builder();
        var frame = new byte[builder.MaxFrameLength];
        for (int i = 0; i < 65535; i++)
        {
            builder.Build([], frame);
        }

        FrameReference.Word(frame, 18).Should().Be(65535);
        builder.Build([], frame);
        FrameReference.Word(frame, 18).Should().Be(0);
    }

    [Fact]
    public void Concurrent_builds_never_repeat_an_identification()
    {
        var builder = Ipv4Builder();
        const int threads = 2;
        const int perThread = 20_000; // 40000 < 65536: every id must be distinct
        var ids = new ushort[threads][];

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var frame = new byte[builder.MaxFrameLength];
            ids[t] = new ushort[perThread];
            for (int i = 0; i < perThread; i++)
            {
                builder.Build(Hi, frame);
                ids[t][i] = FrameReference.Word(frame, 18);
            }
        });

        ids.SelectMany(x => x).Should().OnlyHaveUniqueItems().And.HaveCount(threads * perThread);
    }

    [Fact]
    public void Ipv6_builder_leaves_its_identification_counter_alone()
    {
        var builder = Ipv6Builder();

        BuildFrame(builder, Hi);

        builder.NextIdentification.Should().Be(1);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    [InlineData(false, 999)]
    [InlineData(false, 1000)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, 999)]
    [InlineData(true, 1000)]
    public void Payloads_from_0_to_1000_bytes_are_carried_whole(bool ipv6, int length)
    {
        var builder = Builder(ipv6);
        byte[] payload = Payload(length);

        byte[] frame = BuildFrame(builder, payload);

        frame.Length.Should().Be(builder.HeaderLength + length);
        frame[builder.HeaderLength..].Should().Equal(payload);
        var udp = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<UdpPacket>();
        udp.Length.Should().Be(8 + length);
        (udp.PayloadData ?? []).Should().Equal(payload);
        FrameReference.UdpChecksumVerifies(frame).Should().BeTrue();
        if (!ipv6)
        {
            FrameReference.Ipv4HeaderChecksumVerifies(frame).Should().BeTrue();
        }
    }

    [Fact]
    public void Payload_of_1001_bytes_is_rejected_with_a_clear_message()
    {
        var builder = Ipv4Builder();
        var frame = new byte[2000];

        Action build = () => builder.Build(new byte[1001], frame);

        build.Should().Throw<ArgumentException>()
            .WithParameterName("payload")
            .WithMessage("The payload is 1001 bytes; a netconsole datagram carries at most 1000*netconsd*");
    }

    [Theory]
    [InlineData(1001)]
    [InlineData(-1)]
    public void Build_in_place_rejects_a_payload_length_outside_0_to_1000(int length)
    {
        var builder = Ipv4Builder();
        var frame = new byte[2000];

        Action build = () => builder.BuildInPlace(frame, length);

        build.Should().Throw<ArgumentException>().WithParameterName("payloadLength");
    }

    [Fact]
    public void Frame_buffer_too_small_for_the_frame_is_rejected()
    {
        var builder = Ipv4Builder();
        var frame = new byte[builder.HeaderLength + 2];

        Action build = () => builder.Build(Hi, frame);

        build.Should().Throw<ArgumentException>()
            .WithParameterName("frame")
            .WithMessage("The frame buffer is 44 bytes; a frame with a 3-byte payload needs 45*");
    }

    [Fact]
    public void Rejected_build_consumes_no_identification()
    {
        var builder = Ipv4Builder();

        FluentActions.Invoking(() => builder.Build(new byte[1001], new byte[2000])).Should().Throw<ArgumentException>();

        builder.NextIdentification.Should().Be(1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_in_place_around_a_preplaced_payload_equals_build(bool ipv6)
    {
        byte[] payload = Payload(333);
        byte[] built = BuildFrame(Builder(ipv6), payload);

        var builder = Builder(ipv6);
        var frame = new byte[builder.MaxFrameLength];
        payload.CopyTo(frame, builder.HeaderLength);
        int length = builder.BuildInPlace(frame, payload.Length);

        frame[..length].Should().Equal(built);
    }

    [Fact]
    public void Short_frames_are_not_padded_to_the_ethernet_minimum()
    {
        var builder = Ipv4Builder();
        var frame = new byte[100];
        Array.Fill(frame, (byte)0xee);

        int length = builder.Build([], frame);

        length.Should().Be(42, "netpoll leaves padding to the device");
        frame[42..].Should().OnlyContain(b => b == 0xee);
    }

    [Theory]
    [InlineData(false, 42, 1042)]
    [InlineData(true, 62, 1062)]
    public void Header_and_max_frame_lengths_follow_the_address_family(bool ipv6, int headerLength, int maxFrameLength)
    {
        var builder = Builder(ipv6);

        builder.HeaderLength.Should().Be(headerLength);
        builder.MaxFrameLength.Should().Be(maxFrameLength);
        RecordFormatter.MaxDatagramPayload.Should().Be(1000);
    }

    [Fact]
    public void Addresses_of_different_families_are_rejected()
    {
        Action create = () => _ = new FrameBuilder(SourceMac, DestinationMac, Ipv4Source, SourcePort, Ipv6Destination, DestinationPort);

        create.Should().Throw<ArgumentException>()
            .WithParameterName("destination")
            .WithMessage("*2001:db8::2 is not of the same family as the source address 192.0.2.1*");
    }

    [Theory]
    [InlineData(0, 6666)]
    [InlineData(65536, 6666)]
    [InlineData(6665, 0)]
    [InlineData(6665, -1)]
    public void Ports_outside_1_to_65535_are_rejected(int sourcePort, int destinationPort)
    {
        Action create = () => _ = new FrameBuilder(SourceMac, DestinationMac, Ipv4Source, sourcePort, Ipv4Destination, destinationPort);

        create.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Mac_address_not_6_bytes_long_is_rejected()
    {
        var eui64 = new PhysicalAddress([0x02, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01]);

        Action create = () => _ = new FrameBuilder(eui64, DestinationMac, Ipv4Source, SourcePort, Ipv4Destination, DestinationPort);

        create.Should().Throw<ArgumentException>().WithParameterName("sourceMac").WithMessage("*6 bytes*");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_allocates_nothing(bool ipv6)
    {
        var builder = Builder(ipv6);
        byte[] payload = Payload(1000);
        var frame = new byte[builder.MaxFrameLength];
        for (int i = 0; i < 100; i++)
        {
            builder.Build(payload, frame);
            builder.BuildInPlace(frame, 500);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            builder.Build(payload, frame);
            builder.BuildInPlace(frame, 500);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0);
    }

    [Fact]
    public void Random_frames_of_both_families_carry_verifiable_checksums_and_parse_back()
    {
        var gen =
            from ipv6 in Gen.Bool
            from source in Gen.Byte.Array[ipv6 ? 16 : 4]
            from destination in Gen.Byte.Array[ipv6 ? 16 : 4]
            from sourcePort in Gen.Int[1, 65535]
            from destinationPort in Gen.Int[1, 65535]
            from macs in Gen.Byte.Array[12]
            from identification in Gen.UShort
            from payload in Gen.Byte.Array[0, RecordFormatter.MaxDatagramPayload]
            select (source, destination, sourcePort, destinationPort, macs, identification, payload);

        gen.Sample(sample =>
        {
            var (source, destination, sourcePort, destinationPort, macs, identification, payload) = sample;
            var sourceMac = new PhysicalAddress(macs[..6]);
            var destinationMac = new PhysicalAddress(macs[6..]);
            var sourceIp = new IPAddress(source);
            var destinationIp = new IPAddress(destination);
            var builder = new FrameBuilder(sourceMac, destinationMac, sourceIp, sourcePort, destinationIp, destinationPort, identification);

            byte[] frame = BuildFrame(builder, payload);

            FrameReference.UdpChecksumVerifies(frame).Should().BeTrue();
            var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);
            ethernet.SourceHardwareAddress.Should().Be(sourceMac);
            ethernet.DestinationHardwareAddress.Should().Be(destinationMac);
            var ip = ethernet.Extract<IPPacket>();
            ip.SourceAddress.Should().Be(sourceIp);
            ip.DestinationAddress.Should().Be(destinationIp);
            if (sourceIp.AddressFamily == AddressFamily.InterNetwork)
            {
                FrameReference.Ipv4HeaderChecksumVerifies(frame).Should().BeTrue();
                ethernet.Extract<IPv4Packet>().Id.Should().Be(identification);
            }

            var udp = ethernet.Extract<UdpPacket>();
            udp.SourcePort.Should().Be((ushort)sourcePort);
            udp.DestinationPort.Should().Be((ushort)destinationPort);
            // On some well-known ports PacketDotNet dissects the payload as another protocol.
            (udp.PayloadData ?? udp.PayloadPacket?.Bytes ?? []).Should().Equal(payload);
        }, iter: 2000, threads: 1);
    }
}
