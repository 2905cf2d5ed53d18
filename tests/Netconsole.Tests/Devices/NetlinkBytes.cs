using System.Runtime.InteropServices;
using System.Text;
using CsCheck;

namespace Netconsole.Tests.Devices;

/// <summary>Crafts rtnetlink messages byte by byte (host byte order, 4-byte alignment), independently of the parser.</summary>
internal static class NetlinkBytes
{
    public const ushort NewLink = 16;
    public const ushort DelLink = 17;
    public const uint Up = 0x1;
    public const uint Running = 0x40;
    public const uint LowerUp = 0x10000;

    public static byte[] Link(ushort type, int index, string? name, byte[]? mac = null, uint flags = Up | Running | LowerUp, byte family = 0, uint sequence = 0, ushort messageFlags = 0)
    {
        var payload = new List<byte>();
        payload.Add(family);
        payload.Add(0);
        payload.AddRange(U16(1)); // ARPHRD_ETHER
        payload.AddRange(I32(index));
        payload.AddRange(U32(flags));
        payload.AddRange(U32(0));
        if (name is not null)
        {
            payload.AddRange(Attribute(3, [.. Encoding.UTF8.GetBytes(name), 0]));
        }

        if (mac is not null)
        {
            payload.AddRange(Attribute(1, mac));
        }

        payload.AddRange(Attribute(4, U32(1500))); // IFLA_MTU, ignored
        return Message(type, [.. payload], sequence, messageFlags);
    }

    public static byte[] Done(uint sequence = 0) => Message(3, I32(0), sequence, 2);

    public static byte[] Error(int errno, uint sequence = 0) => Message(2, [.. I32(-errno), .. new byte[16]], sequence);

    public static byte[] Message(ushort type, byte[] payload, uint sequence = 0, ushort flags = 0)
    {
        int length = 16 + payload.Length;
        byte[] message = new byte[Align(length)];
        U32((uint)length).CopyTo(message, 0);
        U16(type).CopyTo(message, 4);
        U16(flags).CopyTo(message, 6);
        U32(sequence).CopyTo(message, 8);
        payload.CopyTo(message, 16);
        return message;
    }

    public static byte[] Attribute(ushort type, byte[] value)
    {
        int length = 4 + value.Length;
        byte[] attribute = new byte[Align(length)];
        U16((ushort)length).CopyTo(attribute, 0);
        U16(type).CopyTo(attribute, 2);
        value.CopyTo(attribute, 4);
        return attribute;
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>
    /// Hands <paramref name="parse"/> many copies of <paramref name="valid"/> with up to six bytes
    /// changed and the tail cut: what a parser must read without ever throwing.
    /// </summary>
    public static void ParseCorruptions(byte[] valid, Action<byte[]> parse)
    {
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).Array[1, 6].Sample(edits =>
        {
            byte[] datagram = (byte[])valid.Clone();
            int cut = datagram.Length;
            foreach ((int position, byte value, int length) in edits)
            {
                datagram[position] = value;
                cut = Math.Min(cut, length);
            }

            parse(datagram[..cut]);
        }, iter: 20_000);
    }

    public static int Align(int length) => (length + 3) & ~3;

    public static byte[] U16(ushort value)
    {
        byte[] bytes = new byte[2];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }

    public static byte[] U32(uint value)
    {
        byte[] bytes = new byte[4];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }

    public static byte[] I32(int value)
    {
        byte[] bytes = new byte[4];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }
}
