using System.Net.NetworkInformation;
using System.Text;
using Netconsole.Interop;
using Netconsole.Netlink;
using Netconsole.Wire;

namespace Netconsole.Devices;

/// <summary>What one rtnetlink message says, as far as the device watcher cares.</summary>
internal enum LinkMessageKind
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
/// <param name="Flags">ifi_flags.</param>
internal sealed record LinkInfo(int Index, string Name, PhysicalAddress Mac, InterfaceFlags Flags)
{
    /// <summary>IFF_UP: administratively up.</summary>
    public bool IsUp => (Flags & InterfaceFlags.Up) != 0;

    /// <summary>
    /// IFF_RUNNING: operationally up. It is what SIOCGIFFLAGS reports too, so this watcher, the
    /// polling watcher and <see cref="NetworkDevice.GetAll"/> agree. IFF_LOWER_UP (carrier only)
    /// is not used: a device can have carrier and still not be usable (dormant, testing).
    /// </summary>
    public bool IsRunning => (Flags & InterfaceFlags.Running) != 0;
}

/// <summary>One parsed link-watcher message.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Type">nlmsg_type.</param>
/// <param name="Flags">nlmsg_flags.</param>
/// <param name="Sequence">nlmsg_seq (0 for multicast notifications).</param>
/// <param name="Error">For <see cref="LinkMessageKind.Error"/>: the (negative) errno, 0 for an acknowledgement.</param>
/// <param name="Link">For link messages: the link.</param>
internal sealed record LinkMessage(LinkMessageKind Kind, ushort Type, ushort Flags, uint Sequence, int Error, LinkInfo? Link);

/// <summary>
/// Reads link messages (rtnetlink(7); include/uapi/linux/rtnetlink.h, if_link.h) over plain
/// bytes, so the device watcher's parsing is tested without a socket, and writes the link dump request.
/// </summary>
internal static class LinkMessages
{
    public const int LinkInfoLength = 16;      // struct ifinfomsg

    public const ushort TypeNewLink = 16;      // RTM_NEWLINK
    public const ushort TypeDelLink = 17;      // RTM_DELLINK
    public const ushort TypeGetLink = 18;      // RTM_GETLINK

    public const ushort AttributeAddress = 1;  // IFLA_ADDRESS
    public const ushort AttributeName = 3;     // IFLA_IFNAME

    /// <summary>
    /// Parses every message in one datagram (what one recv returned) into <paramref name="messages"/>.
    /// Never throws: a malformed message is counted and skipped; when a header's length cannot be
    /// trusted the rest of the datagram is skipped (there is no way to find the next message).
    /// </summary>
    /// <returns>The number of malformed messages (or unparseable tails).</returns>
    public static int Parse(ReadOnlySpan<byte> datagram, List<LinkMessage> messages)
    {
        int malformed = 0;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.Next(out NetlinkMessage message))
        {
            LinkMessage? parsed = ParseOne(message);
            if (parsed is null)
            {
                malformed++;
            }
            else
            {
                messages.Add(parsed);
            }
        }

        return reader.Malformed ? malformed + 1 : malformed;
    }

    /// <summary>An RTM_GETLINK dump request for every link (ifinfomsg with family AF_UNSPEC, no filter).</summary>
    public static byte[] GetLinkDumpRequest(uint sequence) =>
        NetlinkWriter.Request(TypeGetLink, NetlinkProtocol.FlagRequest | NetlinkProtocol.FlagDump, sequence, LinkInfoLength);

    private static LinkMessage? ParseOne(NetlinkMessage message)
    {
        switch (message.Type)
        {
            case NetlinkProtocol.TypeDone:
                return new LinkMessage(LinkMessageKind.Done, message.Type, message.Flags, message.Sequence, 0, null);
            case NetlinkProtocol.TypeError:
                // struct nlmsgerr: int error, then the offending request's header.
                return message.Error is { } errno
                    ? new LinkMessage(LinkMessageKind.Error, message.Type, message.Flags, message.Sequence, -errno, null)
                    : null;
            case TypeNewLink:
            case TypeDelLink:
                return ParseLink(message);
            default:
                return new LinkMessage(LinkMessageKind.Other, message.Type, message.Flags, message.Sequence, 0, null);
        }
    }

    private static LinkMessage? ParseLink(NetlinkMessage message)
    {
        ReadOnlySpan<byte> payload = message.Payload;
        if (payload.Length < LinkInfoLength)
        {
            return null;
        }

        // struct ifinfomsg: family (1), pad (1), type (2), index (4), flags (4), change (4).
        byte family = payload[0];
        int index = NetlinkReader.ReadInt32(payload[4..]);
        var linkFlags = (InterfaceFlags)NetlinkReader.ReadUInt32(payload[8..]);
        string? name = null;
        PhysicalAddress mac = PhysicalAddress.None;
        var attributes = new NetlinkAttributeReader(payload[LinkInfoLength..]);
        while (attributes.Next(out ushort type, out ReadOnlySpan<byte> value))
        {
            if (type == AttributeName)
            {
                int end = value.IndexOf((byte)0);
                ReadOnlySpan<byte> text = end < 0 ? value : value[..end];
                if (text.IsEmpty)
                {
                    return null;
                }

                name = Encoding.UTF8.GetString(text);
            }
            else if (type == AttributeAddress)
            {
                mac = value.Length == Ethernet.AddressLength ? new PhysicalAddress(value.ToArray()) : PhysicalAddress.None;
            }
        }

        if (attributes.Malformed)
        {
            return null;
        }

        // AF_BRIDGE (and other families) send RTM_NEWLINK/RTM_DELLINK to the same group for
        // bridge ports: a port leaving its bridge is an RTM_DELLINK for a device that still
        // exists. Only AF_UNSPEC messages describe the device itself.
        if (family != SocketConstants.AddressFamilyUnspecified)
        {
            return new LinkMessage(LinkMessageKind.Other, message.Type, message.Flags, message.Sequence, 0, null);
        }

        if (index <= 0 || name is null)
        {
            return null;
        }

        LinkMessageKind kind = message.Type == TypeNewLink ? LinkMessageKind.Link : LinkMessageKind.LinkDeleted;
        return new LinkMessage(kind, message.Type, message.Flags, message.Sequence, 0, new LinkInfo(index, name, mac, linkFlags));
    }
}
