using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.Versioning;
using Netconsole.Netlink;

namespace Netconsole.Resolution;

/// <summary>One entry of the kernel's neighbour table (ARP / NDP cache) as RTM_NEWNEIGH describes it.</summary>
/// <param name="InterfaceIndex">ndm_ifindex.</param>
/// <param name="Address">NDA_DST: the neighbour's IP address.</param>
/// <param name="LinkAddress">NDA_LLADDR: its link-layer address; null when the entry has none (yet).</param>
/// <param name="State">ndm_state (NUD_*).</param>
internal sealed record NeighbourEntry(int InterfaceIndex, IPAddress Address, PhysicalAddress? LinkAddress, ushort State)
{
    /// <summary>
    /// Whether the link-layer address can be used: the entry has one and is REACHABLE, STALE,
    /// DELAY, PROBE, PERMANENT or NOARP (not INCOMPLETE, FAILED or NONE).
    /// </summary>
    public bool IsUsable => LinkAddress is not null && (State & NeighbourTable.UsableStates) != 0;
}

/// <summary>What one datagram of a neighbour dump says.</summary>
internal enum NeighbourDumpStatus
{
    /// <summary>More datagrams follow.</summary>
    More,

    /// <summary>NLMSG_DONE: the dump is complete.</summary>
    Done,

    /// <summary>NLMSG_ERROR: the kernel refused the dump.</summary>
    Error,
}

/// <summary>
/// Neighbour lookups through rtnetlink (Linux): an RTM_GETNEIGH dump of the address's family,
/// like <c>ip neigh show</c>. Only reads the table; never makes the kernel resolve anything.
/// </summary>
internal static class NeighbourTable
{
    public const ushort TypeNewNeighbour = 28;  // RTM_NEWNEIGH
    public const ushort TypeGetNeighbour = 30;  // RTM_GETNEIGH
    public const ushort AttributeDestination = 1; // NDA_DST
    public const ushort AttributeLinkAddress = 2; // NDA_LLADDR
    public const int NeighbourMessageLength = 12; // struct ndmsg

    public const ushort StateIncomplete = 0x01;
    public const ushort StateReachable = 0x02;
    public const ushort StateStale = 0x04;
    public const ushort StateDelay = 0x08;
    public const ushort StateProbe = 0x10;
    public const ushort StateFailed = 0x20;
    public const ushort StateNoArp = 0x40;
    public const ushort StatePermanent = 0x80;

    /// <summary>The states whose link-layer address can be used.</summary>
    public const ushort UsableStates = StateReachable | StateStale | StateDelay | StateProbe | StatePermanent | StateNoArp;
    public const ushort ConfirmedStates = StateReachable | StatePermanent | StateNoArp;

    private const int DumpAttempts = 3;

    /// <summary>
    /// The link-layer address the kernel's neighbour table holds for <paramref name="address"/>
    /// on the interface (an IPv4-mapped IPv6 address counts as IPv4; a scope id is ignored).
    /// </summary>
    /// <returns>The MAC, or null when there is no usable entry (none, INCOMPLETE, FAILED, or without a link-layer address).</returns>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    /// <exception cref="IOException">The netlink socket failed, the kernel refused the dump, or it did not answer in time.</exception>
    [SupportedOSPlatform("linux")]
    public static PhysicalAddress? Lookup(int interfaceIndex, IPAddress address) => Lookup(interfaceIndex, address, UsableStates);

    /// <summary>
    /// As <see cref="Lookup(int, IPAddress)"/>, accepting only entries in one of <paramref name="acceptedStates"/>
    /// (NUD_* bits): a re-check trusts only confirmed entries (REACHABLE, PERMANENT, NOARP), not STALE ones.
    /// </summary>
    /// <returns>The MAC, or null when there is no entry with a link-layer address in an accepted state.</returns>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    /// <exception cref="IOException">The netlink socket failed, the kernel refused the dump, or it did not answer in time.</exception>
    [SupportedOSPlatform("linux")]
    public static PhysicalAddress? Lookup(int interfaceIndex, IPAddress address, ushort acceptedStates)
    {
        (byte family, IPAddress normalized) = RtnetlinkAddresses.Normalize(address, nameof(address));
        byte[] wanted = normalized.GetAddressBytes();
        NeighbourEntry? found = null;

        // A dump the kernel marks interrupted (the table changed meanwhile) is taken again.
        for (int attempt = 0; attempt < DumpAttempts; attempt++)
        {
            var entries = new List<NeighbourEntry>();
            uint sequence = NetlinkExchange.NextSequence();
            bool interrupted = false;
            int error = 0;
            NetlinkExchange.Run(
                BuildDumpRequest(family, interfaceIndex, sequence),
                datagram =>
                {
                    NeighbourDumpStatus status = ParseDump(datagram, sequence, entries, out bool datagramInterrupted, out int datagramError);
                    interrupted |= datagramInterrupted;
                    error = datagramError;
                    return status != NeighbourDumpStatus.More;
                },
                NetlinkExchange.DefaultTimeout);
            if (error != 0)
            {
                throw NetlinkExchange.Refused("RTM_GETNEIGH dump", error);
            }

            found = entries.Find(e => e.InterfaceIndex == interfaceIndex && e.Address.GetAddressBytes().AsSpan().SequenceEqual(wanted));
            if (!interrupted)
            {
                break;
            }
        }

        return found is { LinkAddress: { } mac } && (found.State & acceptedStates) != 0 ? mac : null;
    }

    /// <summary>An RTM_GETNEIGH dump request for one family (ndmsg with the interface index, which newer kernels filter on).</summary>
    public static byte[] BuildDumpRequest(byte family, int interfaceIndex, uint sequence)
    {
        byte[] request = NetlinkWriter.Request(TypeGetNeighbour, NetlinkProtocol.FlagRequest | NetlinkProtocol.FlagDump, sequence, NeighbourMessageLength);

        // struct ndmsg: family, pad1, pad2 (u16), ifindex (s32), state (u16), flags, type.
        Span<byte> message = request.AsSpan(NetlinkProtocol.HeaderLength);
        message[0] = family;
        NetlinkWriter.WriteInt32(message[4..], interfaceIndex);
        return request;
    }

    /// <summary>
    /// Adds the neighbour entries of one dump datagram for the request with
    /// <paramref name="sequence"/> to <paramref name="entries"/>. Never throws: messages for other
    /// requests, of other types or malformed are skipped.
    /// </summary>
    /// <param name="datagram">What one recv returned.</param>
    /// <param name="sequence">The request's sequence number.</param>
    /// <param name="entries">Receives the entries.</param>
    /// <param name="interrupted">True when a message is marked NLM_F_DUMP_INTR.</param>
    /// <param name="error">For <see cref="NeighbourDumpStatus.Error"/>: the (positive) errno.</param>
    public static NeighbourDumpStatus ParseDump(ReadOnlySpan<byte> datagram, uint sequence, List<NeighbourEntry> entries, out bool interrupted, out int error)
    {
        interrupted = false;
        error = 0;
        var messages = new NetlinkMessageReader(datagram);
        while (messages.Next(out NetlinkMessage message))
        {
            if (message.Sequence != sequence)
            {
                continue;
            }

            interrupted |= message.IsDumpInterrupted;
            switch (message.Type)
            {
                case NetlinkProtocol.TypeDone:
                    return NeighbourDumpStatus.Done;
                case NetlinkProtocol.TypeError when message.Error is { } errno and not 0:
                    error = errno;
                    return NeighbourDumpStatus.Error;
                case TypeNewNeighbour when ParseEntry(message.Payload) is { } entry:
                    entries.Add(entry);
                    break;
                default:
                    break;
            }
        }

        return NeighbourDumpStatus.More;
    }

    /// <summary>The entry in an RTM_NEWNEIGH payload (ndmsg and attributes); null when malformed or without an IPv4/IPv6 NDA_DST.</summary>
    public static NeighbourEntry? ParseEntry(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < NeighbourMessageLength)
        {
            return null;
        }

        byte family = payload[0];
        int interfaceIndex = NetlinkReader.ReadInt32(payload[4..]);
        ushort state = NetlinkReader.ReadUInt16(payload[8..]);
        IPAddress? address = null;
        PhysicalAddress? linkAddress = null;
        var attributes = new NetlinkAttributeReader(payload[NeighbourMessageLength..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            if (type == AttributeDestination)
            {
                address = RtnetlinkAddresses.ToAddress(family, value);
            }
            else if (type == AttributeLinkAddress)
            {
                linkAddress = value.IsEmpty ? null : new PhysicalAddress(value.ToArray());
            }
        }

        return attributes.Malformed || address is null ? null : new NeighbourEntry(interfaceIndex, address, linkAddress, state);
    }
}
