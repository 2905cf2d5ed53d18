using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using Netconsole.Devices;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Resolution;

/// <summary>
/// The MAC a target's frames go to when the target gives none: the next hop (the remote itself
/// when on-link, else the route's gateway; off Linux, without a route lookup, the device's gateway
/// when the remote is on none of its prefixes), looked up in the OS neighbour table first (Linux), then
/// asked with ARP (IPv4) or a Neighbor Solicitation (IPv6) through the target's transport;
/// broadcast only as the last resort, with a warning. Runs when a target is enabled or resumed,
/// never on the send path. A transport that cannot receive frames is never asked: the reason
/// says so.
/// </summary>
internal static class NextHop
{
    /// <summary>How long each active request waits for its answer.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>How many active requests are sent before giving up (so at most ~0.9 s).</summary>
    internal const int Attempts = 3;

    /// <summary>What asking the next hop gave.</summary>
    private enum Asked
    {
        /// <summary>It answered.</summary>
        Answered,

        /// <summary>Nothing answered in time, or the request could not be sent.</summary>
        Unanswered,

        /// <summary>The transport cannot receive frames: nothing was sent.</summary>
        NotPossible,
    }

    /// <summary>The default resolver: <see cref="Resolve(NextHopQuery)"/>, or <see cref="Recheck"/> for a re-check.</summary>
    public static NextHopAnswer Default(NextHopQuery query, bool recheck) => recheck ? Recheck(query) : Resolve(query);

    /// <summary>
    /// Resolves the destination MAC when a target is set up: any usable neighbour-table entry, then
    /// ARP / neighbour solicitation, then broadcast with a warning (so the MAC is never null).
    /// </summary>
    /// <returns>The MAC and a note for the target's state reason.</returns>
    public static NextHopAnswer Resolve(NextHopQuery query)
    {
        IPAddress hop = HopOf(query);
        if (FromTable(query, hop, NeighbourTable.UsableStates) is { } known)
        {
            return new(known, $"next hop {hop} is {MacAddressText.Format(known)} (neighbour table)");
        }

        return Ask(query, hop, out PhysicalAddress? answered, out string notPossible) switch
        {
            Asked.Answered => new(answered, $"next hop {hop} is {MacAddressText.Format(answered!)} ({Protocol(hop)})"),
            Asked.NotPossible => new(Ethernet.Broadcast, $"warning: next hop {hop} is not in the neighbour table, and {Protocol(hop)} {notPossible}: "
                + "sending to broadcast, which switches may drop; give the remote MAC in the target"),
            _ => new(Ethernet.Broadcast, $"warning: next hop {hop} did not answer {Protocol(hop)} ({Attempts} x {RequestTimeout.TotalMilliseconds:0} ms): "
                + "sending to broadcast, which switches may drop; give the remote MAC in the target"),
        };
    }

    /// <summary>
    /// Re-checks a next hop whose MAC may have changed: only a confirmed neighbour-table entry
    /// (REACHABLE, PERMANENT, NOARP) is trusted as it is; otherwise the next hop is asked, and only
    /// when it does not answer (or cannot be asked) does a STALE entry count.
    /// </summary>
    /// <returns>The MAC found and how, or a null MAC when nothing is known (the caller keeps what it has).</returns>
    public static NextHopAnswer Recheck(NextHopQuery query)
    {
        IPAddress hop = HopOf(query);
        if (FromTable(query, hop, NeighbourTable.ConfirmedStates) is { } confirmed)
        {
            return new(confirmed, $"next hop {hop} is {MacAddressText.Format(confirmed)} (neighbour table, re-checked)");
        }

        Asked asked = Ask(query, hop, out PhysicalAddress? answered, out string notPossible);
        if (asked == Asked.Answered)
        {
            return new(answered, $"next hop {hop} is {MacAddressText.Format(answered!)} ({Protocol(hop)}, re-checked)");
        }

        string why = asked == Asked.NotPossible ? $"{Protocol(hop)} {notPossible}" : $"{Protocol(hop)} unanswered";
        if (FromTable(query, hop, NeighbourTable.UsableStates) is { } stale)
        {
            return new(stale, $"next hop {hop} is {MacAddressText.Format(stale)} (neighbour table, unconfirmed: {why})");
        }

        return asked == Asked.NotPossible
            ? new(null, $"next hop {hop} could not be re-checked: not in the neighbour table, and {why}")
            : new(null, $"next hop {hop} did not answer {Protocol(hop)} when re-checked");
    }

    private static string Protocol(IPAddress hop) => hop.AddressFamily == AddressFamily.InterNetwork ? "ARP" : "neighbour solicitation";

    private static string NotPossibleWith(NextHopQuery query) =>
        $"is not possible with {query.Transport.GetType().Name}, which cannot receive frames";

    // The remote when on-link, else the route's gateway.
    private static IPAddress HopOf(NextHopQuery query)
    {
        if (!HostPlatform.IsLinux)
        {
            return NetworkDevice.GetPrefixesAndGateways(query.DeviceIndex) is { } known
                ? ChooseHop(query.Remote, known.Prefixes, known.Gateways)
                : query.Remote;
        }

        try
        {
            if (RouteTable.Lookup(query.Remote, query.DeviceIndex)?.Gateway is { } gateway)
            {
                return gateway;
            }
        }
        catch (IOException)
        {
            // No route information: treat the remote as on-link, as the kernel's netconsole would send to it.
        }

        return query.Remote;
    }

    /// <summary>
    /// The next hop without a route lookup (off Linux): the remote when it is on one of the
    /// device's prefixes (or IPv6 link-local), else the device's first gateway of the remote's
    /// family, else the remote (nothing better is known: as the kernel's netconsole, send to it).
    /// The system's routing policy (several routes, metrics) is not seen.
    /// </summary>
    internal static IPAddress ChooseHop(IPAddress remote, IEnumerable<(IPAddress Address, int PrefixLength)> prefixes, IEnumerable<IPAddress> gateways)
    {
        if (remote.IsIPv6LinkLocal)
        {
            return remote;
        }

        foreach ((IPAddress address, int prefixLength) in prefixes)
        {
            if (address.AddressFamily == remote.AddressFamily && SamePrefix(remote, address, prefixLength))
            {
                return remote;
            }
        }

        foreach (IPAddress gateway in gateways)
        {
            if (gateway.AddressFamily == remote.AddressFamily && !gateway.Equals(IPAddress.Any) && !gateway.Equals(IPAddress.IPv6Any))
            {
                return gateway;
            }
        }

        return remote;
    }

    private static bool SamePrefix(IPAddress a, IPAddress b, int prefixLength)
    {
        byte[] x = a.GetAddressBytes();
        byte[] y = b.GetAddressBytes();
        if (prefixLength <= 0 || prefixLength > x.Length * 8)
        {
            return false; // a length the system did not know: claim nothing on-link
        }

        int whole = prefixLength / 8;
        if (!x.AsSpan(0, whole).SequenceEqual(y.AsSpan(0, whole)))
        {
            return false;
        }

        int rest = prefixLength % 8;
        int mask = (0xff << (8 - rest)) & 0xff;
        return rest == 0 || (x[whole] & mask) == (y[whole] & mask);
    }

    private static PhysicalAddress? FromTable(NextHopQuery query, IPAddress hop, ushort states)
    {
        if (!HostPlatform.IsLinux)
        {
            return null; // no neighbour table to read: ask the next hop itself
        }

        try
        {
            return NeighbourTable.Lookup(query.DeviceIndex, hop, states);
        }
        catch (IOException)
        {
            return null; // ask the next hop itself
        }
    }

    // The capture is opened before the first request leaves, so no reply can be missed. When
    // asking is not possible, `notPossible` says why (after the protocol's name).
    private static Asked Ask(NextHopQuery query, IPAddress hop, out PhysicalAddress? mac, out string notPossible)
    {
        mac = null;
        notPossible = NotPossibleWith(query);
        try
        {
            IFrameCapture? opened;
            try
            {
                opened = query.Transport.OpenCapture();
            }
            catch (FrameTransportException e) when (e.Error == FrameTransportError.LibpcapMissing)
            {
                // The packet-socket transport sends without libpcap, but its captures need it.
                notPossible = "is not possible without libpcap, which captures the replies (install libpcap0.8, or libpcap)";
                return Asked.NotPossible;
            }

            using IFrameCapture? capture = opened;
            if (capture is null)
            {
                return Asked.NotPossible;
            }

            mac = ActiveResolver.Resolve(query.Transport, capture, query.SourceMac, query.Local, hop, RequestTimeout, Attempts);
            return mac is null ? Asked.Unanswered : Asked.Answered;
        }
        catch (FrameTransportException)
        {
            return Asked.Unanswered; // the device could not be asked
        }
    }
}

/// <summary>What a target's next hop is resolved from, kept with its session so it can be re-checked.</summary>
/// <param name="DeviceIndex">The interface the target sends on.</param>
/// <param name="SourceMac">The device's MAC: the source of ARP / NDP requests.</param>
/// <param name="Local">The target's local address.</param>
/// <param name="Remote">The target's remote address.</param>
/// <param name="Transport">The target's transport: ARP / NDP requests go out through it, replies come from its capture.</param>
internal sealed record NextHopQuery(int DeviceIndex, PhysicalAddress SourceMac, IPAddress Local, IPAddress Remote, IFrameTransport Transport);

/// <summary>A resolved (or not) next-hop MAC and how it was found, for the target's state reason.</summary>
/// <param name="Mac">The MAC; null only from a re-check that learned nothing.</param>
/// <param name="Note">How it was found, or why not.</param>
internal readonly record struct NextHopAnswer(PhysicalAddress? Mac, string Note);

/// <summary>Resolves a next hop's MAC: at setup (<paramref name="recheck"/> false) or when re-checking.</summary>
internal delegate NextHopAnswer NextHopResolver(NextHopQuery query, bool recheck);
