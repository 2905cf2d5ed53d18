using System.Numerics;
using System.Runtime.Intrinsics;
using System.Text;
using Netconsole.Wire;

namespace Netconsole.Receiving;

/// <summary>
/// Reads one netconsole datagram payload: the extended format
/// <c>[release,]prio,seq,ts_usec,flag[,ncfrag=OFF/TOTAL][,other];data</c>, or the basic
/// format's plain (basic-format) text. Never throws for any input.
/// </summary>
/// <remarks>
/// <para>
/// As netconsd: the header is everything before the first <c>;</c> and must be shorter than
/// <see cref="MaxHeaderLength"/> bytes; field 0 is a release string when it contains a <c>.</c>;
/// header fields after the flag other than <c>ncfrag</c> are ignored, so senders may add new ones.
/// </para>
/// <para>
/// A payload is extended when its header's first field after the optional release is a decimal
/// priority followed by a comma; anything else (no <c>;</c>, a header of 1024 bytes or more, a
/// text that merely contains a <c>;</c>) is basic-format text. Once a datagram has started like that,
/// every later error makes it <see cref="DatagramKind.Malformed"/> rather than basic-format text, so a
/// damaged record is counted instead of being shown as garbage.
/// </para>
/// <para>
/// The flag field is read by its first character: <c>-</c> standalone, <c>c</c> first of a
/// continued group, <c>+</c> continuation. An empty or unknown flag reads as standalone
/// (<see cref="RecordContinuation.None"/>): the record itself is intact, and a future flag
/// should not lose it.
/// </para>
/// </remarks>
internal static class DatagramParser
{
    /// <summary>The header before <c>;</c> must be shorter than this, 1024 bytes (netconsd's receive buffer).</summary>
    public const int MaxHeaderLength = 1024;

    /// <summary>The largest <c>ncfrag</c> total accepted, 8191 bytes (netconsd's reassembly limit).</summary>
    
    /// <summary>Parses one datagram payload.</summary>
    /// <param name="datagram">The UDP payload.</param>
    /// <returns>What it is, and its fields.</returns>
    public static ParsedDatagram Parse(ReadOnlySpan<byte> datagram)
    {
        int semicolon = datagram[..Math.Min(datagram.Length, MaxHeaderLength)].IndexOf((byte)';');
        if (semicolon < 0)
        {
            return Basic(datagram);
        }

        ReadOnlySpan<byte> header = datagram[..semicolon];
        ReadOnlySpan<byte> data = datagram[(semicolon + 1)..];

        ReadOnlySpan<byte> rest = header;
        ReadOnlySpan<byte> first = NextField(ref rest, out bool more);
        ReadOnlySpan<byte> release = default;
        bool hasRelease = false;
        if (first.Contains((byte)'.'))
        {
            // The kernel's "r" option: "6.4.0,6,444,..." (a release always has a dot, a priority never).
            if (!more)
            {
                return Basic(datagram);
            }

            release = first;
            hasRelease = true;
            first = NextField(ref rest, out more);
        }

        bool prioFits = TryParseDecimal(first, out ulong prio, out bool isDigits);
        if (!isDigits || !more)
        {
            // Only digits followed by a comma commit the payload to the extended format.
            return Basic(datagram);
        }

        if (!prioFits || prio > int.MaxValue)
        {
            return Malformed(MalformedReason.BadPriority);
        }

        ReadOnlySpan<byte> field = NextField(ref rest, out more);
        if (!more)
        {
            return Malformed(MalformedReason.MissingField);
        }

        if (!TryParseDecimal(field, out ulong seq, out _))
        {
            return Malformed(MalformedReason.BadSequence);
        }

        field = NextField(ref rest, out more);
        if (!more)
        {
            return Malformed(MalformedReason.MissingField);
        }

        if (!TryParseDecimal(field, out ulong ts, out _))
        {
            return Malformed(MalformedReason.BadTimestamp);
        }

        ReadOnlySpan<byte> flagField = NextField(ref rest, out more);
        RecordContinuation continuation = flagField.IsEmpty ? RecordContinuation.None : flagField[0] switch
        {
            (byte)'c' => RecordContinuation.First,
            (byte)'+' => RecordContinuation.Continuation,
            _ => RecordContinuation.None,
        };

        bool isFragment = false;
        ulong offset = 0;
        ulong total = 0;
        ReadOnlySpan<byte> signedHeader = header;
        while (more)
        {
            int fieldStart = header.Length - rest.Length;
            field = NextField(ref rest, out more);
            if (!field.StartsWith("ncfrag="u8))
            {
                if (isFragment)
                {
                    signedHeader = default; // a field after ncfrag: not as a signing sender writes it
                }

                continue; // netconsd ignores header fields it does not know
            }

            signedHeader = header[..(fieldStart - 1)]; // without ",ncfrag=..."

            if (isFragment)
            {
                return Malformed(MalformedReason.BadFragment);
            }

            ReadOnlySpan<byte> value = field["ncfrag="u8.Length..];
            int slash = value.IndexOf((byte)'/');
            if (slash < 0 || !TryParseDecimal(value[..slash], out offset, out _) || !TryParseDecimal(value[(slash + 1)..], out total))
            {
                return Malformed(MalformedReason.BadFragment);
            }

            isFragment = true;
        }

        if (isFragment)
        {
            if (total > RecordFormatter.MaxRecordData)
            {
                return Malformed(MalformedReason.FragmentTooLarge);
            }

            if (total == 0 || data.IsEmpty)
            {
                return Malformed(MalformedReason.BadFragment);
            }

            if (offset >= total || (ulong)data.Length > total - offset)
            {
                return Malformed(MalformedReason.FragmentOutOfRange);
            }
        }

        return new ParsedDatagram(release, hasRelease, (int)prio, seq, ts, continuation, isFragment, (int)offset, (int)total, data, signedHeader);
    }

    /// <summary>
    /// Splits complete extended record data (all fragments joined) into its text and dictionary:
    /// the body up to the first newline, unescaped, then one <c> KEY=VALUE</c> pair per line,
    /// split at the first <c>=</c> (a key's own <c>=</c> travels escaped), both unescaped.
    /// </summary>
    /// <remarks>
    /// Userdata and sysdata lines look exactly like dictionary lines, so they come back as
    /// dictionary pairs. Empty lines are skipped; a line without <c>=</c> is a key with an empty
    /// value; a line without the leading space is taken as it is.
    /// </remarks>
    internal static byte[] DecodeRecordData(ReadOnlySpan<byte> data, List<KeyValuePair<string, string>> dictionary) =>
        DecodeRecordData(data, dictionary, int.MaxValue, out _);

    /// <summary>
    /// As <see cref="DecodeRecordData(ReadOnlySpan{byte}, List{KeyValuePair{string, string}})"/>,
    /// keeping at most <paramref name="maxEntries"/> dictionary entries: the lines after them are
    /// counted in <paramref name="dropped"/>, not decoded (no strings made for them), so a datagram
    /// of thousands of short lines costs no more than one of <paramref name="maxEntries"/>.
    /// </summary>
    internal static byte[] DecodeRecordData(ReadOnlySpan<byte> data, List<KeyValuePair<string, string>> dictionary, int maxEntries, out int dropped)
    {
        dropped = 0;
        int newline = data.IndexOf((byte)'\n');
        ReadOnlySpan<byte> body = newline < 0 ? data : data[..newline];
        byte[] text = Unescape(body);

        ReadOnlySpan<byte> lines = newline < 0 ? default : data[(newline + 1)..];
        Span<byte> scratch = stackalloc byte[256]; // most lines fit; a longer one gets a buffer of its own
        while (true)
        {
            // Empty lines are skipped, a run of them at once: a datagram of nothing but newlines
            // (no entry to count against the cap) took ~6 ns a line, 400 µs for 64 KiB of them.
            int start = lines.IndexOfAnyExcept((byte)'\n');
            if (start < 0)
            {
                break;
            }

            lines = lines[start..];
            int end = lines.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? lines : lines[..end];
            lines = end < 0 ? default : lines[(end + 1)..];
            if (dictionary.Count >= maxEntries)
            {
                dropped = 1 + CountLines(lines);
                break;
            }

            if (line[0] == (byte)' ')
            {
                line = line[1..];
            }

            if (scratch.Length < line.Length)
            {
                scratch = new byte[line.Length];
            }

            int equals = line.IndexOf((byte)'=');
            ReadOnlySpan<byte> key = equals < 0 ? line : line[..equals];
            ReadOnlySpan<byte> value = equals < 0 ? default : line[(equals + 1)..];
            dictionary.Add(new KeyValuePair<string, string>(DecodeString(key, scratch), DecodeString(value, scratch)));
        }

        return text;
    }

    // Escaped UTF-8 as a string; unescaped through scratch (at least as long) only when it has a backslash.
    private static string DecodeString(ReadOnlySpan<byte> escaped, Span<byte> scratch) =>
        escaped.Contains((byte)'\\')
            ? Encoding.UTF8.GetString(scratch[..Escaping.Unescape(escaped, scratch)])
            : Encoding.UTF8.GetString(escaped);

    // The non-empty lines left (each one a dictionary entry that will not be kept), 16 bytes at a
    // time: a line starts at the first byte and after every newline but the last byte, and is
    // empty when it starts with a newline. Stepping line by line took ~6 ns a line, 80 µs for a
    // datagram of short lines: 15 times the work of one of plain text.
    private static int CountLines(ReadOnlySpan<byte> lines)
    {
        if (lines.IsEmpty)
        {
            return 0;
        }

        int count = lines[0] != (byte)'\n' ? 1 : 0;
        ReadOnlySpan<byte> current = lines[..^1];
        ReadOnlySpan<byte> next = lines[1..];
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> newline = Vector128.Create((byte)'\n');
            for (; i <= current.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
            {
                Vector128<byte> starts = Vector128.AndNot(
                    Vector128.Equals(Vector128.Create(current[i..]), newline),
                    Vector128.Equals(Vector128.Create(next[i..]), newline));
                count += BitOperations.PopCount(starts.ExtractMostSignificantBits());
            }
        }

        for (; i < current.Length; i++)
        {
            if (current[i] == (byte)'\n' && next[i] != (byte)'\n')
            {
                count++;
            }
        }

        return count;
    }

    private static byte[] Unescape(ReadOnlySpan<byte> escaped)
    {
        if (!escaped.Contains((byte)'\\'))
        {
            return escaped.ToArray();
        }

        var buffer = new byte[escaped.Length];
        int length = Escaping.Unescape(escaped, buffer);
        return length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray();
    }

    private static ParsedDatagram Basic(ReadOnlySpan<byte> datagram)
    {
        // The basic format ends every record with '\n'; the text is what precedes it.
        if (!datagram.IsEmpty && datagram[^1] == (byte)'\n')
        {
            datagram = datagram[..^1];
        }

        return new ParsedDatagram(DatagramKind.Basic, MalformedReason.None, datagram);
    }

    private static ParsedDatagram Malformed(MalformedReason reason) => new(DatagramKind.Malformed, reason, default);

    // Returns the next comma-separated field; `more` tells whether a comma followed it.
    private static ReadOnlySpan<byte> NextField(scoped ref ReadOnlySpan<byte> rest, out bool more)
    {
        int comma = rest.IndexOf((byte)',');
        if (comma < 0)
        {
            ReadOnlySpan<byte> last = rest;
            rest = default;
            more = false;
            return last;
        }

        ReadOnlySpan<byte> field = rest[..comma];
        rest = rest[(comma + 1)..];
        more = true;
        return field;
    }

    // Strict decimal: one or more ASCII digits, no sign or spaces, no overflow.
    // `isDigits` tells a non-number from a number too large for a u64.
    private static bool TryParseDecimal(ReadOnlySpan<byte> field, out ulong value, out bool isDigits)
    {
        value = 0;
        isDigits = !field.IsEmpty && !field.ContainsAnyExceptInRange((byte)'0', (byte)'9');
        if (!isDigits)
        {
            return false;
        }

        foreach (byte b in field)
        {
            ulong digit = (ulong)(b - '0');
            if (value > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> field, out ulong value) => TryParseDecimal(field, out value, out _);
}
