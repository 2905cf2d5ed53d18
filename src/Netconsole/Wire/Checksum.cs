using System.Buffers.Binary;

namespace Netconsole.Wire;

/// <summary>
/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
/// 16-bit big-endian words, as IPv4 headers and UDP (over its pseudo-header) carry it.
/// </summary>
/// <remarks>
/// <para>
/// A partial sum is an unfolded <see cref="ulong"/> accumulated in the "little-endian word"
/// domain: every 16-bit word is added as if read little-endian. The ones' complement sum is
/// independent of byte order up to a final swap (RFC 1071, section 2(B)), and reading words
/// little-endian lets the loop add 8 bytes at a time on the usual hosts without per-word
/// swaps. <see cref="Fold"/> turns a partial sum back into a big-endian 16-bit sum.
/// </para>
/// <para>
/// Every span passed to <see cref="Add(ulong, ReadOnlySpan{byte})"/> must start at an even
/// offset of the checksummed data; only the last one may have an odd length (its last byte
/// is the high byte of a word padded with zero, as RFC 768 pads the UDP data).
/// </para>
/// </remarks>
internal static class Checksum
{
    /// <summary>Adds <paramref name="data"/> to the partial sum <paramref name="sum"/>.</summary>
    /// <remarks>
    /// Each 8-byte read is added as its two 32-bit halves, so the 64-bit accumulator cannot
    /// overflow for any span length (2^31 bytes add at most 2^61) and the loop needs no carry
    /// handling; 2^16 = 1 (mod 0xffff), so adding wider aligned chunks is the same as adding
    /// their 16-bit words.
    /// </remarks>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 32)
        {
            ulong a = BinaryPrimitives.ReadUInt64LittleEndian(data);
            ulong b = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
            ulong c = BinaryPrimitives.ReadUInt64LittleEndian(data[16..]);
            ulong d = BinaryPrimitives.ReadUInt64LittleEndian(data[24..]);
            sum += (uint)a + (a >> 32) + (uint)b + (b >> 32) + (uint)c + (c >> 32) + (uint)d + (d >> 32);
            data = data[32..];
        }

        while (data.Length >= 8)
        {
            ulong a = BinaryPrimitives.ReadUInt64LittleEndian(data);
            sum += (uint)a + (a >> 32);
            data = data[8..];
        }

        if (data.Length >= 4)
        {
            sum += BinaryPrimitives.ReadUInt32LittleEndian(data);
            data = data[4..];
        }

        if (data.Length >= 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(data);
            data = data[2..];
        }

        if (data.Length == 1)
        {
            // The high byte of a zero-padded big-endian word is the low byte when read little-endian.
            sum += data[0];
        }

        return sum;
    }

    /// <summary>Adds one big-endian 16-bit word (a length, a protocol number) to a partial sum.</summary>
    public static ulong Add(ulong sum, ushort word) => sum + BinaryPrimitives.ReverseEndianness(word);

    /// <summary>Folds a partial sum to the 16-bit ones' complement sum, as a big-endian word value.</summary>
    /// <remarks>A non-zero partial sum never folds to 0 (end-around carry), as in the kernel's csum_fold.</remarks>
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        sum = (sum & 0xffff_ffff) + (sum >> 32);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return BinaryPrimitives.ReverseEndianness((ushort)sum);
    }

    /// <summary>The checksum field value (the complement of the folded sum) for a partial sum.</summary>
    public static ushort Complement(ulong sum) => (ushort)~Fold(sum);
}
