using System.Globalization;
using System.Text;

namespace Netconsole.Tests.Netconsd;

/// <summary>
/// One message as netconsd handed it to its output modules, read back from the line our probe
/// module printed (see ncprobe.c): an extended message ncrx parsed, or a plain datagram it
/// could not parse. Texts are the bytes netconsd passed, as UTF-8.
/// </summary>
/// <param name="Extended">True for a message ncrx parsed (extended format), false for a plain datagram.</param>
/// <param name="Source">The sender as netconsd keys it: its address only (IPv4 as ::ffff:a.b.c.d).</param>
/// <param name="Sequence">The sequence number (extended only).</param>
/// <param name="TimestampMicroseconds">The timestamp field (extended only).</param>
/// <param name="Facility">The facility (extended only).</param>
/// <param name="Level">The level (extended only).</param>
/// <param name="Flags">ncrx's flags, comma-separated in the order cont_start, cont, oos, seq_reset, emg; "-" for none (extended only).</param>
/// <param name="Missing">Bytes still missing when an incomplete fragmented message was given up (extended only).</param>
/// <param name="Release">The release netconsd recognised before the priority, or "".</param>
/// <param name="Text">The text: up to the first newline (extended), or the whole datagram (plain).</param>
/// <param name="Dictionary">What followed the text's first newline (extended), or null when there was no newline.</param>
/// <param name="Line">The probe's line as printed.</param>
internal sealed record NetconsdMessage(
    bool Extended,
    string Source,
    ulong Sequence,
    ulong TimestampMicroseconds,
    int Facility,
    int Level,
    string Flags,
    int Missing,
    string Release,
    string Text,
    string? Dictionary,
    string Line)
{
    /// <summary>The first field of every line the probe module prints.</summary>
    public const string Prefix = "ncprobe\t";

    /// <summary>Reads a probe line of kind "ext" or "plain"; null for any other line (netconsd's own log, the printer module's, the probe's init and exit).</summary>
    public static NetconsdMessage? TryParse(string line)
    {
        string[] fields = line.Split('\t');
        if (fields.Length < 3 || fields[0] + "\t" != Prefix || fields[1] is not ("ext" or "plain"))
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string field in fields.Skip(2))
        {
            int eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"ncprobe field without '=': \"{field}\" in \"{line}\"");
            }

            values.Add(field[..eq], field[(eq + 1)..]);
        }

        ulong Number(string key) => values.TryGetValue(key, out string? v) ? ulong.Parse(v, CultureInfo.InvariantCulture) : 0;
        string Text(string key) => values.TryGetValue(key, out string? v) ? Decode(v) : "";
        return new NetconsdMessage(
            Extended: fields[1] == "ext",
            Source: values["src"],
            Sequence: Number("seq"),
            TimestampMicroseconds: Number("ts"),
            Facility: (int)Number("facility"),
            Level: (int)Number("level"),
            Flags: values.GetValueOrDefault("flags", "-"),
            Missing: (int)Number("missing"),
            Release: Text("release"),
            Text: Text("text"),
            Dictionary: values.ContainsKey("dict") ? Text("dict") : null,
            Line: line);
    }

    /// <summary>Reverses the probe's %NN escapes; the bytes are read as UTF-8.</summary>
    public static string Decode(string escaped)
    {
        var bytes = new List<byte>(escaped.Length);
        for (int i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '%')
            {
                bytes.Add(byte.Parse(escaped.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.Add((byte)escaped[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <inheritdoc/>
    public override string ToString() => Line;
}
