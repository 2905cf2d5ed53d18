using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Netconsole.Resolution;

/// <summary>Handles one received datagram of a request's answer; returns true when the answer is complete.</summary>
/// <param name="datagram">What one recv returned.</param>
internal delegate bool NetlinkDatagramHandler(ReadOnlySpan<byte> datagram);

/// <summary>
/// One-shot rtnetlink requests (netlink(7), rtnetlink(7)) for the resolution lookups: a fresh
/// NETLINK_ROUTE socket bound to no multicast group, one request, its answer read with a
/// timeout. Also walks netlink messages and attributes over plain bytes (host byte order,
/// 4-byte alignment) without ever throwing, so the parsers built on it are tested without a socket.
/// </summary>
internal static class RtnetlinkRequests
{
    public const int HeaderLength = 16;          // struct nlmsghdr
    public const int AttributeHeaderLength = 4;  // struct rtattr
    public const ushort TypeError = 2;           // NLMSG_ERROR
    public const ushort TypeDone = 3;            // NLMSG_DONE
    public const ushort FlagRequest = 0x1;       // NLM_F_REQUEST
    public const ushort FlagDumpInterrupted = 0x10; // NLM_F_DUMP_INTR
    public const ushort FlagDump = 0x300;        // NLM_F_ROOT | NLM_F_MATCH
    public const ushort AttributeTypeMask = 0x3FFF;

    public const byte FamilyIPv4 = 2;   // AF_INET
    public const byte FamilyIPv6 = 10;  // AF_INET6

    /// <summary>How long one request waits for (each datagram of) its answer.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private const int DatagramBytes = 64 * 1024;

    private static int _sequence;

    /// <summary>A fresh, non-zero sequence number for a request.</summary>
    public static uint NextSequence()
    {
        uint sequence = (uint)Interlocked.Increment(ref _sequence);
        return sequence == 0 ? (uint)Interlocked.Increment(ref _sequence) : sequence;
    }

    public static int Align(int length) => (length + 3) & ~3;

    /// <summary>
    /// Sends <paramref name="request"/> on a fresh NETLINK_ROUTE socket and hands every received
    /// datagram to <paramref name="handler"/> until it returns true.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="IOException">The socket could not be opened, or the kernel did not answer within <see cref="Timeout"/>.</exception>
    public static void Exchange(byte[] request, NetlinkDatagramHandler handler)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("rtnetlink exists only on Linux.");
        }

        using Socket socket = OpenSocket();
        try
        {
            socket.ReceiveTimeout = (int)Timeout.TotalMilliseconds;
            socket.Send(request);
            byte[] buffer = new byte[DatagramBytes];
            while (true)
            {
                int received = socket.Receive(buffer);
                if (handler(buffer.AsSpan(0, received)))
                {
                    return;
                }
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"The rtnetlink request failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the message at <paramref name="offset"/> of a datagram and moves the offset past it.
    /// </summary>
    /// <returns>
    /// True with the message's fields; false at the end of the datagram, or when the rest cannot
    /// be trusted (<paramref name="malformed"/> then true: there is no way to find the next message).
    /// </returns>
    public static bool NextMessage(
        ReadOnlySpan<byte> datagram,
        ref int offset,
        out ushort type,
        out ushort flags,
        out uint sequence,
        out ReadOnlySpan<byte> payload,
        out bool malformed)
    {
        type = 0;
        flags = 0;
        sequence = 0;
        payload = default;
        malformed = false;
        if (offset < 0 || offset >= datagram.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = datagram[offset..];
        uint length = rest.Length < HeaderLength ? 0 : ReadUInt32(rest);
        if (length < HeaderLength || length > (uint)rest.Length)
        {
            malformed = true;
            offset = datagram.Length;
            return false;
        }

        type = ReadUInt16(rest[4..]);
        flags = ReadUInt16(rest[6..]);
        sequence = ReadUInt32(rest[8..]);
        payload = rest[HeaderLength..(int)length];
        offset += Align((int)length);
        return true;
    }

    /// <summary>Reads the next attribute (rtattr) and moves past it.</summary>
    /// <returns>True with the attribute; false at the end, or when the rest is malformed (<paramref name="malformed"/> then true).</returns>
    public static bool NextAttribute(ref ReadOnlySpan<byte> attributes, out ushort type, out ReadOnlySpan<byte> value, out bool malformed)
    {
        type = 0;
        value = default;
        malformed = false;
        if (attributes.IsEmpty)
        {
            return false;
        }

        ushort length = attributes.Length < AttributeHeaderLength ? (ushort)0 : ReadUInt16(attributes);
        if (length < AttributeHeaderLength || length > attributes.Length)
        {
            malformed = true;
            attributes = [];
            return false;
        }

        type = (ushort)(ReadUInt16(attributes[2..]) & AttributeTypeMask);
        value = attributes[AttributeHeaderLength..length];
        int next = Align(length);
        attributes = next >= attributes.Length ? [] : attributes[next..];
        return true;
    }

    /// <summary>The errno (positive) of an NLMSG_ERROR payload (struct nlmsgerr), 0 for an acknowledgement, null when too short.</summary>
    public static int? ErrorOf(ReadOnlySpan<byte> payload) =>
        payload.Length < 4 ? null : -ReadInt32(payload);

    /// <summary>An address of the family's length (4 or 16 bytes), else null.</summary>
    public static IPAddress? ToAddress(byte family, ReadOnlySpan<byte> value) => (family, value.Length) switch
    {
        (FamilyIPv4, 4) => new IPAddress(value),
        (FamilyIPv6, 16) => new IPAddress(value),
        _ => null,
    };

    /// <summary>The rtnetlink family of an address, with IPv4-mapped IPv6 addresses as IPv4.</summary>
    /// <exception cref="ArgumentException">Neither IPv4 nor IPv6.</exception>
    public static (byte Family, IPAddress Address) Normalize(IPAddress address, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(address, parameterName);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => (FamilyIPv4, address),
            AddressFamily.InterNetworkV6 => (FamilyIPv6, address),
            _ => throw new ArgumentException($"{address} is neither an IPv4 nor an IPv6 address.", parameterName),
        };
    }

    public static ushort ReadUInt16(ReadOnlySpan<byte> span) => MemoryMarshal.Read<ushort>(span);

    public static uint ReadUInt32(ReadOnlySpan<byte> span) => MemoryMarshal.Read<uint>(span);

    public static int ReadInt32(ReadOnlySpan<byte> span) => MemoryMarshal.Read<int>(span);

    public static void WriteUInt16(Span<byte> span, ushort value) => MemoryMarshal.Write(span, in value);

    public static void WriteUInt32(Span<byte> span, uint value) => MemoryMarshal.Write(span, in value);

    public static void WriteInt32(Span<byte> span, int value) => MemoryMarshal.Write(span, in value);

    /// <summary>Writes the nlmsghdr of a request whose total length is the span's.</summary>
    public static void WriteHeader(Span<byte> message, ushort type, ushort flags, uint sequence)
    {
        WriteUInt32(message, (uint)message.Length);
        WriteUInt16(message[4..], type);
        WriteUInt16(message[6..], flags);
        WriteUInt32(message[8..], sequence);
        // nlmsg_pid 0: to the kernel.
    }

    /// <summary>Writes one attribute at the start of the span; returns its aligned length.</summary>
    public static int WriteAttribute(Span<byte> span, ushort type, ReadOnlySpan<byte> value)
    {
        WriteUInt16(span, (ushort)(AttributeHeaderLength + value.Length));
        WriteUInt16(span[2..], type);
        value.CopyTo(span[AttributeHeaderLength..]);
        return Align(AttributeHeaderLength + value.Length);
    }

    // Bound to no multicast group: only the answers to this socket's own requests arrive.
    private static Socket OpenSocket() => Netconsole.Devices.RtnetlinkDeviceWatcher.OpenSocket(groups: 0);
}
