using System.Text;
using CsCheck;
using Netconsole.Receiving;

namespace Netconsole.Tests.Receiving;

/// <summary>
/// The dictionary lines of a record's data, as the reassembler decodes them: empty lines skipped
/// (a run of them at once) and the non-empty lines beyond the cap counted 16 bytes at a time
/// (issue 16: a datagram of empty lines took 40 times the work of one of text, one of short
/// lines beyond the cap 15 times). The same entries and counts as splitting line by line.
/// </summary>
public sealed class DictionaryLinesTests
{
    // What the data means, the slow and obvious way: text up to the first newline, then every
    // non-empty line an entry, split at its first '=' after an optional leading space.
    private static (string Text, List<KeyValuePair<string, string>> Entries, int Dropped) Reference(string data, int maxEntries)
    {
        int newline = data.IndexOf('\n', StringComparison.Ordinal);
        string text = newline < 0 ? data : data[..newline];
        string[] lines = newline < 0 ? [] : data[(newline + 1)..].Split('\n').Where(l => l.Length > 0).ToArray();
        var entries = lines.Take(maxEntries).Select(l =>
        {
            string line = l[0] == ' ' ? l[1..] : l;
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            return equals < 0 ? KeyValuePair.Create(line, "") : KeyValuePair.Create(line[..equals], line[(equals + 1)..]);
        }).ToList();
        return (text, entries, Math.Max(0, lines.Length - maxEntries));
    }

    [Fact]
    public void Entries_and_the_lines_left_out_are_those_of_splitting_line_by_line()
    {
        // Runs of newlines, short lines and long ones, across the 16-byte steps of the count.
        Gen<string> data = Gen.OneOf(Gen.Const("\n"), Gen.Const("\n\n\n"), Gen.Const(" a=b"), Gen.Const("k=v=w"), Gen.Const(" "), Gen.Const("xyz"), Gen.Const(new string('q', 20)))
            .Array[0, 60].Select(parts => string.Concat(parts));
        Gen.Select(data, Gen.Int[0, 8]).Sample((text, maxEntries) =>
        {
            var entries = new List<KeyValuePair<string, string>>();
            byte[] decoded = DatagramParser.DecodeRecordData(Encoding.ASCII.GetBytes(text), entries, maxEntries, out int dropped);

            var expected = Reference(text, maxEntries);
            Encoding.ASCII.GetString(decoded).Should().Be(expected.Text);
            entries.Should().Equal(expected.Entries);
            dropped.Should().Be(expected.Dropped);
        });
    }

    [Fact]
    public void A_datagram_of_nothing_but_newlines_has_no_entry_and_none_left_out()
    {
        var entries = new List<KeyValuePair<string, string>>();
        byte[] data = Encoding.ASCII.GetBytes("x" + new string('\n', 65_000));

        DatagramParser.DecodeRecordData(data, entries, 256, out int dropped);

        entries.Should().BeEmpty();
        dropped.Should().Be(0);
    }

    [Fact]
    public void Short_lines_beyond_the_cap_are_all_counted()
    {
        var entries = new List<KeyValuePair<string, string>>();
        var data = new StringBuilder("x");
        for (int i = 0; i < 13_000; i++)
        {
            data.Append(i % 3 == 0 ? "\n\n a=b" : "\n a=b"); // empty lines among them are not entries
        }

        DatagramParser.DecodeRecordData(Encoding.ASCII.GetBytes(data.ToString()), entries, 256, out int dropped);

        entries.Should().HaveCount(256);
        dropped.Should().Be(13_000 - 256);
    }
}
