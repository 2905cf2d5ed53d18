using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Netconsole.Wire;

/// <summary>
/// Builds the Ethernet + IPv4 or IPv6 + UDP frame around one netconsole datagram, byte for
/// byte as the kernel's netpoll puts it on the wire, for one target's fixed addresses, MACs
/// and ports.
/// </summary>
/// <remarks>
/// <para>
/// Everything that never changes for a target is prepared once, at construction: a header
/// template and the constant parts of the checksums. Per frame only the lengths, the IPv4
/// identification, the IPv4 header checksum and the UDP checksum are written, and nothing
/// is allocated.
/// </para>
/// <para>
/// The frame follows netpoll field by field: no Ethernet padding (padding a short frame to
/// the 60-byte minimum is left to the device, as for netpoll's frames); IPv4 TOS 0, DF not
/// set, TTL 64; IPv6 traffic class 0, flow label 0, hop limit 32; the UDP checksum always
/// computed, a computed 0 sent as 0xffff (RFC 768), as netpoll does, since a 0 would mean
/// "no checksum" and IPv6 receivers drop such datagrams.
/// </para>
/// <para>
/// A datagram is never fragmented: the payload is limited to
/// <see cref="RecordFormatter.MaxDatagramPayload"/> bytes. <see cref="Build"/> is safe to call
/// concurrently (each frame takes its own IPv4 identification); the frame spans must not be shared.
/// </para>
/// </remarks>
public sealed class FrameBuilder
{
    private const int Ipv4HeaderLength = 20;
    private const int Ipv6HeaderLength = 40;
    private const int UdpHeaderLength = 8;
    private const byte ProtocolUdp = 17;
    private const byte Ipv4Ttl = 64;
    private const byte Ipv6HopLimit = 32;

    // Offsets in the frame.
    private const int Ipv4TotalLengthOffset = Ethernet.HeaderLength + 2;
    private const int Ipv4IdentificationOffset = Ethernet.HeaderLength + 4;
    private const int Ipv4ChecksumOffset = Ethernet.HeaderLength + 10;
    private const int Ipv6PayloadLengthOffset = Ethernet.HeaderLength + 4;

    private readonly byte[] _template;
    private readonly bool _ipv6;
    private readonly int _udpOffset;

    // Partial sums (see Checksum) of everything fixed in the IPv4 header and in the UDP
    // pseudo-header + UDP header (addresses, protocol, ports).
    private readonly ulong _ipv4HeaderSum;
    private readonly ulong _udpFixedSum;

    // Identification of the next IPv4 frame, kept as an int so Interlocked can advance it;
    // its low 16 bits are the identification, so it wraps 65535 -> 0 like the kernel's u16.
    private int _nextIdentification;

    /// <summary>
    /// Creates a frame builder for one target.
    /// </summary>
    /// <param name="sourceMac">The source MAC: the MAC of the device the frames leave through (6 bytes).</param>
    /// <param name="destinationMac">
    /// The destination MAC (6 bytes): the receiver's or next hop's MAC, or ff:ff:ff:ff:ff:ff
    /// (broadcast, the kernel's default). It is used as given: the kernel never resolves it.
    /// </param>
    /// <param name="source">The source IP address.</param>
    /// <param name="sourcePort">The source UDP port, 1-65535 (the kernel's default is 6665).</param>
    /// <param name="destination">The destination IP address, of the same family as <paramref name="source"/>.</param>
    /// <param name="destinationPort">The destination UDP port, 1-65535 (the kernel's default is 6666).</param>
    /// <param name="firstIdentification">
    /// The IPv4 identification of the first frame. The default is 1, as in the kernel, whose
    /// counter starts at 0 and is incremented before each packet. Pass the
    /// <see cref="NextIdentification"/> of a previous builder to continue its sequence (for
    /// example when a target is set up again). Ignored for IPv6, which has no identification
    /// in unfragmented packets.
    /// </param>
    /// <exception cref="ArgumentNullException">An address or MAC is null.</exception>
    /// <exception cref="ArgumentException">
    /// A MAC is not 6 bytes long, an address is neither IPv4 nor IPv6, or the two addresses
    /// are not of the same family.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A port is outside 1-65535.</exception>
    public FrameBuilder(
        PhysicalAddress sourceMac,
        PhysicalAddress destinationMac,
        IPAddress source,
        int sourcePort,
        IPAddress destination,
        int destinationPort,
        ushort firstIdentification = 1)
    {
        ArgumentNullException.ThrowIfNull(sourceMac);
        ArgumentNullException.ThrowIfNull(destinationMac);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        byte[] sourceMacBytes = MacBytes(sourceMac, nameof(sourceMac));
        byte[] destinationMacBytes = MacBytes(destinationMac, nameof(destinationMac));
        ArgumentOutOfRangeException.ThrowIfLessThan(sourcePort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourcePort, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(destinationPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(destinationPort, 65535);
        if (source.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException(
                $"The source address {source} is neither IPv4 nor IPv6.", nameof(source));
        }

        if (destination.AddressFamily != source.AddressFamily)
        {
            throw new ArgumentException(
                $"The destination address {destination} is not of the same family as the source address {source}: "
                + "a target sends either IPv4 or IPv6 frames, as the kernel requires of local_ip and remote_ip.",
                nameof(destination));
        }

        _ipv6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        _udpOffset = Ethernet.HeaderLength + (_ipv6 ? Ipv6HeaderLength : Ipv4HeaderLength);
        HeaderLength = _udpOffset + UdpHeaderLength;
        _nextIdentification = firstIdentification;

        byte[] sourceBytes = source.GetAddressBytes();
        byte[] destinationBytes = destination.GetAddressBytes();
        var template = new byte[HeaderLength];
        Span<byte> t = template;

        destinationMacBytes.CopyTo(t);
        sourceMacBytes.CopyTo(t[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(t[12..], _ipv6 ? Ethernet.EtherTypeIPv6 : Ethernet.EtherTypeIPv4);

        Span<byte> ip = t[Ethernet.HeaderLength.._udpOffset];
        if (_ipv6)
        {
            ip[0] = 0x60; // version 6; traffic class and flow label 0
            // ip[4..6]: payload length, per frame
            ip[6] = ProtocolUdp;
            ip[7] = Ipv6HopLimit;
            sourceBytes.CopyTo(ip[8..]);
            destinationBytes.CopyTo(ip[24..]);
        }
        else
        {
            ip[0] = 0x45; // version 4, IHL 5 (no options)
            ip[1] = 0; // TOS
            // ip[2..4]: total length, ip[4..6]: identification, per frame
            // ip[6..8]: flags and fragment offset 0: netpoll does not set DF
            ip[8] = Ipv4Ttl;
            ip[9] = ProtocolUdp;
            // ip[10..12]: header checksum, per frame
            sourceBytes.CopyTo(ip[12..]);
            destinationBytes.CopyTo(ip[16..]);

            // Total length, identification and checksum are still zero here, so the sum
            // of the template header is the sum of its fixed fields.
            _ipv4HeaderSum = Checksum.Add(0, ip);
        }

        Span<byte> udp = t[_udpOffset..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)destinationPort);
        // udp[4..6]: length, udp[6..8]: checksum, per frame

        // The pseudo-header's fixed part: both addresses and the protocol (IPv4: zero byte
        // and protocol; IPv6: three zero bytes and next header, the same word value). Its
        // length field is the UDP length, added per frame with the UDP header's own.
        ulong udpSum = Checksum.Add(0, sourceBytes);
        udpSum = Checksum.Add(udpSum, destinationBytes);
        udpSum = Checksum.Add(udpSum, (ushort)ProtocolUdp);
        _udpFixedSum = Checksum.Add(udpSum, udp[..4]);

        _template = template;
    }

    /// <summary>
    /// The length of the headers in front of the payload, in bytes: 42 for IPv4
    /// (Ethernet 14 + IPv4 20 + UDP 8), 62 for IPv6 (Ethernet 14 + IPv6 40 + UDP 8).
    /// </summary>
    public int HeaderLength { get; }

    /// <summary>
    /// The length of a frame carrying a full <see cref="RecordFormatter.MaxDatagramPayload"/>-byte datagram, in bytes:
    /// 1042 for IPv4, 1062 for IPv6. A frame buffer of this size fits every frame.
    /// </summary>
    public int MaxFrameLength => HeaderLength + RecordFormatter.MaxDatagramPayload;

    /// <summary>
    /// The IPv4 identification the next frame will carry (0-65535). It advances by one per
    /// IPv4 frame and wraps from 65535 to 0; an IPv6 builder keeps its first value.
    /// </summary>
    public ushort NextIdentification => (ushort)Volatile.Read(ref _nextIdentification);

    /// <summary>
    /// Writes the frame carrying <paramref name="payload"/> into <paramref name="frame"/>.
    /// </summary>
    /// <param name="payload">The datagram payload, at most <see cref="RecordFormatter.MaxDatagramPayload"/> bytes.</param>
    /// <param name="frame">
    /// Where the frame is written, at least <see cref="HeaderLength"/> + payload length bytes
    /// (<see cref="MaxFrameLength"/> always suffices).
    /// </param>
    /// <returns>The length of the frame, in bytes.</returns>
    /// <exception cref="ArgumentException">
    /// The payload is over <see cref="RecordFormatter.MaxDatagramPayload"/> bytes, or <paramref name="frame"/> is too small.
    /// </exception>
    public int Build(ReadOnlySpan<byte> payload, Span<byte> frame)
    {
        if (payload.Length > RecordFormatter.MaxDatagramPayload)
        {
            ThrowPayloadTooLong(payload.Length, nameof(payload));
        }

        if (frame.Length < HeaderLength + payload.Length)
        {
            ThrowFrameTooSmall(frame.Length, payload.Length, nameof(frame));
        }

        payload.CopyTo(frame[HeaderLength..]);
        return BuildInPlace(frame, payload.Length);
    }

    /// <summary>
    /// Writes the headers in front of a payload already placed at
    /// <c>frame[<see cref="HeaderLength"/>..]</c>, so a formatter can write the datagram
    /// straight into the frame buffer without a copy.
    /// </summary>
    /// <param name="frame">The frame buffer, with the payload at offset <see cref="HeaderLength"/>.</param>
    /// <param name="payloadLength">The payload length, 0 to <see cref="RecordFormatter.MaxDatagramPayload"/> bytes.</param>
    /// <returns>The length of the frame, in bytes (<see cref="HeaderLength"/> + <paramref name="payloadLength"/>).</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="payloadLength"/> is negative or over <see cref="RecordFormatter.MaxDatagramPayload"/>, or
    /// <paramref name="frame"/> is shorter than the frame.
    /// </exception>
    internal int BuildInPlace(Span<byte> frame, int payloadLength)
    {
        if ((uint)payloadLength > RecordFormatter.MaxDatagramPayload)
        {
            ThrowPayloadTooLong(payloadLength, nameof(payloadLength));
        }

        int frameLength = HeaderLength + payloadLength;
        if (frame.Length < frameLength)
        {
            ThrowFrameTooSmall(frame.Length, payloadLength, nameof(frame));
        }

        _template.CopyTo(frame);

        var udpLength = (ushort)(UdpHeaderLength + payloadLength);
        if (_ipv6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[Ipv6PayloadLengthOffset..], udpLength);
        }
        else
        {
            var totalLength = (ushort)(Ipv4HeaderLength + udpLength);

            // Interlocked so that concurrent callers never send two frames with one identification.
            var identification = (ushort)(Interlocked.Increment(ref _nextIdentification) - 1);
            BinaryPrimitives.WriteUInt16BigEndian(frame[Ipv4TotalLengthOffset..], totalLength);
            BinaryPrimitives.WriteUInt16BigEndian(frame[Ipv4IdentificationOffset..], identification);
            ulong headerSum = Checksum.Add(Checksum.Add(_ipv4HeaderSum, totalLength), identification);
            BinaryPrimitives.WriteUInt16BigEndian(frame[Ipv4ChecksumOffset..], Checksum.Complement(headerSum));
        }

        Span<byte> udp = frame[_udpOffset..frameLength];
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], udpLength);

        // The UDP length counts twice: in the pseudo-header and in the UDP header.
        ulong sum = Checksum.Add(Checksum.Add(_udpFixedSum, udpLength), udpLength);
        sum = Checksum.Add(sum, udp[UdpHeaderLength..]);
        ushort checksum = Checksum.Complement(sum);

        // RFC 768: a checksum of 0 means "none" (and is invalid over IPv6), so a computed 0
        // is sent as its ones' complement equivalent 0xffff, as netpoll does.
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xffff : checksum);
        return frameLength;
    }

    private static byte[] MacBytes(PhysicalAddress mac, string parameterName)
    {
        byte[] bytes = mac.GetAddressBytes();
        if (bytes.Length != 6)
        {
            throw new ArgumentException(
                $"An Ethernet MAC address is 6 bytes; '{mac}' is {bytes.Length}.", parameterName);
        }

        return bytes;
    }

    [DoesNotReturn]
    private static void ThrowPayloadTooLong(int length, string parameterName) =>
        throw new ArgumentException(
            length < 0
                ? $"The payload length {length} is negative."
                : $"The payload is {length} bytes; a netconsole datagram carries at most {RecordFormatter.MaxDatagramPayload} "
                  + "(netconsd reads each datagram into a 1024-byte buffer and does not detect truncation; "
                  + "frames are never IP-fragmented). Split the record into fragments first.",
            parameterName);

    [DoesNotReturn]
    private void ThrowFrameTooSmall(int frameLength, int payloadLength, string parameterName) =>
        throw new ArgumentException(
            $"The frame buffer is {frameLength} bytes; a frame with a {payloadLength}-byte payload needs "
            + $"{HeaderLength + payloadLength} ({HeaderLength} bytes of headers). {MaxFrameLength} bytes fit every frame.",
            parameterName);
}
