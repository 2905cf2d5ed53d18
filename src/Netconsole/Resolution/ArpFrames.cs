using System.Buffers.Binary;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using Netconsole.Wire;

namespace Netconsole.Resolution;

/// <summary>
/// Builds ARP requests and reads ARP replies (RFC 826) for Ethernet and IPv4, as Ethernet
/// frames: the active IPv4 half of next-hop resolution.
/// </summary>
internal static class ArpFrames
{
    /// <summary>The length of a request frame: a 14-byte Ethernet header and a 28-byte ARP packet, unpadded.</summary>
    public const int RequestLength = Ethernet.HeaderLength + ArpLength;

    private const int ArpLength = 28;
    private const ushort HardwareTypeEthernet = 1;
    private const ushort ProtocolTypeIpv4 = Ethernet.EtherTypeIPv4; // ARP names the protocol by its EtherType
    private const byte HardwareLength = Ethernet.AddressLength;
    private const byte ProtocolLength = 4;
    private const ushort OperationRequest = 1;
    private const ushort OperationReply = 2;

    /// <summary>
    /// Builds a broadcast ARP request asking who has <paramref name="target"/>, from
    /// <paramref name="sourceMac"/> and <paramref name="sender"/>.
    /// </summary>
    /// <param name="sourceMac">Our device's MAC (6 bytes): the Ethernet source and the ARP sender hardware address.</param>
    /// <param name="sender">Our IPv4 address on the device: the ARP sender protocol address.</param>
    /// <param name="target">The IPv4 address whose MAC is wanted.</param>
    /// <returns>The 42-byte frame.</returns>
    /// <exception cref="ArgumentException">A MAC is not 6 bytes or an address is not IPv4.</exception>
    public static byte[] BuildRequest(PhysicalAddress sourceMac, IPAddress sender, IPAddress target)
    {
        ReadOnlySpan<byte> mac = MacBytes(sourceMac, nameof(sourceMac));
        RequireIpv4(sender, nameof(sender));
        RequireIpv4(target, nameof(target));

        byte[] frame = new byte[RequestLength];
        Span<byte> span = frame;
        Ethernet.BroadcastBytes.CopyTo(span);
        mac.CopyTo(span[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[12..], Ethernet.EtherTypeArp);

        Span<byte> arp = span[Ethernet.HeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, HardwareTypeEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], ProtocolTypeIpv4);
        arp[4] = HardwareLength;
        arp[5] = ProtocolLength;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], OperationRequest);
        mac.CopyTo(arp[8..]);
        sender.TryWriteBytes(arp[14..18], out _);
        // Target hardware address (arp[18..24]) stays 00:00:00:00:00:00: it is what we ask for.
        target.TryWriteBytes(arp[24..28], out _);
        return frame;
    }

    /// <summary>
    /// Reads a frame as an ARP reply from <paramref name="target"/>: its sender hardware
    /// address when the frame is an Ethernet/IPv4 ARP reply (operation 2) whose sender
    /// protocol address is <paramref name="target"/>, else null.
    /// </summary>
    /// <param name="frame">A captured Ethernet frame (any frame: anything else gives null).</param>
    /// <param name="target">The IPv4 address asked for.</param>
    public static PhysicalAddress? ParseReply(ReadOnlySpan<byte> frame, IPAddress target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (frame.Length < RequestLength
            || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != Ethernet.EtherTypeArp
            || target.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        ReadOnlySpan<byte> arp = frame[Ethernet.HeaderLength..];
        if (BinaryPrimitives.ReadUInt16BigEndian(arp) != HardwareTypeEthernet
            || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != ProtocolTypeIpv4
            || arp[4] != HardwareLength
            || arp[5] != ProtocolLength
            || BinaryPrimitives.ReadUInt16BigEndian(arp[6..]) != OperationReply)
        {
            return null;
        }

        Span<byte> wanted = stackalloc byte[4];
        target.TryWriteBytes(wanted, out _);
        if (!arp[14..18].SequenceEqual(wanted))
        {
            return null;
        }

        ReadOnlySpan<byte> mac = arp[8..14];
        return IsUsableMac(mac) ? new PhysicalAddress(mac.ToArray()) : null;
    }

    /// <summary>False for the all-zero, broadcast and multicast MACs, which no neighbour owns.</summary>
    internal static bool IsUsableMac(ReadOnlySpan<byte> mac) =>
        (mac[0] & 0x01) == 0 && mac.ContainsAnyExcept((byte)0);

    internal static ReadOnlySpan<byte> MacBytes(PhysicalAddress mac, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(mac, parameterName);
        byte[] bytes = mac.GetAddressBytes();
        if (bytes.Length != Ethernet.AddressLength)
        {
            throw new ArgumentException($"An Ethernet MAC is {Ethernet.AddressLength} bytes; this one is {bytes.Length}.", parameterName);
        }

        return bytes;
    }

    private static void RequireIpv4(IPAddress address, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(address, parameterName);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"ARP resolves IPv4 addresses; {address} is not one.", parameterName);
        }
    }
}
