using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Netconsole.Receiving;

namespace Netconsole.Listen;

/// <summary>
/// Prints a record as one line, like netconsd's printer:
/// <c>SENDER seq=SEQ ts=TS_USEC [release=REL] FACILITY.LEVEL [[N parts, M fragments]] TEXT&lt;TAB&gt;KEY=VALUE KEY=VALUE</c>.
/// </summary>
/// <remarks>
/// Text, keys and values are UTF-8 with control characters (C0, DEL, C1, line and paragraph
/// separators), invalid bytes and <c>\</c> written as <c>\xNN</c>, the way netconsole escapes
/// its body; keys and values escape spaces too. So a record stays on one line, a TAB (never
/// part of the escaped text) separates the text from the dictionary, and a space separates the
/// dictionary's pairs.
/// </remarks>
internal static class RecordPrinter
{
    // util-linux dmesg's names, familiar to whoever reads kernel logs.
    private static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "res0", "res1", "res2", "res3", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    private static readonly string[] Levels = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

    // What the fast paths stop at: every byte or char that may have to be escaped (C0, backslash,
    // DEL, every non-ASCII byte to decode; C1 and the line and paragraph separators), space too for
    // keys and values. Runs of anything else are copied as they are.
    private static readonly SearchValues<byte> BytesToLookAt = SearchValues.Create([.. Range(0x00, 0x1f), (byte)'\\', .. Range(0x7f, 0xff)]);
    private static readonly SearchValues<byte> BytesToLookAtWithSpace = SearchValues.Create([.. Range(0x00, 0x20), (byte)'\\', .. Range(0x7f, 0xff)]);
    private static readonly SearchValues<char> CharsToLookAt = SearchValues.Create([.. Chars(0x00, 0x1f), '\\', .. Chars(0x7f, 0x9f), '\u2028', '\u2029']);
    private static readonly SearchValues<char> CharsToLookAtWithSpace = SearchValues.Create([.. Chars(0x00, 0x20), '\\', .. Chars(0x7f, 0x9f), '\u2028', '\u2029']);

    /// <summary>The record's line (<see cref="Append"/>) as a string.</summary>
    /// <param name="record">The record.</param>
    /// <param name="checksSignatures">Whether the receiver holds keys: then an unsigned record is marked as such too.</param>
    public static string Format(ReceivedRecord record, bool checksSignatures = false)
    {
        var line = new StringBuilder(128 + record.Text.Length);
        Append(record, checksSignatures, line);
        return line.ToString();
    }

    /// <summary>
    /// Appends the record's line, without a newline, to <paramref name="line"/>: nothing is
    /// allocated for a record whose text is plain, so the tool keeps up with netconsd.
    /// </summary>
    /// <param name="record">The record.</param>
    /// <param name="checksSignatures">Whether the receiver holds keys: then an unsigned record is marked as such too.</param>
    /// <param name="line">Where the line goes.</param>
    public static void Append(ReceivedRecord record, bool checksSignatures, StringBuilder line)
    {
        AppendSender(record.Sender, line);
        if (!record.IsExtended)
        {
            line.Append(" legacy ");
            EscapeUtf8(record.Text.Span, escapeSpace: false, line);
            return;
        }

        line.Append(CultureInfo.InvariantCulture, $" seq={record.Sequence} ts={record.TimestampMicroseconds}");
        if (record.Release is not null)
        {
            line.Append(" release=");
            EscapeString(record.Release, escapeSpace: true, line);
        }

        line.Append(' ').Append(FacilityName(record.Facility)).Append('.').Append(Levels[record.Level]);

        int notes = 0;
        if (record.PartCount > 1)
        {
            Note(line, ref notes).Append(CultureInfo.InvariantCulture, $"{record.PartCount} parts");
        }

        if (record.FragmentCount > record.PartCount)
        {
            Note(line, ref notes).Append(CultureInfo.InvariantCulture, $"{record.FragmentCount} fragments");
        }

        if (record.Continuation == Netconsole.RecordContinuation.Continuation)
        {
            Note(line, ref notes).Append("continuation");
        }

        switch (record.Signature)
        {
            case RecordSignature.Verified:
                Note(line, ref notes).Append("verified ").Append(record.SigningKeyId);
                break;
            case RecordSignature.Invalid:
                Note(line, ref notes).Append("INVALID SIGNATURE");
                break;
            case RecordSignature.UnknownKey:
                Note(line, ref notes).Append("unknown key ").Append(record.SigningKeyId);
                break;
            case RecordSignature.NotSigned when checksSignatures:
                Note(line, ref notes).Append("unsigned");
                break;
        }

        if (notes > 0)
        {
            line.Append(']');
        }

        line.Append(' ');
        EscapeUtf8(record.Text.Span, escapeSpace: false, line);
        for (int i = 0; i < record.Dictionary.Count; i++)
        {
            line.Append(i == 0 ? '\t' : ' ');
            EscapeString(record.Dictionary[i].Key, escapeSpace: true, line);
            line.Append('=');
            EscapeString(record.Dictionary[i].Value, escapeSpace: true, line);
        }
    }

    /// <summary>A datagram as <c>SENDER N bytes: PAYLOAD</c>, escaped like record text.</summary>
    public static string FormatDatagram(IPEndPoint sender, ReadOnlySpan<byte> datagram)
    {
        var line = new StringBuilder(64 + datagram.Length);
        AppendDatagram(sender, datagram, line);
        return line.ToString();
    }

    /// <summary>Appends <see cref="FormatDatagram"/>'s line, without a newline, to <paramref name="line"/>.</summary>
    public static void AppendDatagram(IPEndPoint sender, ReadOnlySpan<byte> datagram, StringBuilder line)
    {
        AppendSender(sender, line);
        line.Append(CultureInfo.InvariantCulture, $" {datagram.Length} bytes: ");
        EscapeUtf8(datagram, escapeSpace: false, line);
    }

    /// <summary><c>192.0.2.1:6665</c>, <c>[2001:db8::1]:6665</c>, or the address alone when keyed by address (port 0).</summary>
    public static string FormatSender(IPEndPoint sender) =>
        sender.Port == 0 ? sender.Address.ToString() : sender.ToString();

    /// <summary>Appends <see cref="FormatSender"/>'s text without making a string of it.</summary>
    public static void AppendSender(IPEndPoint sender, StringBuilder line)
    {
        Span<char> address = stackalloc char[64]; // an IPv6 address with a scope: at most 65 - 1 chars
        if (!sender.Address.TryFormat(address, out int written))
        {
            line.Append(FormatSender(sender));
            return;
        }

        bool brackets = sender.Port != 0 && sender.AddressFamily == AddressFamily.InterNetworkV6;
        if (brackets)
        {
            line.Append('[');
        }

        line.Append(address[..written]);
        if (brackets)
        {
            line.Append(']');
        }

        if (sender.Port != 0)
        {
            line.Append(':').Append(sender.Port);
        }
    }

    public static string FacilityName(int facility) =>
        facility >= 0 && facility < Facilities.Length ? Facilities[facility] : facility.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// UTF-8 as text, with C0 and C1 controls, DEL, the line and paragraph separators, invalid
    /// bytes, <c>\</c> (and spaces when <paramref name="escapeSpace"/>) as <c>\xNN</c> per byte.
    /// </summary>
    public static void EscapeUtf8(ReadOnlySpan<byte> bytes, bool escapeSpace, StringBuilder output)
    {
        SearchValues<byte> lookAt = escapeSpace ? BytesToLookAtWithSpace : BytesToLookAt;
        Span<char> chars = stackalloc char[256];
        while (!bytes.IsEmpty)
        {
            int plain = bytes.IndexOfAny(lookAt);
            if (plain < 0)
            {
                plain = bytes.Length;
            }

            // Printable ASCII, copied a chunk at a time.
            for (ReadOnlySpan<byte> run = bytes[..plain]; !run.IsEmpty;)
            {
                int n = Math.Min(run.Length, chars.Length);
                Ascii.ToUtf16(run[..n], chars, out int written);
                output.Append(chars[..written]);
                run = run[n..];
            }

            bytes = bytes[plain..];
            if (bytes.IsEmpty)
            {
                break;
            }

            if (bytes[0] < 0x80)
            {
                AppendHex(bytes[..1], output); // a control, DEL, \ or a space
                bytes = bytes[1..];
                continue;
            }

            if (Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) != OperationStatus.Done || MustEscape(rune))
            {
                AppendHex(bytes[..consumed], output);
            }
            else
            {
                output.Append(chars[..rune.EncodeToUtf16(chars)]);
            }

            bytes = bytes[consumed..];
        }
    }

    /// <summary>As <see cref="EscapeUtf8"/>, for text already decoded.</summary>
    public static void EscapeString(string text, bool escapeSpace, StringBuilder output)
    {
        SearchValues<char> lookAt = escapeSpace ? CharsToLookAtWithSpace : CharsToLookAt;
        Span<byte> utf8 = stackalloc byte[4];
        ReadOnlySpan<char> rest = text;
        while (!rest.IsEmpty)
        {
            int plain = rest.IndexOfAny(lookAt);
            if (plain < 0)
            {
                output.Append(rest);
                break;
            }

            output.Append(rest[..plain]);
            var rune = new Rune(rest[plain]); // every char looked at is a scalar value of its own
            AppendHex(utf8[..rune.EncodeToUtf8(utf8)], output);
            rest = rest[(plain + 1)..];
        }
    }

    // Beyond ASCII: the C1 controls and the line and paragraph separators.
    private static bool MustEscape(Rune rune) =>
        Rune.IsControl(rune)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    private static StringBuilder Note(StringBuilder line, ref int notes) =>
        line.Append(notes++ == 0 ? " [" : ", ");

    private static void AppendHex(ReadOnlySpan<byte> bytes, StringBuilder output)
    {
        foreach (byte b in bytes)
        {
            output.Append('\\').Append('x').Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xf]);
        }
    }

    private const string HexDigits = "0123456789abcdef";

    private static byte[] Range(int first, int last) => [.. Enumerable.Range(first, last - first + 1).Select(b => (byte)b)];

    private static char[] Chars(int first, int last) => [.. Enumerable.Range(first, last - first + 1).Select(c => (char)c)];
}
