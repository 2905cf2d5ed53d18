using System.Globalization;
using System.Text;
using Netconsole.Receiving;
using Netconsole.Targets;

namespace Netconsole.Demo;

/// <summary>Receiving with a deadline, and the demo's compact one-line view of records and statistics.</summary>
internal static class Records
{
    private static readonly string[] Levels = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

    /// <summary>Reads until <paramref name="count"/> records arrived or <paramref name="timeout"/> passed.</summary>
    public static async Task<List<ReceivedRecord>> ReceiveAsync(NetconsoleReceiver receiver, int count, TimeSpan timeout)
    {
        var records = new List<ReceivedRecord>(count);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (records.Count < count)
            {
                records.Add(await receiver.ReadAsync(deadline.Token));
            }
        }
        catch (OperationCanceledException)
        {
        }

        // Anything more that is already there counts too (it would be a bug: nothing else was logged).
        while (receiver.TryRead(out ReceivedRecord? extra))
        {
            records.Add(extra);
        }

        return records;
    }

    public static string LevelName(int level) => level is >= 0 and < 8 ? Levels[level] : level.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>seq=N LEVEL CATEGORY "first line of text" [N fragments] {KEY, KEY}</c>.
    /// </summary>
    public static string Line(ReceivedRecord record)
    {
        var line = new StringBuilder(160);
        line.Append(CultureInfo.InvariantCulture, $"seq={record.Sequence,-3} {LevelName(record.Level),-6}");
        line.Append(' ').Append(record.FindValue("CATEGORY") ?? "-");
        string text = record.TextString;
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        string first = newline < 0 ? text : text[..newline];
        line.Append(" \"").Append(first.Length > 60 ? first[..57] + "..." : first).Append('"');
        if (newline >= 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" (+{text.Count(c => c == '\n')} lines)");
        }

        if (record.FragmentCount > 1 || record.PartCount > 1)
        {
            line.Append(CultureInfo.InvariantCulture, $" [{record.Text.Length} bytes, {record.PartCount} part(s), {record.FragmentCount} fragments]");
        }

        if (record.Dictionary.Count > 0)
        {
            line.Append(" {").Append(string.Join(", ", record.Dictionary.Select(p => p.Key).Distinct())).Append('}');
        }

        return line.ToString();
    }

    public static string Statistics(NetconsoleTarget target)
    {
        TargetStatistics s = target.GetStatistics();
        return string.Create(CultureInfo.InvariantCulture,
            $"{target.Name} on {target.DeviceName}: {s.State}, {(s.RecordsReplayed > 0 ? $"{s.RecordsSent} records sent and {s.RecordsReplayed} replayed in {s.DatagramsSent} datagrams" : $"{s.RecordsSent} records in {s.DatagramsSent} datagrams sent")}, {s.RecordsDropped} dropped{DropReasons(s)}, {s.Resumes} resumes");
    }

    public static string DropReasons(TargetStatistics statistics)
    {
        var reasons = statistics.RecordsDroppedByReason.Where(p => p.Value > 0).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}")).ToList();
        return reasons.Count == 0 ? string.Empty : " (" + string.Join(", ", reasons) + ")";
    }

    /// <summary>Whether the records' sequence numbers increase.</summary>
    public static bool InOrder(IReadOnlyList<ReceivedRecord> records)
    {
        for (int i = 1; i < records.Count; i++)
        {
            if (records[i].Sequence <= records[i - 1].LastSequence)
            {
                return false;
            }
        }

        return true;
    }
}
