using System.Globalization;
using System.Text;

namespace Netconsole.Logging;

/// <summary>
/// A dictionary value cut to <see cref="NetconsoleLoggerOptions.MaxDictionaryValueBytes"/>: the
/// start of its text, then the marker <c>[+N bytes]</c> (N: the UTF-8 bytes left out). Written by
/// the record formatter straight into the datagram (<see cref="IUtf8SpanFormattable"/>), so
/// cutting a value makes no string. Reused by the <see cref="LogRecordWriter"/> from record to record.
/// </summary>
internal sealed class TruncatedValue : IUtf8SpanFormattable
{
    private string _text = string.Empty;
    private int _keptChars;
    private int _omittedBytes;

    /// <summary>The marker's length for a value of <paramref name="totalBytes"/> bytes (at least as long as the real one: N is at most the total).</summary>
    /// <param name="totalBytes">The value's UTF-8 length.</param>
    /// <returns>The bytes the marker may take.</returns>
    public static int MarkerLength(int totalBytes) => "[+ bytes]".Length + CountDigits(totalBytes);

    /// <summary>Holds the first <paramref name="keptChars"/> characters of <paramref name="text"/>.</summary>
    /// <param name="text">The whole text.</param>
    /// <param name="keptChars">The characters kept (never the first half of a surrogate pair alone).</param>
    /// <param name="omittedBytes">The UTF-8 bytes left out.</param>
    public void Set(string text, int keptChars, int omittedBytes)
    {
        _text = text;
        _keptChars = keptChars;
        _omittedBytes = omittedBytes;
    }

    /// <summary>Lets go of the text, so the writer keeps no reference to a record already sent.</summary>
    public void Clear() => Set(string.Empty, 0, 0);

    /// <inheritdoc/>
    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        bytesWritten = 0;
        if (!Encoding.UTF8.TryGetBytes(_text.AsSpan(0, _keptChars), utf8Destination, out int w)
            || !"[+"u8.TryCopyTo(utf8Destination[w..]))
        {
            return false;
        }

        w += 2;
        if (!_omittedBytes.TryFormat(utf8Destination[w..], out int digits, default, CultureInfo.InvariantCulture)
            || !" bytes]"u8.TryCopyTo(utf8Destination[(w + digits)..]))
        {
            return false;
        }

        bytesWritten = w + digits + " bytes]".Length;
        return true;
    }

    /// <summary>The value as it is sent (allocates; for diagnostics).</summary>
    /// <returns>The kept text and the marker.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_text.AsSpan(0, _keptChars)}[+{_omittedBytes} bytes]");

    private static int CountDigits(int value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }
}
