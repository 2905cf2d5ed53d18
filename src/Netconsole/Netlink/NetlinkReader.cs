using System.Runtime.InteropServices;

namespace Netconsole.Netlink;

/// <summary>One netlink message of a datagram: its header fields and its payload (a view into the datagram).</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        Payload = payload;
    }

    /// <summary>nlmsg_type.</summary>
    public ushort Type { get; }

    /// <summary>nlmsg_flags.</summary>
    public ushort Flags { get; }

    /// <summary>nlmsg_seq: the request's, or 0 for a multicast notification.</summary>
    public uint Sequence { get; }

    /// <summary>What follows the header, up to the message's length.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Whether the kernel marked this part of a dump interrupted (NLM_F_DUMP_INTR).</summary>
    public bool IsDumpInterrupted => (Flags & NetlinkProtocol.FlagDumpInterrupted) != 0;

    /// <summary>For an NLMSG_ERROR: the (positive) errno, 0 for an acknowledgement; null for other types or when too short.</summary>
    public int? Error => Type == NetlinkProtocol.TypeError ? NetlinkReader.ErrorOf(Payload) : null;
}

/// <summary>
/// Walks the messages of one datagram (what one recv returned). Never throws: when a header's
/// length cannot be trusted the rest of the datagram is skipped (there is no way to find the
/// next message) and <see cref="Malformed"/> says so.
/// </summary>
internal ref struct NetlinkMessageReader
{
    private readonly ReadOnlySpan<byte> _datagram;
    private int _offset;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _datagram = datagram;
    }

    /// <summary>True once the rest of the datagram was found malformed (a truncated header, a length out of range).</summary>
    public bool Malformed { get; private set; }

    /// <summary>Reads the next message.</summary>
    /// <returns>False at the end of the datagram, or when the rest is malformed.</returns>
    public bool Next(out NetlinkMessage message)
    {
        message = default;
        if (_offset >= _datagram.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = _datagram[_offset..];
        uint length = rest.Length < NetlinkProtocol.HeaderLength ? 0 : NetlinkReader.ReadUInt32(rest);
        if (length < NetlinkProtocol.HeaderLength || length > (uint)rest.Length)
        {
            Malformed = true;
            _offset = _datagram.Length;
            return false;
        }

        message = new NetlinkMessage(
            NetlinkReader.ReadUInt16(rest[4..]),
            NetlinkReader.ReadUInt16(rest[6..]),
            NetlinkReader.ReadUInt32(rest[8..]),
            rest[NetlinkProtocol.HeaderLength..(int)length]);

        // The next message starts at the aligned length; past the end means there is none.
        _offset += NetlinkProtocol.Align((int)length);
        return true;
    }
}

/// <summary>
/// Walks the attributes (struct rtattr) that follow a message's fixed part. Never throws: a
/// truncated attribute ends the walk with <see cref="Malformed"/> set.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
    }

    /// <summary>True once an attribute was found truncated or of an impossible length.</summary>
    public bool Malformed { get; private set; }

    /// <summary>Reads the next attribute.</summary>
    /// <param name="type">Its type, without the nested and byte-order flags.</param>
    /// <param name="value">Its value.</param>
    /// <returns>False at the end, or when the rest is malformed.</returns>
    public bool Next(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.IsEmpty)
        {
            return false;
        }

        ushort length = _rest.Length < NetlinkProtocol.AttributeHeaderLength ? (ushort)0 : NetlinkReader.ReadUInt16(_rest);
        if (length < NetlinkProtocol.AttributeHeaderLength || length > _rest.Length)
        {
            Malformed = true;
            _rest = [];
            return false;
        }

        type = (ushort)(NetlinkReader.ReadUInt16(_rest[2..]) & NetlinkProtocol.AttributeTypeMask);
        value = _rest[NetlinkProtocol.AttributeHeaderLength..length];
        int next = NetlinkProtocol.Align(length);
        _rest = next >= _rest.Length ? [] : _rest[next..];
        return true;
    }
}

/// <summary>Reads netlink's host-byte-order fields.</summary>
internal static class NetlinkReader
{
    /// <summary>The errno (positive) of an NLMSG_ERROR payload (struct nlmsgerr), 0 for an acknowledgement, null when too short.</summary>
    public static int? ErrorOf(ReadOnlySpan<byte> payload) =>
        payload.Length < 4 ? null : -ReadInt32(payload);

    public static ushort ReadUInt16(ReadOnlySpan<byte> span) => MemoryMarshal.Read<ushort>(span);

    public static uint ReadUInt32(ReadOnlySpan<byte> span) => MemoryMarshal.Read<uint>(span);

    public static int ReadInt32(ReadOnlySpan<byte> span) => MemoryMarshal.Read<int>(span);
}
