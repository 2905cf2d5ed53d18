using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Wire;

namespace Netconsole.Resolution;

/// <summary>
/// Builds IPv6 Neighbor Solicitations and reads Neighbor Advertisements (RFC 4861) as
/// Ethernet frames: the active IPv6 half of next-hop resolution.
/// </summary>
internal static class NdpFrames
{
    /// <summary>The length of a solicitation frame: Ethernet 14 + IPv6 40 + ICMPv6 24 + source link-layer address option 8.</summary>
    public const int SolicitationLength = Ethernet.HeaderLength + Ipv6HeaderLength + IcmpLength;

    /// <summary>The ICMPv6 type of a Neighbor Solicitation.</summary>
    public const byte TypeNeighborSolicitation = 135;

    /// <summary>The ICMPv6 type of a Neighbor Advertisement.</summary>
    public const byte TypeNeighborAdvertisement = 136;

    /// <summary>The hop limit of every Neighbor Discovery message; a receiver drops any other (RFC 4861, 7.1).</summary>
    public const byte HopLimit = 255;

    private const int Ipv6HeaderLength = 40;
    private const int NeighborMessageLength = 24; // type, code, checksum, 4 bytes, target address
    private const int LinkLayerOptionLength = 8;
    private const int IcmpLength = NeighborMessageLength + LinkLayerOptionLength;
    private const byte NextHeaderIcmpv6 = 58;
    private const byte OptionSourceLinkLayerAddress = 1;
    private const byte OptionTargetLinkLayerAddress = 2;

    /// <summary>
    /// Builds a Neighbor Solicitation for <paramref name="target"/>, sent from
    /// <paramref name="source"/> to the target's solicited-node multicast address
    /// (ff02::1:ffXX:XXXX, MAC 33:33:ff:XX:XX:XX), with our MAC as the source link-layer
    /// address option.
    /// </summary>
    /// <param name="sourceMac">Our device's MAC (6 bytes).</param>
    /// <param name="source">Our IPv6 address on the device (not the unspecified address: that would be duplicate address detection).</param>
    /// <param name="target">The IPv6 address whose MAC is wanted.</param>
    /// <returns>The 86-byte frame.</returns>
    /// <exception cref="ArgumentException">The MAC is not 6 bytes or an address is not IPv6.</exception>
    public static byte[] BuildSolicitation(PhysicalAddress sourceMac, IPAddress source, IPAddress target)
    {
        ReadOnlySpan<byte> mac = ArpFrames.MacBytes(sourceMac, nameof(sourceMac));
        RequireIpv6(source, nameof(source));
        RequireIpv6(target, nameof(target));

        byte[] frame = new byte[SolicitationLength];
        Span<byte> span = frame;
        Span<byte> targetBytes = stackalloc byte[16];
        target.TryWriteBytes(targetBytes, out _);

        // Ethernet: 33:33 + the low 32 bits of the destination (RFC 2464, 7), i.e. 33:33:ff:XX:XX:XX.
        span[0] = 0x33;
        span[1] = 0x33;
        span[2] = 0xff;
        targetBytes[13..].CopyTo(span[3..]);
        mac.CopyTo(span[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[12..], Ethernet.EtherTypeIPv6);

        // IPv6: version 6, traffic class 0, flow label 0.
        Span<byte> ip = span[Ethernet.HeaderLength..];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], IcmpLength);
        ip[6] = NextHeaderIcmpv6;
        ip[7] = HopLimit;
        source.TryWriteBytes(ip[8..24], out _);
        Span<byte> destination = ip[24..40];
        destination[0] = 0xff;
        destination[1] = 0x02;
        destination[11] = 0x01;
        destination[12] = 0xff;
        targetBytes[13..].CopyTo(destination[13..]);

        // ICMPv6 Neighbor Solicitation: type, code 0, checksum, reserved, target, option 1.
        Span<byte> icmp = ip[Ipv6HeaderLength..];
        icmp[0] = TypeNeighborSolicitation;
        targetBytes.CopyTo(icmp[8..]);
        icmp[24] = OptionSourceLinkLayerAddress;
        icmp[25] = 1; // in units of 8 bytes
        mac.CopyTo(icmp[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Icmpv6Checksum(ip[8..24], destination, icmp));
        return frame;
    }

    /// <summary>
    /// Reads a frame as a Neighbor Advertisement for <paramref name="target"/>: the MAC in its
    /// target link-layer address option when the frame is a valid advertisement (hop limit
    /// 255, ICMPv6 type 136 code 0, correct checksum, target address <paramref name="target"/>)
    /// that carries that option; else null.
    /// </summary>
    /// <param name="frame">A captured Ethernet frame (any frame: anything else gives null).</param>
    /// <param name="target">The IPv6 address asked for.</param>
    /// <remarks>
    /// An advertisement without the option is ignored: RFC 4861 (7.2.4) has a node include it
    /// when answering a multicast solicitation, which is the only kind we send. IPv6 extension
    /// headers are not followed: neighbours put none before Neighbor Discovery messages.
    /// </remarks>
    public static PhysicalAddress? ParseAdvertisement(ReadOnlySpan<byte> frame, IPAddress target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.AddressFamily != AddressFamily.InterNetworkV6
            || frame.Length < Ethernet.HeaderLength + Ipv6HeaderLength + NeighborMessageLength
            || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != Ethernet.EtherTypeIPv6)
        {
            return null;
        }

        ReadOnlySpan<byte> ip = frame[Ethernet.HeaderLength..];
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if ((ip[0] >> 4) != 6
            || ip[6] != NextHeaderIcmpv6
            || ip[7] != HopLimit
            || payloadLength < NeighborMessageLength
            || payloadLength > ip.Length - Ipv6HeaderLength)
        {
            return null;
        }

        ReadOnlySpan<byte> icmp = ip.Slice(Ipv6HeaderLength, payloadLength);
        if (icmp[0] != TypeNeighborAdvertisement || icmp[1] != 0)
        {
            return null;
        }

        Span<byte> wanted = stackalloc byte[16];
        target.TryWriteBytes(wanted, out _);
        if (!icmp[8..24].SequenceEqual(wanted))
        {
            return null;
        }

        // Summing the message with its checksum field in place gives 0xffff when it is right.
        if (Checksum.Fold(PseudoHeaderSum(ip[8..24], ip[24..40], icmp.Length) + Checksum.Add(0, icmp)) != 0xffff)
        {
            return null;
        }

        ReadOnlySpan<byte> options = icmp[NeighborMessageLength..];
        while (options.Length >= 2)
        {
            int length = options[1] * 8;
            if (length == 0 || length > options.Length)
            {
                return null; // RFC 4861, 7.1.2: a zero-length option invalidates the message.
            }

            if (options[0] == OptionTargetLinkLayerAddress && length >= LinkLayerOptionLength)
            {
                ReadOnlySpan<byte> mac = options.Slice(2, 6);
                return ArpFrames.IsUsableMac(mac) ? new PhysicalAddress(mac.ToArray()) : null;
            }

            options = options[length..];
        }

        return null;
    }

    /// <summary>The ICMPv6 checksum of <paramref name="icmp"/> (its checksum field must be 0) over the IPv6 pseudo-header (RFC 8200, 8.1).</summary>
    internal static ushort Icmpv6Checksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> icmp) =>
        Checksum.Complement(PseudoHeaderSum(source, destination, icmp.Length) + Checksum.Add(0, icmp));

    // Source, destination, the 32-bit upper-layer length and 3 zero bytes + next header 58.
    private static ulong PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, int length)
    {
        ulong sum = Checksum.Add(0, source);
        sum = Checksum.Add(sum, destination);
        sum = Checksum.Add(sum, (ushort)(length >> 16));
        sum = Checksum.Add(sum, (ushort)length);
        return Checksum.Add(sum, (ushort)NextHeaderIcmpv6);
    }

    private static void RequireIpv6(IPAddress address, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(address, parameterName);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"Neighbor Discovery resolves IPv6 addresses; {address} is not one.", parameterName);
        }
    }
}
