using System.Globalization;
using System.Net;
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

    /// <param name="record">The record.</param>
    /// <param name="checksSignatures">Whether the receiver holds keys: then an unsigned record is marked as such too.</param>
    public static string Format(ReceivedRecord record, bool checksSignatures = false)
    {
        var line = new StringBuilder(128 + record.Text.Length);
        line.Append(FormatSender(record.Sender));
        if (!record.IsExtended)
        {
            line.Append(" legacy ");
            EscapeUtf8(record.Text.Span, escapeSpace: false, line);
            return line.ToString();
        }

        line.Append(CultureInfo.InvariantCulture, $" seq={record.Sequence} ts={record.TimestampMicroseconds}");
        if (record.Release is not null)
        {
            line.Append(" release=");
            EscapeString(record.Release, escapeSpace: true, line);
        }

        line.Append(' ').Append(FacilityName(record.Facility)).Append('.').Append(Levels[record.Level]);

        var notes = new List<string>(3);
        if (record.PartCount > 1)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{record.PartCount} parts"));
        }

        if (record.FragmentCount > record.PartCount)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{record.FragmentCount} fragments"));
        }

        if (record.Continuation == Netconsole.RecordContinuation.Continuation)
        {
            notes.Add("continuation");
        }

        switch (record.Signature)
        {
            case RecordSignature.Verified:
                notes.Add("verified " + record.SigningKeyId);
                break;
            case RecordSignature.Invalid:
                notes.Add("INVALID SIGNATURE");
                break;
            case RecordSignature.UnknownKey:
                notes.Add("unknown key " + record.SigningKeyId);
                break;
            case RecordSignature.NotSigned when checksSignatures:
                notes.Add("unsigned");
                break;
        }

        if (notes.Count > 0)
        {
            line.Append(" [").Append(string.Join(", ", notes)).Append(']');
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

        return line.ToString();
    }

    /// <summary>A datagram as <c>SENDER N bytes: PAYLOAD</c>, escaped like record text.</summary>
    public static string FormatDatagram(IPEndPoint sender, ReadOnlySpan<byte> datagram)
    {
        var line = new StringBuilder(64 + datagram.Length);
        line.Append(FormatSender(sender)).Append(CultureInfo.InvariantCulture, $" {datagram.Length} bytes: ");
        EscapeUtf8(datagram, escapeSpace: false, line);
        return line.ToString();
    }

    /// <summary><c>192.0.2.1:6665</c>, <c>[2001:db8::1]:6665</c>, or the address alone when keyed by address (port 0).</summary>
    public static string FormatSender(IPEndPoint sender) =>
        sender.Port == 0 ? sender.Address.ToString() : sender.ToString();

    public static string FacilityName(int facility) =>
        facility >= 0 && facility < Facilities.Length ? Facilities[facility] : facility.ToString(CultureInfo.InvariantCulture);

    public static void EscapeUtf8(ReadOnlySpan<byte> bytes, bool escapeSpace, StringBuilder output)
    {
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                if (MustEscape(rune, escapeSpace))
                {
                    AppendHex(bytes[..consumed], output);
                }
                else
                {
                    output.Append(rune.ToString());
                }
            }
            else
            {
                AppendHex(bytes[..consumed], output);
            }

            bytes = bytes[consumed..];
        }
    }

    public static void EscapeString(string text, bool escapeSpace, StringBuilder output)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (MustEscape(rune, escapeSpace))
            {
                AppendHex(utf8[..rune.EncodeToUtf8(utf8)], output);
            }
            else
            {
                output.Append(rune.ToString());
            }
        }
    }

    private static bool MustEscape(Rune rune, bool escapeSpace) =>
        Rune.IsControl(rune)
        || rune.Value == '\\'
        || (escapeSpace && rune.Value == ' ')
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    private static void AppendHex(ReadOnlySpan<byte> bytes, StringBuilder output)
    {
        foreach (byte b in bytes)
        {
            output.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
        }
    }
}
