using System.Net;
using System.Net.NetworkInformation;
using static Netconsole.Resolution.RtnetlinkRequests;

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
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="IOException">The netlink socket failed, the kernel refused the dump, or it did not answer in time.</exception>
    public static PhysicalAddress? Lookup(int interfaceIndex, IPAddress address) => Lookup(interfaceIndex, address, UsableStates);

    /// <summary>
    /// As <see cref="Lookup(int, IPAddress)"/>, accepting only entries in one of <paramref name="acceptedStates"/>
    /// (NUD_* bits): a re-check trusts only confirmed entries (REACHABLE, PERMANENT, NOARP), not STALE ones.
    /// </summary>
    /// <returns>The MAC, or null when there is no entry with a link-layer address in an accepted state.</returns>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="IOException">The netlink socket failed, the kernel refused the dump, or it did not answer in time.</exception>
    public static PhysicalAddress? Lookup(int interfaceIndex, IPAddress address, ushort acceptedStates)
    {
        (byte family, IPAddress normalized) = Normalize(address, nameof(address));
        byte[] wanted = normalized.GetAddressBytes();
        NeighbourEntry? found = null;

        // A dump the kernel marks interrupted (the table changed meanwhile) is taken again.
        for (int attempt = 0; attempt < DumpAttempts; attempt++)
        {
            var entries = new List<NeighbourEntry>();
            uint sequence = NextSequence();
            bool interrupted = false;
            int error = 0;
            Exchange(BuildDumpRequest(family, interfaceIndex, sequence), datagram =>
            {
                NeighbourDumpStatus status = ParseDump(datagram, sequence, entries, out bool datagramInterrupted, out int datagramError);
                interrupted |= datagramInterrupted;
                error = datagramError;
                return status != NeighbourDumpStatus.More;
            });
            if (error != 0)
            {
                throw new IOException($"The kernel refused the RTM_GETNEIGH dump: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
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
        byte[] request = new byte[HeaderLength + NeighbourMessageLength];
        Span<byte> span = request;
        WriteHeader(span, TypeGetNeighbour, FlagRequest | FlagDump, sequence);

        // struct ndmsg: family, pad1, pad2 (u16), ifindex (s32), state (u16), flags, type.
        span[HeaderLength] = family;
        WriteInt32(span[(HeaderLength + 4)..], interfaceIndex);
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
        int offset = 0;
        while (NextMessage(datagram, ref offset, out ushort type, out ushort flags, out uint messageSequence, out ReadOnlySpan<byte> payload, out _))
        {
            if (messageSequence != sequence)
            {
                continue;
            }

            interrupted |= (flags & FlagDumpInterrupted) != 0;
            switch (type)
            {
                case TypeDone:
                    return NeighbourDumpStatus.Done;
                case TypeError when ErrorOf(payload) is { } errno and not 0:
                    error = errno;
                    return NeighbourDumpStatus.Error;
                case TypeNewNeighbour when ParseEntry(payload) is { } entry:
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
        int interfaceIndex = ReadInt32(payload[4..]);
        ushort state = ReadUInt16(payload[8..]);
        IPAddress? address = null;
        PhysicalAddress? linkAddress = null;
        ReadOnlySpan<byte> attributes = payload[NeighbourMessageLength..];
        bool malformed;
        while (NextAttribute(ref attributes, out ushort type, out ReadOnlySpan<byte> value, out malformed))
        {
            if (type == AttributeDestination)
            {
                address = ToAddress(family, value);
            }
            else if (type == AttributeLinkAddress)
            {
                linkAddress = value.IsEmpty ? null : new PhysicalAddress(value.ToArray());
            }
        }

        return malformed || address is null ? null : new NeighbourEntry(interfaceIndex, address, linkAddress, state);
    }
}
