using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Resolution;
using PacketDotNet;

namespace Netconsole.Tests.Resolution;

public class ArpFramesTests
{
    private static readonly PhysicalAddress OurMac = PhysicalAddress.Parse("02-00-5E-10-00-01");
    private static readonly PhysicalAddress TheirMac = PhysicalAddress.Parse("02-00-5E-10-00-02");
    private static readonly IPAddress Ours = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Theirs = IPAddress.Parse("192.0.2.2");

    [Fact]
    public void Request_has_the_exact_bytes()
    {
        byte[] frame = ArpFrames.BuildRequest(OurMac, Ours, Theirs);

        frame.Should().Equal(
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // broadcast
            0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, // our MAC
            0x08, 0x06, // ARP
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet, IPv4, 6, 4, request
            0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 192, 0, 2, 1, // sender
            0, 0, 0, 0, 0, 0, 192, 0, 2, 2); // target
        frame.Should().HaveCount(ArpFrames.RequestLength);
    }

    [Fact]
    public void PacketDotNet_reads_the_request_as_an_arp_request()
    {
        var packet = Packet.ParsePacket(LinkLayers.Ethernet, ArpFrames.BuildRequest(OurMac, Ours, Theirs));

        var ethernet = (EthernetPacket)packet;
        ethernet.DestinationHardwareAddress.Should().Be(PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"));
        ethernet.SourceHardwareAddress.Should().Be(OurMac);
        var arp = packet.Extract<ArpPacket>();
        arp.Should().NotBeNull();
        arp.Operation.Should().Be(ArpOperation.Request);
        arp.SenderHardwareAddress.Should().Be(OurMac);
        arp.SenderProtocolAddress.Should().Be(Ours);
        arp.TargetHardwareAddress.Should().Be(PhysicalAddress.Parse("00-00-00-00-00-00"));
        arp.TargetProtocolAddress.Should().Be(Theirs);
    }

    [Fact]
    public void A_reply_from_the_target_gives_its_sender_mac()
    {
        byte[] reply = Reply(TheirMac, Theirs, OurMac, Ours);

        ArpFrames.ParseReply(reply, Theirs).Should().Be(TheirMac);
    }

    [Fact]
    public void A_reply_padded_to_the_ethernet_minimum_is_read()
    {
        byte[] reply = [.. Reply(TheirMac, Theirs, OurMac, Ours), .. new byte[18]];

        ArpFrames.ParseReply(reply, Theirs).Should().Be(TheirMac);
    }

    [Fact]
    public void A_reply_from_another_address_is_ignored()
    {
        byte[] reply = Reply(TheirMac, IPAddress.Parse("192.0.2.3"), OurMac, Ours);

        ArpFrames.ParseReply(reply, Theirs).Should().BeNull();
    }

    [Fact]
    public void A_request_from_the_target_is_not_a_reply()
    {
        byte[] request = ArpFrames.BuildRequest(TheirMac, Theirs, Ours);

        ArpFrames.ParseReply(request, Theirs).Should().BeNull();
    }

    [Fact]
    public void Our_own_request_is_not_a_reply()
    {
        ArpFrames.ParseReply(ArpFrames.BuildRequest(OurMac, Ours, Theirs), Theirs).Should().BeNull();
    }

    [Fact]
    public void Truncated_and_non_arp_frames_are_ignored()
    {
        byte[] reply = Reply(TheirMac, Theirs, OurMac, Ours);
        byte[] ipv4 = (byte[])reply.Clone();
        ipv4[12] = 0x08;
        ipv4[13] = 0x00;

        ArpFrames.ParseReply(reply.AsSpan(0, 41), Theirs).Should().BeNull();
        ArpFrames.ParseReply(ipv4, Theirs).Should().BeNull();
        ArpFrames.ParseReply([], Theirs).Should().BeNull();
    }

    [Fact]
    public void A_reply_claiming_a_broadcast_or_zero_mac_is_ignored()
    {
        ArpFrames.ParseReply(Reply(PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"), Theirs, OurMac, Ours), Theirs).Should().BeNull();
        ArpFrames.ParseReply(Reply(PhysicalAddress.Parse("00-00-00-00-00-00"), Theirs, OurMac, Ours), Theirs).Should().BeNull();
    }

    [Fact]
    public void Request_refuses_ipv6_addresses_and_odd_macs()
    {
        FluentActions.Invoking(() => ArpFrames.BuildRequest(OurMac, IPAddress.Parse("2001:db8::1"), Theirs)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ArpFrames.BuildRequest(OurMac, Ours, IPAddress.Parse("2001:db8::2"))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ArpFrames.BuildRequest(PhysicalAddress.None, Ours, Theirs)).Should().Throw<ArgumentException>();
    }

    /// <summary>An ARP reply built by PacketDotNet, independently of <see cref="ArpFrames"/>.</summary>
    internal static byte[] Reply(PhysicalAddress senderMac, IPAddress sender, PhysicalAddress targetMac, IPAddress target)
    {
        var ethernet = new EthernetPacket(senderMac, targetMac, EthernetType.Arp)
        {
            PayloadPacket = new ArpPacket(ArpOperation.Response, targetMac, target, senderMac, sender),
        };
        return ethernet.Bytes;
    }
}
