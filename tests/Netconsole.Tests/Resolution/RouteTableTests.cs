using System.Net;
using CsCheck;
using Netconsole.Resolution;
using static Netconsole.Tests.Devices.NetlinkBytes;

namespace Netconsole.Tests.Resolution;

// The RTM_GETROUTE request and the parser of its answer, over crafted bytes.
public sealed class RouteTableTests
{
    private const ushort NewRoute = 24;
    private const uint Sequence = 42;

    private static byte[] RouteMessage(byte family, byte type = 1, uint sequence = Sequence, params byte[][] attributes) =>
        Message(NewRoute, Concat([family, (byte)(family == 2 ? 32 : 128), 0, 0, 254, 2, 0, type, 0, 0, 0, 0], Concat(attributes)), sequence);

    private static byte[] Oif(int index) => Attribute(4, I32(index));

    private static byte[] Address(ushort type, string address) => Attribute(type, IPAddress.Parse(address).GetAddressBytes());

    [Fact]
    public void The_request_is_an_RTM_GETROUTE_with_rtmsg_and_RTA_DST()
    {
        byte[] request = RouteTable.BuildRequest(IPAddress.Parse("198.51.100.7"), null, 7);

        request.Should().Equal(Message(26, Concat([2, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Address(1, "198.51.100.7")), 7, 1));
    }

    [Fact]
    public void An_interface_hint_adds_RTA_OIF_and_IPv6_has_dst_len_128()
    {
        byte[] request = RouteTable.BuildRequest(IPAddress.Parse("2001:db8:1::5"), 9, 8);

        request.Should().Equal(Message(26, Concat([10, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Address(1, "2001:db8:1::5"), Oif(9)), 8, 1));
    }

    [Fact]
    public void An_IPv4_mapped_IPv6_destination_is_asked_as_IPv4()
    {
        byte[] request = RouteTable.BuildRequest(IPAddress.Parse("::ffff:192.0.2.9"), null, 1);

        request.Should().Equal(Message(26, Concat([2, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Address(1, "192.0.2.9")), 1, 1));
    }

    [Fact]
    public void A_route_via_a_gateway_gives_interface_gateway_and_source()
    {
        byte[] datagram = RouteMessage(2, 1, Sequence, Attribute(15, U32(254)), Address(1, "198.51.100.7"), Oif(5), Address(7, "192.0.2.1"), Address(5, "192.0.2.2"));

        RouteReply reply = RouteTable.ParseReply(datagram, Sequence);

        reply.Kind.Should().Be(RouteReplyKind.Route);
        reply.Route.Should().Be(new RouteInfo(5, IPAddress.Parse("192.0.2.2"), IPAddress.Parse("192.0.2.1")));
    }

    [Fact]
    public void An_on_link_IPv6_route_has_no_gateway()
    {
        byte[] datagram = RouteMessage(10, 1, Sequence, Address(1, "2001:db8::2"), Oif(3), Address(7, "2001:db8::1"));

        RouteTable.ParseReply(datagram, Sequence).Route.Should().Be(new RouteInfo(3, null, IPAddress.Parse("2001:db8::1")));
    }

    [Fact]
    public void RTA_VIA_gives_an_IPv6_gateway_for_an_IPv4_route()
    {
        byte[] via = Concat(U16(10), IPAddress.Parse("fe80::1").GetAddressBytes());
        byte[] datagram = RouteMessage(2, 1, Sequence, Oif(4), Attribute(18, via));

        RouteTable.ParseReply(datagram, Sequence).Route.Should().Be(new RouteInfo(4, IPAddress.Parse("fe80::1"), null));
    }

    [Fact]
    public void A_local_route_is_a_route()
    {
        byte[] datagram = RouteMessage(2, 2, Sequence, Oif(1), Address(7, "192.0.2.1"));

        RouteTable.ParseReply(datagram, Sequence).Route.Should().Be(new RouteInfo(1, null, IPAddress.Parse("192.0.2.1")));
    }

    [Theory]
    [InlineData(6)] // RTN_BLACKHOLE
    [InlineData(7)] // RTN_UNREACHABLE
    [InlineData(8)] // RTN_PROHIBIT
    public void Routes_that_do_not_forward_are_no_route(byte type)
    {
        RouteReply reply = RouteTable.ParseReply(RouteMessage(10, type, Sequence, Oif(1)), Sequence);

        reply.Kind.Should().Be(RouteReplyKind.NoRoute);
        reply.Route.Should().BeNull();
    }

    [Fact]
    public void An_error_is_no_route_with_its_errno()
    {
        RouteReply reply = RouteTable.ParseReply(Error(101, Sequence), Sequence); // ENETUNREACH

        reply.Should().Be(new RouteReply(RouteReplyKind.NoRoute, null, 101));
    }

    [Fact]
    public void An_acknowledgement_is_not_the_answer()
    {
        RouteTable.ParseReply(Error(0, Sequence), Sequence).Kind.Should().Be(RouteReplyKind.Pending);
    }

    [Fact]
    public void Messages_for_other_requests_are_skipped()
    {
        byte[] datagram = Concat(RouteMessage(2, 1, 41, Oif(9)), Error(101, 43), RouteMessage(2, 1, Sequence, Oif(5)));

        RouteTable.ParseReply(datagram, Sequence).Route!.InterfaceIndex.Should().Be(5);
        RouteTable.ParseReply(RouteMessage(2, 1, 41, Oif(9)), Sequence).Kind.Should().Be(RouteReplyKind.Pending);
    }

    [Fact]
    public void A_route_without_an_interface_or_with_truncated_attributes_is_no_route()
    {
        RouteTable.ParseReply(RouteMessage(2, 1, Sequence, Address(5, "192.0.2.2")), Sequence).Kind.Should().Be(RouteReplyKind.NoRoute);

        byte[] truncated = Message(NewRoute, Concat([2, 32, 0, 0, 254, 2, 0, 1, 0, 0, 0, 0], Oif(5), [12, 0, 5, 0, 192, 0]));
        RouteTable.ParseReply(truncated, 0).Kind.Should().Be(RouteReplyKind.NoRoute);
    }

    [Fact]
    public void A_gateway_of_the_wrong_length_is_ignored()
    {
        byte[] datagram = RouteMessage(2, 1, Sequence, Oif(5), Attribute(5, new byte[16]));

        RouteTable.ParseReply(datagram, Sequence).Route.Should().Be(new RouteInfo(5, null, null));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            FluentActions.Invoking(() => RouteTable.ParseReply(bytes, 0)).Should().NotThrow();
            FluentActions.Invoking(() => RouteTable.ParseRoute(bytes)).Should().NotThrow();
        }, iter: 20_000);
    }

    [Fact]
    public void Corrupted_valid_answers_never_throw()
    {
        byte[] valid = Concat(RouteMessage(2, 1, 0, Oif(5), Address(5, "192.0.2.2"), Attribute(18, Concat(U16(10), new byte[16]))), Error(101));
        ParseCorruptions(valid, datagram =>
            FluentActions.Invoking(() => RouteTable.ParseReply(datagram, 0)).Should().NotThrow());
    }
}
