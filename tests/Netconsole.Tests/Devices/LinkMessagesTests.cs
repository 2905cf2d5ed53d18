using System.Net.NetworkInformation;
using CsCheck;
using Netconsole.Devices;
using Netconsole.Interop;
using static Netconsole.Tests.Devices.NetlinkBytes;

namespace Netconsole.Tests.Devices;

// The link-message parser over crafted bytes (on the shared netlink reader): what the watcher reads from its socket.
public sealed class LinkMessagesTests
{
    private static readonly byte[] Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    private static byte[] UnpaddedLink(int index, string name)
    {
        byte[] info = Link(NewLink, index, name, mac: null)[16..32];
        byte[] payload = Concat(info, NetlinkBytes.Attribute(3, [.. System.Text.Encoding.UTF8.GetBytes(name), 0]), NetlinkBytes.Attribute(1, Mac)[..10]);
        return NetlinkBytes.Message(NewLink, payload);
    }

    private static (List<LinkMessage> Messages, int Malformed) Parse(byte[] datagram)
    {
        var messages = new List<LinkMessage>();
        int malformed = LinkMessages.Parse(datagram, messages);
        return (messages, malformed);
    }

    [Fact]
    public void A_new_link_message_gives_index_name_mac_and_flags()
    {
        (List<LinkMessage> messages, int malformed) = Parse(Link(NewLink, 7, "veth0", Mac, Up | Running));

        malformed.Should().Be(0);
        messages.Should().ContainSingle();
        LinkMessage message = messages[0];
        message.Kind.Should().Be(LinkMessageKind.Link);
        message.Link.Should().Be(new LinkInfo(7, "veth0", new PhysicalAddress(Mac), (InterfaceFlags)(Up | Running)));
        message.Link!.IsUp.Should().BeTrue();
        message.Link.IsRunning.Should().BeTrue();
    }

    [Fact]
    public void A_del_link_message_is_a_deleted_link()
    {
        (List<LinkMessage> messages, int malformed) = Parse(Link(DelLink, 9, "gone", Mac, 0));

        malformed.Should().Be(0);
        messages.Should().ContainSingle().Which.Kind.Should().Be(LinkMessageKind.LinkDeleted);
        messages[0].Link!.Index.Should().Be(9);
    }

    [Fact]
    public void Running_is_IFF_RUNNING_not_IFF_LOWER_UP()
    {
        LinkInfo carrierOnly = Parse(Link(NewLink, 3, "d", Mac, Up | LowerUp)).Messages[0].Link!;
        LinkInfo running = Parse(Link(NewLink, 3, "d", Mac, Up | Running)).Messages[0].Link!;

        carrierOnly.IsRunning.Should().BeFalse();
        running.IsRunning.Should().BeTrue();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(16)]
    public void A_mac_that_is_not_6_bytes_is_empty(int length)
    {
        LinkInfo link = Parse(Link(NewLink, 3, "tun0", new byte[length])).Messages[0].Link!;

        link.Mac.GetAddressBytes().Should().BeEmpty();
    }

    [Fact]
    public void A_link_without_an_address_attribute_has_an_empty_mac()
    {
        Parse(Link(NewLink, 3, "tun0", mac: null)).Messages[0].Link!.Mac.Should().Be(PhysicalAddress.None);
    }

    [Fact]
    public void Several_messages_in_one_datagram_come_out_in_order()
    {
        byte[] datagram = Concat(
            Link(NewLink, 1, "lo", new byte[6], sequence: 5, messageFlags: 2),
            Link(NewLink, 2, "eth9", Mac, sequence: 5, messageFlags: 2),
            Done(5));

        (List<LinkMessage> messages, int malformed) = Parse(datagram);

        malformed.Should().Be(0);
        messages.Select(m => m.Kind).Should().Equal(LinkMessageKind.Link, LinkMessageKind.Link, LinkMessageKind.Done);
        messages.Select(m => m.Link?.Name).Should().Equal("lo", "eth9", null);
        messages.Should().OnlyContain(m => m.Sequence == 5);
    }

    [Fact]
    public void An_error_message_carries_the_errno()
    {
        LinkMessage message = Parse(Error(105, sequence: 3)).Messages.Single();

        message.Kind.Should().Be(LinkMessageKind.Error);
        message.Error.Should().Be(-105);
        message.Sequence.Should().Be(3);
    }

    [Fact]
    public void An_error_message_too_short_for_the_errno_is_malformed()
    {
        (List<LinkMessage> messages, int malformed) = Parse(Message(2, [1, 2]));

        messages.Should().BeEmpty();
        malformed.Should().Be(1);
    }

    [Fact]
    public void Bridge_port_messages_are_not_device_changes()
    {
        // AF_BRIDGE RTM_DELLINK: a port left its bridge, the device itself still exists.
        LinkMessage message = Parse(Link(DelLink, 4, "port0", Mac, family: 7)).Messages.Single();

        message.Kind.Should().Be(LinkMessageKind.Other);
        message.Link.Should().BeNull();
    }

    [Fact]
    public void Unknown_message_types_are_skipped_without_counting()
    {
        (List<LinkMessage> messages, int malformed) = Parse(Concat(Message(20, new byte[12]), Link(NewLink, 2, "a", Mac)));

        malformed.Should().Be(0);
        messages.Select(m => m.Kind).Should().Equal(LinkMessageKind.Other, LinkMessageKind.Link);
    }

    [Fact]
    public void A_datagram_shorter_than_a_header_is_malformed()
    {
        (List<LinkMessage> messages, int malformed) = Parse(new byte[10]);

        messages.Should().BeEmpty();
        malformed.Should().Be(1);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(15u)]
    [InlineData(1000u)]
    public void A_header_length_that_cannot_be_true_skips_the_rest(uint length)
    {
        byte[] first = Link(NewLink, 2, "a", Mac);
        U32(length).CopyTo(first, 0);

        (List<LinkMessage> messages, int malformed) = Parse(Concat(first, Link(NewLink, 3, "b", Mac)));

        messages.Should().BeEmpty();
        malformed.Should().Be(1);
    }

    [Fact]
    public void A_truncated_link_message_is_malformed()
    {
        byte[] truncated = Message(NewLink, new byte[10]);

        (List<LinkMessage> messages, int malformed) = Parse(Concat(truncated, Link(NewLink, 3, "b", Mac)));

        malformed.Should().Be(1);
        messages.Should().ContainSingle().Which.Link!.Name.Should().Be("b", "the next message is still read");
    }

    [Fact]
    public void A_datagram_cut_in_the_middle_of_a_message_keeps_the_complete_ones()
    {
        byte[] whole = Concat(Link(NewLink, 2, "a", Mac), Link(NewLink, 3, "b", Mac));

        (List<LinkMessage> messages, int malformed) = Parse(whole[..^8]);

        messages.Should().ContainSingle().Which.Link!.Name.Should().Be("a");
        malformed.Should().Be(1);
    }

    [Theory]
    [InlineData((ushort)0)]
    [InlineData((ushort)3)]
    [InlineData((ushort)200)]
    public void An_attribute_with_a_bad_length_makes_its_message_malformed(ushort attributeLength)
    {
        byte[] message = Link(NewLink, 2, "a", Mac);
        U16(attributeLength).CopyTo(message, 32); // the first rtattr, after nlmsghdr and ifinfomsg

        (List<LinkMessage> messages, int malformed) = Parse(Concat(message, Link(NewLink, 3, "b", Mac)));

        malformed.Should().Be(1);
        messages.Should().ContainSingle().Which.Link!.Name.Should().Be("b");
    }

    [Fact]
    public void An_unaligned_message_length_is_followed_by_the_next_message_at_the_aligned_offset()
    {
        // ifinfomsg, IFLA_IFNAME "abc\0", then IFLA_ADDRESS unpadded: nlmsg_len 50, the next message at 52.
        byte[] unaligned = UnpaddedLink(2, "abc");
        BitConverter.ToUInt32(unaligned).Should().Be(50u);
        unaligned.Length.Should().Be(52);

        (List<LinkMessage> messages, int malformed) = Parse(Concat(unaligned, Link(NewLink, 3, "b", Mac)));

        malformed.Should().Be(0);
        messages.Select(m => (m.Link!.Index, m.Link.Name, m.Link.Mac)).Should().Equal(
            (2, "abc", new PhysicalAddress(Mac)), (3, "b", new PhysicalAddress(Mac)));
    }

    [Fact]
    public void A_last_message_without_its_padding_is_still_read()
    {
        (List<LinkMessage> messages, int malformed) = Parse(UnpaddedLink(2, "abc")[..50]);

        malformed.Should().Be(0);
        messages.Single().Link!.Name.Should().Be("abc");
    }

    [Fact]
    public void An_attribute_running_past_its_message_makes_it_malformed()
    {
        byte[] message = Link(NewLink, 2, "a", Mac);
        U32((uint)message.Length - 2).CopyTo(message, 0); // the last attribute (IFLA_MTU) now overruns

        (List<LinkMessage> messages, int malformed) = Parse(Concat(message, Link(NewLink, 3, "b", Mac)));

        malformed.Should().Be(1);
        messages.Should().ContainSingle().Which.Link!.Name.Should().Be("b");
    }

    [Fact]
    public void A_link_without_a_name_is_malformed()
    {
        Parse(Link(NewLink, 2, name: null, Mac)).Malformed.Should().Be(1);
        Parse(Link(NewLink, 2, name: "", Mac)).Malformed.Should().Be(1);
    }

    [Fact]
    public void A_link_with_index_zero_is_malformed()
    {
        Parse(Link(NewLink, 0, "a", Mac)).Malformed.Should().Be(1);
    }

    [Fact]
    public void The_dump_request_is_RTM_GETLINK_with_request_and_dump_flags()
    {
        byte[] request = LinkMessages.GetLinkDumpRequest(42);

        request.Should().Equal(Concat(
            U32(32), U16(18), U16(0x301), U32(42), U32(0),
            new byte[16]));
    }

    [Fact]
    public void Random_bytes_never_throw_and_every_message_is_either_parsed_or_counted()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var messages = new List<LinkMessage>();
            int malformed = LinkMessages.Parse(bytes, messages);
            malformed.Should().BeGreaterThanOrEqualTo(0);
            (messages.Count + malformed > 0 || bytes.Length == 0).Should().BeTrue();
        }, iter: 20_000);
    }

    [Fact]
    public void Corrupted_valid_datagrams_never_throw()
    {
        byte[] valid = Concat(Link(NewLink, 1, "lo", new byte[6]), Link(DelLink, 2, "veth1", Mac), Done(1), Error(1));
        ParseCorruptions(valid, datagram =>
        {
            var messages = new List<LinkMessage>();
            FluentActions.Invoking(() => LinkMessages.Parse(datagram, messages)).Should().NotThrow();
        });
    }
}
