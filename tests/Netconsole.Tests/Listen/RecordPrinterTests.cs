using System.Net;
using System.Text;
using Netconsole.Listen;
using Netconsole.Receiving;

namespace Netconsole.Tests.Listen;

// The one-line format of netconsole-listen, from datagrams through the reassembler.
public class RecordPrinterTests
{
    private static readonly IPEndPoint V4 = new(IPAddress.Parse("192.0.2.1"), 6665);

    private static string Print(IPEndPoint sender, params string[] datagrams) => Print(sender, datagrams.Select(Encoding.UTF8.GetBytes).ToArray());

    private static string Print(IPEndPoint sender, params byte[][] datagrams)
    {
        var reassembler = new RecordReassembler();
        var records = new List<ReceivedRecord>();
        foreach (byte[] datagram in datagrams)
        {
            reassembler.Add(sender, datagram, 0, records);
        }

        reassembler.Flush(records);
        return RecordPrinter.Format(records.Should().ContainSingle().Subject);
    }

    [Fact]
    public void Prints_sender_sequence_timestamp_facility_level_and_text()
    {
        Print(V4, "13,468,514729715,-;hello world\n")
            .Should().Be("192.0.2.1:6665 seq=468 ts=514729715 user.notice hello world");
    }

    [Fact]
    public void Prints_the_release_prefix_after_the_timestamp()
    {
        Print(V4, "6.4.0,6,444,501151268,-;netconsole: network logging started\n")
            .Should().Be("192.0.2.1:6665 seq=444 ts=501151268 release=6.4.0 kern.info netconsole: network logging started");
    }

    [Fact]
    public void Prints_the_dictionary_after_a_tab_with_spaces_escaped()
    {
        Print(V4, "14,1,2,-;link up\n SUBSYSTEM=net\n DEVICE=+net:eth0\n host=web 1\n cpu=3\n")
            .Should().Be("192.0.2.1:6665 seq=1 ts=2 user.info link up\tSUBSYSTEM=net DEVICE=+net:eth0 host=web\\x201 cpu=3");
    }

    [Fact]
    public void Escapes_control_characters_backslashes_and_invalid_UTF8_and_keeps_other_text()
    {
        byte[] datagram = [.. "13,1,2,-;a\\x09b\\x0ac\\x5cd \u00e9 \u65e5 "u8, 0xff, .. "\\xe2\\x80\\xa8!\n"u8];

        Print(V4, datagram).Should().Be("192.0.2.1:6665 seq=1 ts=2 user.notice a\\x09b\\x0ac\\x5cd \u00e9 \u65e5 \\xff\\xe2\\x80\\xa8!");
    }

    [Fact]
    public void Notes_fragments_of_a_record()
    {
        string data = new string('x', 1500) + "\n";

        Print(V4, "13,7,8,-,ncfrag=0/1501;" + data[..900], "13,7,8,-,ncfrag=900/1501;" + data[900..])
            .Should().Be($"192.0.2.1:6665 seq=7 ts=8 user.notice [2 fragments] {new string('x', 1500)}");
    }

    [Fact]
    public void Notes_the_parts_and_fragments_of_a_continued_group()
    {
        string data = "first " + new string('x', 1000) + "\n";

        Print(V4, "13,7,8,c,ncfrag=0/1007;" + data[..500], "13,7,8,c,ncfrag=500/1007;" + data[500..], "13,8,8,+;second\n")
            .Should().Be($"192.0.2.1:6665 seq=7 ts=8 user.notice [2 parts, 3 fragments] first {new string('x', 1000)}second");
    }

    [Fact]
    public void Notes_a_continuation_whose_group_was_lost()
    {
        Print(V4, "13,9,10,+;tail\n").Should().Be("192.0.2.1:6665 seq=9 ts=10 user.notice [continuation] tail");
    }

    [Fact]
    public void Prints_legacy_text_escaped_without_the_final_newline_of_the_message()
    {
        Print(V4, "plain\ttext\n\n").Should().Be("192.0.2.1:6665 legacy plain\\x09text\\x0a");
    }

    [Theory]
    [InlineData("2001:db8::1", 6665, "[2001:db8::1]:6665 seq=1 ts=2 kern.emerg x")]
    [InlineData("192.0.2.1", 0, "192.0.2.1 seq=1 ts=2 kern.emerg x")]
    [InlineData("2001:db8::1", 0, "2001:db8::1 seq=1 ts=2 kern.emerg x")]
    public void Prints_the_address_alone_when_senders_are_keyed_by_address(string address, int port, string expected)
    {
        Print(new IPEndPoint(IPAddress.Parse(address), port), "0,1,2,-;x\n").Should().Be(expected);
    }

    [Theory]
    [InlineData(0, 0, "kern.emerg")]
    [InlineData(1, 4, "user.warn")]
    [InlineData(3, 3, "daemon.err")]
    [InlineData(16, 7, "local0.debug")]
    [InlineData(23, 1, "local7.alert")]
    [InlineData(30, 2, "30.crit")]
    public void Names_facilities_and_levels_like_dmesg(int facility, int level, string expected)
    {
        Print(V4, $"{(facility << 3) | level},1,2,-;x\n").Should().Be($"192.0.2.1:6665 seq=1 ts=2 {expected} x");
    }

    [Fact]
    public void Prints_a_raw_datagram_with_its_length()
    {
        RecordPrinter.FormatDatagram(V4, "13,1,2,-;hi\n"u8).Should().Be("192.0.2.1:6665 12 bytes: 13,1,2,-;hi\\x0a");
    }

    // The printer copies plain runs as they are and looks at the rest: it escapes exactly what the
    // rule says, rune by rune (C0 and C1 controls, DEL, U+2028, U+2029, \, invalid UTF-8, and
    // spaces in keys and values), for any bytes.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Escapes_exactly_what_the_rune_by_rune_rule_escapes(bool escapeSpace)
    {
        var random = new Random(16);
        byte[][] pieces = [.. new[] { "a", " ", "\\", "\t", "\u007f", "\u0085", "\u009f", "\u00a0", "\u00e9", "\u2028", "\u2029", "\u65e5", "\U0001F600", "plain text " }
            .Select(Encoding.UTF8.GetBytes), [0xff], [0xc3], [0xe2, 0x80], [0xed, 0xa0, 0x80], [0x00]];
        for (int i = 0; i < 2000; i++)
        {
            byte[] bytes = [.. Enumerable.Range(0, random.Next(0, 40)).SelectMany(_ => pieces[random.Next(pieces.Length)])];
            var printed = new StringBuilder();
            RecordPrinter.EscapeUtf8(bytes, escapeSpace, printed);
            printed.ToString().Should().Be(EscapedRuneByRune(bytes, escapeSpace), $"for {Convert.ToHexString(bytes)}");

            string text = Encoding.UTF8.GetString(bytes);
            var fromString = new StringBuilder();
            RecordPrinter.EscapeString(text, escapeSpace, fromString);
            fromString.ToString().Should().Be(EscapedRuneByRune(Encoding.UTF8.GetBytes(text), escapeSpace), $"for {Convert.ToHexString(bytes)} decoded");
        }
    }

    private static string EscapedRuneByRune(ReadOnlySpan<byte> bytes, bool escapeSpace)
    {
        var output = new StringBuilder();
        while (!bytes.IsEmpty)
        {
            bool valid = Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) == System.Buffers.OperationStatus.Done;
            bool escape = !valid || Rune.IsControl(rune) || rune.Value == '\\' || (escapeSpace && rune.Value == ' ')
                || Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator;
            output.Append(escape ? string.Concat(bytes[..consumed].ToArray().Select(b => $"\\x{b:x2}")) : rune.ToString());
            bytes = bytes[consumed..];
        }

        return output.ToString();
    }
}
