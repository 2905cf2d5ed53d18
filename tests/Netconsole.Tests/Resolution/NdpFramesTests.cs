using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Resolution;
using Netconsole.Tests.Wire;
using PacketDotNet;
using PacketDotNet.Ndp;

namespace Netconsole.Tests.Resolution;

public class NdpFramesTests
{
    private static readonly PhysicalAddress OurMac = PhysicalAddress.Parse("02-00-5E-10-00-01");
    private static readonly PhysicalAddress TheirMac = PhysicalAddress.Parse("02-00-5E-10-00-02");
    private static readonly IPAddress Ours = IPAddress.Parse("2001:db8::1");
    private static readonly IPAddress Theirs = IPAddress.Parse("2001:db8::a:bc:de02");

    [Fact]
    public void Solicitation_has_the_exact_bytes()
    {
        byte[] frame = NdpFrames.BuildSolicitation(OurMac, Ours, Theirs);
        byte[] expectedWithoutChecksum =
        [
            0x33, 0x33, 0xff, 0xbc, 0xde, 0x02, // solicited-node multicast MAC
            0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, // our MAC
            0x86, 0xdd,
            0x60, 0, 0, 0, 0, 32, 58, 255, // version 6, payload 32, ICMPv6, hop limit 255
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // source
            0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xbc, 0xde, 0x02, // ff02::1:ffbc:de02
            135, 0, 0, 0, 0, 0, 0, 0, // type, code, checksum (zeroed here), reserved
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0xbc, 0xde, 0x02, // target
            1, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, // source link-layer address option
        ];

        frame.Should().HaveCount(NdpFrames.SolicitationLength);
        byte[] zeroed = (byte[])frame.Clone();
        zeroed[56] = 0;
        zeroed[57] = 0;
        zeroed.Should().Equal(expectedWithoutChecksum);
        FrameReference.Word(frame, 56).Should().Be(ReferenceIcmpv6Checksum(frame));
    }

    [Fact]
    public void Solicitation_checksum_matches_an_independent_computation_for_many_targets()
    {
        var random = new Random(6);
        for (int i = 0; i < 200; i++)
        {
            byte[] target = new byte[16];
            random.NextBytes(target);
            byte[] frame = NdpFrames.BuildSolicitation(OurMac, Ours, new IPAddress(target));

            FrameReference.Word(frame, 56).Should().Be(ReferenceIcmpv6Checksum(frame));
        }
    }

    [Fact]
    public void PacketDotNet_reads_the_solicitation_with_a_valid_checksum()
    {
        byte[] frame = NdpFrames.BuildSolicitation(OurMac, Ours, Theirs);

        var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var ipv6 = packet.Extract<IPv6Packet>();
        ipv6.SourceAddress.Should().Be(Ours);
        ipv6.DestinationAddress.Should().Be(IPAddress.Parse("ff02::1:ffbc:de02"));
        ipv6.HopLimit.Should().Be(255);
        var icmp = packet.Extract<IcmpV6Packet>();
        icmp.Type.Should().Be(IcmpV6Type.NeighborSolicitation);
        icmp.Code.Should().Be(0);
        icmp.ValidIcmpChecksum.Should().BeTrue();
        var solicitation = packet.Extract<NdpNeighborSolicitationPacket>();
        solicitation.Should().NotBeNull();
        solicitation.TargetAddress.Should().Be(Theirs);
        solicitation.OptionsCollection.OfType<NdpLinkLayerAddressOption>().Single().LinkLayerAddress.Should().Be(OurMac);
    }

    [Fact]
    public void An_advertisement_for_the_target_gives_its_target_link_layer_address()
    {
        NdpFrames.ParseAdvertisement(Advertisement(TheirMac, Theirs, Ours), Theirs).Should().Be(TheirMac);
    }

    [Fact]
    public void The_target_link_layer_address_is_found_after_other_options()
    {
        byte[] nonce = [14, 1, 1, 2, 3, 4, 5, 6]; // a nonce option (RFC 3971) before it
        NdpFrames.ParseAdvertisement(Advertisement(TheirMac, Theirs, Ours, optionsBefore: nonce), Theirs).Should().Be(TheirMac);
    }

    [Fact]
    public void An_advertisement_for_another_target_is_ignored()
    {
        NdpFrames.ParseAdvertisement(Advertisement(TheirMac, IPAddress.Parse("2001:db8::3"), Ours), Theirs).Should().BeNull();
    }

    [Fact]
    public void An_advertisement_with_a_wrong_checksum_or_hop_limit_is_ignored()
    {
        byte[] badChecksum = Advertisement(TheirMac, Theirs, Ours);
        badChecksum[57] ^= 0x01;
        byte[] badHopLimit = Advertisement(TheirMac, Theirs, Ours, hopLimit: 64);

        NdpFrames.ParseAdvertisement(badChecksum, Theirs).Should().BeNull();
        NdpFrames.ParseAdvertisement(badHopLimit, Theirs).Should().BeNull();
    }

    [Fact]
    public void An_advertisement_without_the_option_or_with_a_zero_length_option_is_ignored()
    {
        NdpFrames.ParseAdvertisement(Advertisement(TheirMac, Theirs, Ours, withOption: false), Theirs).Should().BeNull();
        NdpFrames.ParseAdvertisement(Advertisement(TheirMac, Theirs, Ours, optionsBefore: [14, 0, 0, 0, 0, 0, 0, 0]), Theirs)
            .Should().BeNull();
    }

    [Fact]
    public void Our_solicitation_and_truncated_frames_are_ignored()
    {
        byte[] advertisement = Advertisement(TheirMac, Theirs, Ours);

        NdpFrames.ParseAdvertisement(NdpFrames.BuildSolicitation(OurMac, Ours, Theirs), Theirs).Should().BeNull();
        NdpFrames.ParseAdvertisement(advertisement.AsSpan(0, advertisement.Length - 1), Theirs).Should().BeNull();
        NdpFrames.ParseAdvertisement(advertisement.AsSpan(0, 60), Theirs).Should().BeNull();
        NdpFrames.ParseAdvertisement([], Theirs).Should().BeNull();
    }

    [Fact]
    public void Solicitation_refuses_ipv4_addresses()
    {
        FluentActions.Invoking(() => NdpFrames.BuildSolicitation(OurMac, IPAddress.Parse("192.0.2.1"), Theirs)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => NdpFrames.BuildSolicitation(OurMac, Ours, IPAddress.Parse("192.0.2.2"))).Should().Throw<ArgumentException>();
    }

    /// <summary>A solicited Neighbor Advertisement built byte by byte, with the reference checksum.</summary>
    internal static byte[] Advertisement(
        PhysicalAddress from, IPAddress target, IPAddress to, byte hopLimit = 255, bool withOption = true, byte[]? optionsBefore = null)
    {
        byte[] options = [.. optionsBefore ?? [], .. withOption ? (byte[])[2, 1, .. from.GetAddressBytes()] : []];
        int icmpLength = 24 + options.Length;
        byte[] frame =
        [
            .. OurMac.GetAddressBytes(), .. from.GetAddressBytes(), 0x86, 0xdd,
            0x60, 0, 0, 0, (byte)(icmpLength >> 8), (byte)icmpLength, 58, hopLimit,
            .. target.GetAddressBytes(), .. to.GetAddressBytes(),
            136, 0, 0, 0, 0x60, 0, 0, 0, // solicited + override
            .. target.GetAddressBytes(),
            .. options,
        ];
        ushort checksum = ReferenceIcmpv6Checksum(frame);
        frame[56] = (byte)(checksum >> 8);
        frame[57] = (byte)checksum;
        return frame;
    }

    /// <summary>The ICMPv6 checksum computed from scratch: the byte-wise reference over the pseudo-header and the message with its checksum zeroed.</summary>
    private static ushort ReferenceIcmpv6Checksum(byte[] frame)
    {
        byte[] icmp = frame[54..];
        icmp[2] = 0;
        icmp[3] = 0;
        byte[] pseudo =
        [
            .. frame[22..38], .. frame[38..54],
            0, 0, (byte)(icmp.Length >> 8), (byte)icmp.Length, 0, 0, 0, 58,
        ];
        return FrameReference.InternetChecksum([.. pseudo, .. icmp]);
    }
}
