using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

/// <summary>
/// Independent reference computations for checking frames: deliberately slow and literal
/// (byte by byte, straight from RFC 1071, RFC 768 and RFC 8200), sharing no code with the
/// library's checksum. PacketDotNet is not used for checksums: it gets the 0 -> 0xffff case wrong.
/// </summary>
internal static class FrameReference
{
    public const int EthernetHeaderLength = 14;

    /// <summary>The 16-bit ones' complement sum of big-endian words; an odd last byte is padded with zero.</summary>
    public static ushort OnesComplementSum(IEnumerable<byte> bytes)
    {
        uint sum = 0;
        bool highByte = true;
        foreach (byte b in bytes)
        {
            sum += highByte ? (uint)b << 8 : b;
            highByte = !highByte;
            while (sum > 0xffff)
            {
                sum = (sum & 0xffff) + (sum >> 16);
            }
        }

        return (ushort)sum;
    }

    /// <summary>The RFC 1071 checksum: the complement of the ones' complement sum (0 stays 0 here).</summary>
    public static ushort InternetChecksum(IEnumerable<byte> bytes) => (ushort)~OnesComplementSum(bytes);

    public static ushort Word(byte[] frame, int offset) => (ushort)((frame[offset] << 8) | frame[offset + 1]);

    public static bool IsIpv6(byte[] frame) => Word(frame, 12) == 0x86dd;

    public static int UdpOffset(byte[] frame) =>
        IsIpv6(frame) ? EthernetHeaderLength + 40 : EthernetHeaderLength + ((frame[EthernetHeaderLength] & 0x0f) * 4);

    /// <summary>The IPv4 header checksum computed over the frame's header with its checksum field taken as zero.</summary>
    public static ushort ComputeIpv4HeaderChecksum(byte[] frame)
    {
        byte[] header = frame[EthernetHeaderLength..UdpOffset(frame)];
        header[10] = 0;
        header[11] = 0;
        return InternetChecksum(header);
    }

    /// <summary>What an IPv4 receiver checks: the header, checksum field included, sums to 0xffff.</summary>
    public static bool Ipv4HeaderChecksumVerifies(byte[] frame) =>
        OnesComplementSum(frame[EthernetHeaderLength..UdpOffset(frame)]) == 0xffff;

    /// <summary>The UDP segment (header + payload) of a frame, as far as the UDP length field says.</summary>
    public static byte[] UdpSegment(byte[] frame)
    {
        int udp = UdpOffset(frame);
        return frame[udp..(udp + Word(frame, udp + 4))];
    }

    /// <summary>The pseudo-header of the frame's UDP datagram (RFC 768 for IPv4, RFC 8200 section 8.1 for IPv6).</summary>
    public static byte[] PseudoHeader(byte[] frame)
    {
        int ip = EthernetHeaderLength;
        int udpLength = Word(frame, UdpOffset(frame) + 4);
        return IsIpv6(frame)
            ? PseudoHeader(new IPAddress(frame[(ip + 8)..(ip + 24)]), new IPAddress(frame[(ip + 24)..(ip + 40)]), udpLength)
            : PseudoHeader(new IPAddress(frame[(ip + 12)..(ip + 16)]), new IPAddress(frame[(ip + 16)..(ip + 20)]), udpLength);
    }

    public static byte[] PseudoHeader(IPAddress source, IPAddress destination, int udpLength)
    {
        var bytes = new List<byte>();
        bytes.AddRange(source.GetAddressBytes());
        bytes.AddRange(destination.GetAddressBytes());
        if (source.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // 32-bit upper-layer packet length, three zero bytes, next header.
            bytes.AddRange([0, 0, (byte)(udpLength >> 8), (byte)udpLength, 0, 0, 0, 17]);
        }
        else
        {
            // Zero, protocol, 16-bit UDP length.
            bytes.AddRange([0, 17, (byte)(udpLength >> 8), (byte)udpLength]);
        }

        return [.. bytes];
    }

    /// <summary>
    /// The UDP checksum as RFC 768 computes it, before the 0 -> 0xffff substitution, from
    /// first principles: no frame involved.
    /// </summary>
    public static ushort ComputeUdpChecksum(IPAddress source, int sourcePort, IPAddress destination, int destinationPort, byte[] payload)
    {
        int udpLength = 8 + payload.Length;
        byte[] udpHeader =
        [
            (byte)(sourcePort >> 8), (byte)sourcePort,
            (byte)(destinationPort >> 8), (byte)destinationPort,
            (byte)(udpLength >> 8), (byte)udpLength,
            0, 0,
        ];
        return InternetChecksum([.. PseudoHeader(source, destination, udpLength), .. udpHeader, .. payload]);
    }

    /// <summary>The UDP checksum computed over the frame's pseudo-header and segment, checksum field taken as zero.</summary>
    public static ushort ComputeUdpChecksum(byte[] frame)
    {
        byte[] segment = UdpSegment(frame);
        segment[6] = 0;
        segment[7] = 0;
        return InternetChecksum([.. PseudoHeader(frame), .. segment]);
    }

    /// <summary>
    /// What a receiver checks: the pseudo-header and the segment, checksum field included,
    /// sum to 0xffff; a zero checksum field means "no checksum" and fails here (IPv6 forbids it,
    /// and netpoll never sends it).
    /// </summary>
    public static bool UdpChecksumVerifies(byte[] frame)
    {
        byte[] segment = UdpSegment(frame);
        return Word(segment, 6) != 0 && OnesComplementSum([.. PseudoHeader(frame), .. segment]) == 0xffff;
    }
}

/// <summary>Fixed documentation addresses and locally administered MACs for frame tests.</summary>
internal static class FrameTestData
{
    public static readonly PhysicalAddress SourceMac = PhysicalAddress.Parse("02:00:00:00:00:01");
    public static readonly PhysicalAddress DestinationMac = PhysicalAddress.Parse("02:00:00:00:00:02");
    public static readonly IPAddress Ipv4Source = IPAddress.Parse("192.0.2.1");
    public static readonly IPAddress Ipv4Destination = IPAddress.Parse("192.0.2.2");
    public static readonly IPAddress Ipv6Source = IPAddress.Parse("2001:db8::1");
    public static readonly IPAddress Ipv6Destination = IPAddress.Parse("2001:db8::2");
    public const int SourcePort = 6665;
    public const int DestinationPort = 6666;

    public static FrameBuilder Ipv4Builder(ushort firstIdentification = 1) =>
        new(SourceMac, DestinationMac, Ipv4Source, SourcePort, Ipv4Destination, DestinationPort, firstIdentification);

    public static FrameBuilder Ipv6Builder() =>
        new(SourceMac, DestinationMac, Ipv6Source, SourcePort, Ipv6Destination, DestinationPort);

    public static FrameBuilder Builder(bool ipv6) => ipv6 ? Ipv6Builder() : Ipv4Builder();

    /// <summary>Builds one frame into a fresh array of exactly the frame's length.</summary>
    public static byte[] BuildFrame(FrameBuilder builder, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[builder.MaxFrameLength];
        int length = builder.Build(payload, buffer);
        return buffer[..length];
    }

    /// <summary>
    /// A payload whose UDP checksum, between this class's addresses and ports, computes to 0
    /// (so it must be sent as 0xffff). Found by varying its last two bytes with the reference
    /// computation: one of the 65536 values always makes the ones' complement sum 0xffff.
    /// </summary>
    public static byte[] ZeroChecksumPayload(bool ipv6)
    {
        IPAddress source = ipv6 ? Ipv6Source : Ipv4Source;
        IPAddress destination = ipv6 ? Ipv6Destination : Ipv4Destination;
        byte[] payload = "zero\n\0\0"u8.ToArray();
        for (int word = 0; word <= 0xffff; word++)
        {
            payload[^2] = (byte)(word >> 8);
            payload[^1] = (byte)word;
            if (FrameReference.ComputeUdpChecksum(source, SourcePort, destination, DestinationPort, payload) == 0)
            {
                return payload;
            }
        }

        throw new InvalidOperationException("No payload with a zero UDP checksum: the reference computation is wrong.");
    }

    /// <summary>A payload of <paramref name="length"/> bytes that is not all zeros (so checksum errors show).</summary>
    public static byte[] Payload(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 7) + 1))];
}
