using System.Runtime.InteropServices;

namespace Netconsole.Netlink;

/// <summary>Writes netlink requests: the header, attributes and host-byte-order fields.</summary>
internal static class NetlinkWriter
{
    /// <summary>
    /// A request of <paramref name="type"/>: a header and a zeroed fixed part of
    /// <paramref name="bodyLength"/> bytes (the family's struct and any attributes), to be filled
    /// from offset <see cref="NetlinkProtocol.HeaderLength"/>.
    /// </summary>
    public static byte[] Request(ushort type, ushort flags, uint sequence, int bodyLength)
    {
        byte[] request = new byte[NetlinkProtocol.HeaderLength + bodyLength];
        WriteHeader(request, type, flags, sequence);
        return request;
    }

    /// <summary>Writes the nlmsghdr of a request whose total length is the span's (port id 0: to the kernel).</summary>
    public static void WriteHeader(Span<byte> message, ushort type, ushort flags, uint sequence)
    {
        WriteUInt32(message, (uint)message.Length);
        WriteUInt16(message[4..], type);
        WriteUInt16(message[6..], flags);
        WriteUInt32(message[8..], sequence);
    }

    /// <summary>The aligned length of an attribute whose value has <paramref name="valueLength"/> bytes.</summary>
    public static int AttributeLength(int valueLength) => NetlinkProtocol.Align(NetlinkProtocol.AttributeHeaderLength + valueLength);

    /// <summary>Writes one attribute at the start of the span; returns its aligned length.</summary>
    public static int WriteAttribute(Span<byte> span, ushort type, ReadOnlySpan<byte> value)
    {
        WriteUInt16(span, (ushort)(NetlinkProtocol.AttributeHeaderLength + value.Length));
        WriteUInt16(span[2..], type);
        value.CopyTo(span[NetlinkProtocol.AttributeHeaderLength..]);
        return AttributeLength(value.Length);
    }

    public static void WriteUInt16(Span<byte> span, ushort value) => MemoryMarshal.Write(span, in value);

    public static void WriteUInt32(Span<byte> span, uint value) => MemoryMarshal.Write(span, in value);

    public static void WriteInt32(Span<byte> span, int value) => MemoryMarshal.Write(span, in value);
}
