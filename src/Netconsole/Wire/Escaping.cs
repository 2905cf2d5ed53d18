using System.Buffers;

namespace Netconsole.Wire;

/// <summary>
/// The extended format's escaping: every byte below 0x20, from 0x7f up, and the backslash
/// itself is written as <c>\xNN</c> (lowercase hex), so a multi-line or binary text stays one
/// record. Dictionary keys additionally escape <c>=</c> so a key can never swallow its value.
/// </summary>
internal static class Escaping
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    // Searched with vectorized IndexOfAny, so runs of plain text are counted and copied in bulk.
    private static readonly SearchValues<byte> Special = SearchValues.Create(SpecialBytes(withEquals: false));
    private static readonly SearchValues<byte> SpecialOrEquals = SearchValues.Create(SpecialBytes(withEquals: true));

    /// <summary>True when <paramref name="b"/> must be escaped in a body or value.</summary>
    public static bool NeedsEscape(byte b) => b < 0x20 || b >= 0x7f || b == (byte)'\\';

    /// <summary>The escaped length of <paramref name="source"/>.</summary>
    public static int EscapedLength(ReadOnlySpan<byte> source, bool escapeEquals = false)
    {
        SearchValues<byte> special = escapeEquals ? SpecialOrEquals : Special;
        int length = source.Length;
        int i;
        while ((i = source.IndexOfAny(special)) >= 0)
        {
            length += 3;
            source = source[(i + 1)..];
        }

        return length;
    }

    /// <summary>Writes <paramref name="source"/> escaped into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <remarks>The destination must hold <see cref="EscapedLength"/> bytes.</remarks>
    public static int Escape(ReadOnlySpan<byte> source, Span<byte> destination, bool escapeEquals = false)
    {
        SearchValues<byte> special = escapeEquals ? SpecialOrEquals : Special;
        int w = 0;
        while (true)
        {
            int i = source.IndexOfAny(special);
            if (i < 0)
            {
                source.CopyTo(destination[w..]);
                return w + source.Length;
            }

            source[..i].CopyTo(destination[w..]);
            w += i;
            byte b = source[i];
            destination[w] = (byte)'\\';
            destination[w + 1] = (byte)'x';
            destination[w + 2] = Hex[b >> 4];
            destination[w + 3] = Hex[b & 0xf];
            w += 4;
            source = source[(i + 1)..];
        }
    }

    private static byte[] SpecialBytes(bool withEquals)
    {
        var bytes = new List<byte>();
        for (int b = 0; b < 256; b++)
        {
            if (NeedsEscape((byte)b) || (withEquals && b == '='))
            {
                bytes.Add((byte)b);
            }
        }

        return [.. bytes];
    }

    /// <summary>
    /// Reverses <see cref="Escape"/> in place semantics: writes the unescaped bytes of
    /// <paramref name="source"/> into <paramref name="destination"/> (which may be the same
    /// memory, as unescaping never grows). A <c>\</c> not followed by <c>x</c> and two hex
    /// digits is kept as it is, as netconsd does with text it cannot decode.
    /// </summary>
    /// <returns>The number of bytes written.</returns>
    public static int Unescape(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int w = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            if (b == (byte)'\\' && i + 3 < source.Length && source[i + 1] == (byte)'x'
                && TryHex(source[i + 2], out int hi) && TryHex(source[i + 3], out int lo))
            {
                destination[w++] = (byte)((hi << 4) | lo);
                i += 3;
            }
            else
            {
                destination[w++] = b;
            }
        }

        return w;
    }

    private static bool TryHex(byte c, out int value)
    {
        value = c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
