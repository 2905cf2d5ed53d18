using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using System.Text;

namespace Netconsole.Devices;

/// <summary>What one rtnetlink message says, as far as the device watcher cares.</summary>
internal enum NetlinkMessageKind
{
    /// <summary>RTM_NEWLINK for an AF_UNSPEC link: the link's full current state.</summary>
    Link,

    /// <summary>RTM_DELLINK for an AF_UNSPEC link: the link is gone.</summary>
    LinkDeleted,

    /// <summary>NLMSG_DONE: the end of a dump.</summary>
    Done,

    /// <summary>NLMSG_ERROR: an error (or an acknowledgement, error 0) for a request.</summary>
    Error,

    /// <summary>Anything else (NLMSG_NOOP, other families' link messages, other types): ignored.</summary>
    Other,
}

/// <summary>A link as an RTM_NEWLINK / RTM_DELLINK message describes it.</summary>
/// <param name="Index">ifi_index.</param>
/// <param name="Name">IFLA_IFNAME.</param>
/// <param name="Mac">IFLA_ADDRESS when it has 6 bytes; otherwise empty.</param>
/// <param name="Flags">ifi_flags (IFF_*).</param>
internal sealed record NetlinkLink(int Index, string Name, PhysicalAddress Mac, uint Flags)
{
    /// <summary>IFF_UP: administratively up.</summary>
    public bool IsUp => (Flags & NetlinkMessages.IffUp) != 0;

    /// <summary>
    /// IFF_RUNNING: operationally up. The kernel sets it in ifi_flags (dev_get_flags) when the
    /// RFC 2863 operstate is UP or UNKNOWN; it is what SIOCGIFFLAGS reports too, so this watcher,
    /// the polling watcher and <see cref="NetworkDevice.GetAll"/> agree. IFF_LOWER_UP (carrier
    /// only) is not used: a device can have carrier and still not be usable (dormant, testing).
    /// </summary>
    public bool IsRunning => (Flags & NetlinkMessages.IffRunning) != 0;
}

/// <summary>One parsed netlink message.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Type">nlmsg_type.</param>
/// <param name="Flags">nlmsg_flags.</param>
/// <param name="Sequence">nlmsg_seq (0 for multicast notifications).</param>
/// <param name="Error">For <see cref="NetlinkMessageKind.Error"/>: the (negative) errno, 0 for an acknowledgement.</param>
/// <param name="Link">For link messages: the link.</param>
internal sealed record NetlinkMessage(NetlinkMessageKind Kind, ushort Type, ushort Flags, uint Sequence, int Error, NetlinkLink? Link);

/// <summary>
/// Reads and writes rtnetlink messages (netlink(7), rtnetlink(7); include/uapi/linux/netlink.h,
/// rtnetlink.h, if_link.h) over plain bytes, so it is tested without a socket. Netlink is in
/// host byte order; messages and attributes are aligned to 4 bytes.
/// </summary>
internal static class NetlinkMessages
{
    public const int HeaderLength = 16;        // struct nlmsghdr
    public const int LinkInfoLength = 16;      // struct ifinfomsg
    public const int AttributeHeaderLength = 4; // struct rtattr
    public const int Alignment = 4;

    public const ushort TypeNoop = 1;
    public const ushort TypeError = 2;
    public const ushort TypeDone = 3;
    public const ushort TypeNewLink = 16;
    public const ushort TypeDelLink = 17;
    public const ushort TypeGetLink = 18;

    public const ushort FlagRequest = 0x1;
    public const ushort FlagMulti = 0x2;
    public const ushort FlagDumpInterrupted = 0x10;
    public const ushort FlagDump = 0x300;

    public const ushort AttributeAddress = 1;  // IFLA_ADDRESS
    public const ushort AttributeName = 3;     // IFLA_IFNAME
    public const ushort AttributeTypeMask = 0x3FFF; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER

    public const uint IffUp = 0x1;
    public const uint IffRunning = 0x40;
    public const uint IffLowerUp = 0x10000;

    public const byte FamilyUnspecified = 0; // AF_UNSPEC

    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);

    /// <summary>
    /// Parses every message in one datagram (what one recv returned) into <paramref name="messages"/>.
    /// Never throws: a malformed message is counted and skipped; when a header's length cannot be
    /// trusted the rest of the datagram is skipped (there is no way to find the next message).
    /// </summary>
    /// <returns>The number of malformed messages (or unparseable tails).</returns>
    public static int Parse(ReadOnlySpan<byte> datagram, List<NetlinkMessage> messages)
    {
        int malformed = 0;
        int offset = 0;
        while (offset < datagram.Length)
        {
            ReadOnlySpan<byte> rest = datagram[offset..];
            if (rest.Length < HeaderLength)
            {
                malformed++;
                break;
            }

            uint length = ReadUInt32(rest);
            if (length < HeaderLength || length > (uint)rest.Length)
            {
                malformed++;
                break;
            }

            ReadOnlySpan<byte> message = rest[..(int)length];
            ushort type = ReadUInt16(message[4..]);
            ushort flags = ReadUInt16(message[6..]);
            uint sequence = ReadUInt32(message[8..]);
            NetlinkMessage? parsed = ParseOne(type, flags, sequence, message[HeaderLength..]);
            if (parsed is null)
            {
                malformed++;
            }
            else
            {
                messages.Add(parsed);
            }

            // The next message starts at the aligned length; past the end means there is none.
            offset += Align((int)length);
        }

        return malformed;
    }

    /// <summary>An RTM_GETLINK dump request for every link (ifinfomsg with family AF_UNSPEC).</summary>
    public static byte[] GetLinkDumpRequest(uint sequence)
    {
        byte[] request = new byte[HeaderLength + LinkInfoLength];
        Span<byte> span = request;
        WriteUInt32(span, (uint)request.Length);
        WriteUInt16(span[4..], TypeGetLink);
        WriteUInt16(span[6..], FlagRequest | FlagDump);
        WriteUInt32(span[8..], sequence);
        // nlmsg_pid 0 (the kernel), ifinfomsg all zero: family AF_UNSPEC, no filter.
        return request;
    }

    private static NetlinkMessage? ParseOne(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case TypeDone:
                return new NetlinkMessage(NetlinkMessageKind.Done, type, flags, sequence, 0, null);
            case TypeError:
                // struct nlmsgerr: int error, then the offending request's header.
                return payload.Length < 4
                    ? null
                    : new NetlinkMessage(NetlinkMessageKind.Error, type, flags, sequence, ReadInt32(payload), null);
            case TypeNewLink:
            case TypeDelLink:
                return ParseLink(type, flags, sequence, payload);
            default:
                return new NetlinkMessage(NetlinkMessageKind.Other, type, flags, sequence, 0, null);
        }
    }

    private static NetlinkMessage? ParseLink(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < LinkInfoLength)
        {
            return null;
        }

        // struct ifinfomsg: family (1), pad (1), type (2), index (4), flags (4), change (4).
        byte family = payload[0];
        int index = ReadInt32(payload[4..]);
        uint linkFlags = ReadUInt32(payload[8..]);
        string? name = null;
        PhysicalAddress mac = PhysicalAddress.None;
        ReadOnlySpan<byte> attributes = payload[LinkInfoLength..];
        while (attributes.Length > 0)
        {
            if (attributes.Length < AttributeHeaderLength)
            {
                return null;
            }

            ushort attributeLength = ReadUInt16(attributes);
            ushort attributeType = (ushort)(ReadUInt16(attributes[2..]) & AttributeTypeMask);
            if (attributeLength < AttributeHeaderLength || attributeLength > attributes.Length)
            {
                return null;
            }

            ReadOnlySpan<byte> value = attributes[AttributeHeaderLength..attributeLength];
            if (attributeType == AttributeName)
            {
                int end = value.IndexOf((byte)0);
                ReadOnlySpan<byte> text = end < 0 ? value : value[..end];
                if (text.IsEmpty)
                {
                    return null;
                }

                name = Encoding.UTF8.GetString(text);
            }
            else if (attributeType == AttributeAddress)
            {
                mac = value.Length == 6 ? new PhysicalAddress(value.ToArray()) : PhysicalAddress.None;
            }

            int next = Align(attributeLength);
            attributes = next >= attributes.Length ? [] : attributes[next..];
        }

        // AF_BRIDGE (and other families) send RTM_NEWLINK/RTM_DELLINK to the same group for
        // bridge ports: a port leaving its bridge is an RTM_DELLINK for a device that still
        // exists. Only AF_UNSPEC messages describe the device itself.
        if (family != FamilyUnspecified)
        {
            return new NetlinkMessage(NetlinkMessageKind.Other, type, flags, sequence, 0, null);
        }

        if (index <= 0 || name is null)
        {
            return null;
        }

        NetlinkMessageKind kind = type == TypeNewLink ? NetlinkMessageKind.Link : NetlinkMessageKind.LinkDeleted;
        return new NetlinkMessage(kind, type, flags, sequence, 0, new NetlinkLink(index, name, mac, linkFlags));
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> span) => MemoryMarshal.Read<ushort>(span);

    private static uint ReadUInt32(ReadOnlySpan<byte> span) => MemoryMarshal.Read<uint>(span);

    private static int ReadInt32(ReadOnlySpan<byte> span) => MemoryMarshal.Read<int>(span);

    private static void WriteUInt16(Span<byte> span, ushort value) => MemoryMarshal.Write(span, in value);

    private static void WriteUInt32(Span<byte> span, uint value) => MemoryMarshal.Write(span, in value);
}
