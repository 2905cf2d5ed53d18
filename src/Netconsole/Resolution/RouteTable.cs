using System.Net;
using System.Runtime.Versioning;
using Netconsole.Interop;
using Netconsole.Netlink;

namespace Netconsole.Resolution;

/// <summary>The kernel's route to one destination.</summary>
/// <param name="InterfaceIndex">RTA_OIF: the output interface.</param>
/// <param name="Gateway">RTA_GATEWAY (or RTA_VIA): the next hop when the destination is not on-link; null when it is.</param>
/// <param name="PreferredSource">RTA_PREFSRC: the source address the kernel would use; null when it gives none.</param>
internal sealed record RouteInfo(int InterfaceIndex, IPAddress? Gateway, IPAddress? PreferredSource);

/// <summary>What one datagram says about a route request.</summary>
internal enum RouteReplyKind
{
    /// <summary>Nothing for this request (other sequence numbers, other types): keep reading.</summary>
    Pending,

    /// <summary>The route (RTM_NEWROUTE for a unicast or local route).</summary>
    Route,

    /// <summary>No usable route: NLMSG_ERROR (ENETUNREACH...), or a route of another type (unreachable, blackhole, prohibit...) or without an output interface.</summary>
    NoRoute,
}

/// <summary>The answer to a route request as far as one datagram tells it.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Route">For <see cref="RouteReplyKind.Route"/>: the route.</param>
/// <param name="Error">For an NLMSG_ERROR: the (positive) errno; otherwise 0.</param>
internal readonly record struct RouteReply(RouteReplyKind Kind, RouteInfo? Route, int Error);

/// <summary>
/// Route lookups through rtnetlink (Linux): one RTM_GETROUTE request per lookup, answered by the
/// kernel's own route resolution (policy rules, tables, metrics), like <c>ip route get</c>.
/// </summary>
internal static class RouteTable
{
    public const ushort TypeNewRoute = 24;  // RTM_NEWROUTE
    public const ushort TypeGetRoute = 26;  // RTM_GETROUTE
    public const ushort AttributeDestination = 1;     // RTA_DST
    public const ushort AttributeOutputInterface = 4; // RTA_OIF
    public const ushort AttributeGateway = 5;         // RTA_GATEWAY
    public const ushort AttributePreferredSource = 7; // RTA_PREFSRC
    public const ushort AttributeVia = 18;            // RTA_VIA (struct rtvia: family, address)
    public const byte RouteTypeUnicast = 1;           // RTN_UNICAST
    public const byte RouteTypeLocal = 2;             // RTN_LOCAL
    public const int RouteMessageLength = 12;         // struct rtmsg

    /// <summary>
    /// The kernel's route to <paramref name="destination"/> (an IPv4-mapped IPv6 address counts as
    /// IPv4), optionally constrained to an output interface (RTA_OIF). An IPv6 address with a
    /// scope id and no interface given is looked up on the scope's interface.
    /// </summary>
    /// <returns>The route, or null when there is none (the kernel answers with an error such as ENETUNREACH, or with an unreachable, blackhole or prohibit route).</returns>
    /// <exception cref="ArgumentException">The destination is neither IPv4 nor IPv6.</exception>
    /// <exception cref="IOException">The netlink socket failed or the kernel did not answer in time.</exception>
    [SupportedOSPlatform("linux")]
    public static RouteInfo? Lookup(IPAddress destination, int? outputInterfaceIndex = null)
    {
        if (outputInterfaceIndex is null && destination is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6, ScopeId: > 0 and <= int.MaxValue })
        {
            outputInterfaceIndex = (int)destination.ScopeId;
        }

        uint sequence = NetlinkExchange.NextSequence();
        byte[] request = BuildRequest(destination, outputInterfaceIndex, sequence);
        RouteReply reply = default;
        NetlinkExchange.Run(
            request,
            datagram =>
            {
                reply = ParseReply(datagram, sequence);
                return reply.Kind != RouteReplyKind.Pending;
            },
            NetlinkExchange.DefaultTimeout);
        return reply.Route;
    }

    /// <summary>An RTM_GETROUTE request for one destination (rtmsg with a full-length dst_len, RTA_DST, optionally RTA_OIF).</summary>
    /// <exception cref="ArgumentException">The destination is neither IPv4 nor IPv6.</exception>
    public static byte[] BuildRequest(IPAddress destination, int? outputInterfaceIndex, uint sequence)
    {
        (byte family, IPAddress address) = RtnetlinkAddresses.Normalize(destination, nameof(destination));
        byte[] addressBytes = address.GetAddressBytes();
        int bodyLength = RouteMessageLength + NetlinkWriter.AttributeLength(addressBytes.Length)
            + (outputInterfaceIndex is null ? 0 : NetlinkWriter.AttributeLength(sizeof(int)));
        byte[] request = NetlinkWriter.Request(TypeGetRoute, NetlinkProtocol.FlagRequest, sequence, bodyLength);
        Span<byte> span = request;

        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (u32).
        Span<byte> message = span[NetlinkProtocol.HeaderLength..];
        message[0] = family;
        message[1] = (byte)(addressBytes.Length * 8);
        int offset = NetlinkProtocol.HeaderLength + RouteMessageLength;
        offset += NetlinkWriter.WriteAttribute(span[offset..], AttributeDestination, addressBytes);
        if (outputInterfaceIndex is { } index)
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            NetlinkWriter.WriteInt32(value, index);
            NetlinkWriter.WriteAttribute(span[offset..], AttributeOutputInterface, value);
        }

        return request;
    }

    /// <summary>
    /// What one received datagram says about the request with <paramref name="sequence"/>. Never
    /// throws: messages for other requests, of other types or malformed are skipped (a malformed
    /// RTM_NEWROUTE for this request is <see cref="RouteReplyKind.NoRoute"/>).
    /// </summary>
    public static RouteReply ParseReply(ReadOnlySpan<byte> datagram, uint sequence)
    {
        var messages = new NetlinkMessageReader(datagram);
        while (messages.Next(out NetlinkMessage message))
        {
            if (message.Sequence != sequence)
            {
                continue;
            }

            if (message.Error is { } error)
            {
                if (error != 0)
                {
                    return new RouteReply(RouteReplyKind.NoRoute, null, error);
                }

                continue;
            }

            if (message.Type == TypeNewRoute)
            {
                RouteInfo? route = ParseRoute(message.Payload);
                return route is null
                    ? new RouteReply(RouteReplyKind.NoRoute, null, 0)
                    : new RouteReply(RouteReplyKind.Route, route, 0);
            }
        }

        return new RouteReply(RouteReplyKind.Pending, null, 0);
    }

    /// <summary>The route in an RTM_NEWROUTE payload (rtmsg and attributes); null when malformed (truncated attributes included), not unicast or local, or without an output interface.</summary>
    public static RouteInfo? ParseRoute(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < RouteMessageLength)
        {
            return null;
        }

        byte family = payload[0];
        byte routeType = payload[7];
        if (family is not (SocketConstants.AddressFamilyIPv4 or SocketConstants.AddressFamilyIPv6) || routeType is not (RouteTypeUnicast or RouteTypeLocal))
        {
            return null;
        }

        int? outputInterface = null;
        IPAddress? gateway = null;
        IPAddress? preferredSource = null;
        var attributes = new NetlinkAttributeReader(payload[RouteMessageLength..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            switch (type)
            {
                case AttributeOutputInterface when value.Length == 4:
                    outputInterface = NetlinkReader.ReadInt32(value);
                    break;
                case AttributeGateway:
                    gateway = RtnetlinkAddresses.ToAddress(family, value);
                    break;
                case AttributeVia when value.Length >= 2:
                    // struct rtvia: rtvia_family (u16, AF_INET / AF_INET6), then the address.
                    ushort viaFamily = NetlinkReader.ReadUInt16(value);
                    gateway = viaFamily <= byte.MaxValue ? RtnetlinkAddresses.ToAddress((byte)viaFamily, value[2..]) : null;
                    break;
                case AttributePreferredSource:
                    preferredSource = RtnetlinkAddresses.ToAddress(family, value);
                    break;
                default:
                    break;
            }
        }

        // A truncated attribute list cannot be trusted; without an interface there is no route.
        return !attributes.Malformed && outputInterface is > 0 ? new RouteInfo(outputInterface.Value, gateway, preferredSource) : null;
    }
}
