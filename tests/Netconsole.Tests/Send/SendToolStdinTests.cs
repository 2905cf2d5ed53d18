using System.Globalization;
using System.Text;
using System.Net;
using Netconsole.Receiving;
using Netconsole.Send;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Send;

/// <summary>
/// netconsole-send --stdin, byte for byte (frames written to a pcap file and read back): only LF
/// ends a record, CRs and invalid UTF-8 pass through, a long line becomes a continued group; the
/// default sequence numbers start from the clock, so a second run starts above the first.
/// </summary>
public sealed class SendToolStdinTests : IDisposable
{
    private const string Basic = "@192.0.2.1/,@192.0.2.2/";
    private const string Extended = "+@192.0.2.1/,@192.0.2.2/";
    private readonly string _dir = Directory.CreateTempSubdirectory("netconsole-send-stdin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Pcap(string name) => Path.Combine(_dir, name);

    private (int Exit, string Stdout, string Stderr) Run(byte[] stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = SendTool.Run(args, stdout, stderr, new MemoryStream(stdin));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private (int Exit, string Stdout, string Stderr) RunToPcap(string target, byte[] stdin, string pcap, params string[] more) =>
        Run(stdin, ["--target", target, "--source-mac", "02:00:00:00:00:01", "--write-pcap", Pcap(pcap), "--stdin", .. more]);

    // UDP payloads of an IPv4 pcap file, as bytes.
    private static byte[][] Payloads(string path) =>
        [.. PcapFileReader.Read(path).Select(f => f.Frame[(14 + 20 + 8)..])];

    // Each one-datagram extended record's sequence number and its text as sent (escaped), from ';' to its '\n'.
    private static (ulong Sequence, string Text)[] Records(string path) =>
        [.. Payloads(path).Select(p =>
        {
            string payload = Encoding.Latin1.GetString(p);
            string[] header = payload[..payload.IndexOf(';', StringComparison.Ordinal)].Split(',');
            string text = payload[(payload.IndexOf(';', StringComparison.Ordinal) + 1)..];
            return (ulong.Parse(header[1], CultureInfo.InvariantCulture), text[..text.IndexOf('\n', StringComparison.Ordinal)]);
        })];

    // The records a receiver makes of the file: fragments reassembled, continued groups joined.
    private static List<ReceivedRecord> Received(string path)
    {
        var reassembler = new RecordReassembler();
        var records = new List<ReceivedRecord>();
        var sender = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 6665);
        foreach (byte[] payload in Payloads(path))
        {
            reassembler.Add(sender, payload, 0, records);
        }

        reassembler.Flush(records);
        return records;
    }

    [Fact]
    public void Each_LF_ends_a_record_whose_bytes_go_out_unchanged_CRs_and_invalid_UTF8_included()
    {
        byte[] input = [.. "crlf\r\n"u8, .. "lone\rcr\n"u8, 0xff, 0xfe, (byte)'x', 0xc3, (byte)'\n', (byte)'\n', .. "no final LF"u8];

        var (exit, stdout, stderr) = RunToPcap(Basic, input, "bytes.pcap");

        exit.Should().Be(0, stderr);
        stdout.Should().StartWith("5 record(s)");
        Payloads(Pcap("bytes.pcap")).Should().BeEquivalentTo(
            new byte[][] { [.. "crlf\r\n"u8], [.. "lone\rcr\n"u8], [0xff, 0xfe, (byte)'x', 0xc3, (byte)'\n'], [(byte)'\n'], [.. "no final LF\n"u8] },
            o => o.WithStrictOrdering(),
            "the basic format is the text and a newline: each record's bytes are the line's, the CR before the LF kept");
    }

    [Fact]
    public void In_the_extended_format_a_CR_and_invalid_bytes_are_escaped_not_dropped()
    {
        byte[] input = [.. "crlf\r\n"u8, 0xff, (byte)'\n'];

        var (exit, _, stderr) = RunToPcap(Extended, input, "escaped.pcap", "--seq", "1");

        exit.Should().Be(0, stderr);
        Records(Pcap("escaped.pcap")).Select(r => r.Text).Should().Equal("crlf\\x0d", "\\xff");
    }

    [Fact]
    public void A_line_longer_than_64_KiB_goes_out_as_one_continued_group_and_is_reported_and_counted()
    {
        string line = string.Concat(Enumerable.Range(0, 14_000).Select(i => (i % 10).ToString(CultureInfo.InvariantCulture) + "abcdefghi"))[..(2 * 65536 + 100)];
        byte[] input = Encoding.ASCII.GetBytes("before\n" + line + "\nafter\n");

        var (exit, stdout, stderr) = RunToPcap(Extended, input, "long.pcap", "--seq", "100");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain("line 2 is longer than 65536 bytes: it goes out in pieces of at most 65536 bytes, chained as one continued group (flags c, +)");
        stdout.Should().StartWith("5 record(s)").And.EndWith(", 1 line(s) longer than 65536 bytes sent in pieces" + Environment.NewLine);
        List<ReceivedRecord> records = Received(Pcap("long.pcap"));
        records.Select(r => r.TextString).Should().Equal(["before", line, "after"], "a receiver that joins continued groups gets the line whole");
        ReceivedRecord group = records[1];
        group.PartCount.Should().BeGreaterThan(2, "three pieces, each a continued group of its own parts, chained: c, then + to the end");
        group.Sequence.Should().Be(101);
        records[2].Sequence.Should().Be(group.LastSequence + 1, "the numbers stay contiguous across the group");
    }

    [Fact]
    public void Without_seq_a_second_run_starts_above_the_numbers_of_the_first()
    {
        byte[] lines = "one\ntwo\nthree\n"u8.ToArray();

        RunToPcap(Extended, lines, "first.pcap").Exit.Should().Be(0);
        RunToPcap(Extended, lines, "second.pcap").Exit.Should().Be(0);

        ulong[] first = [.. Records(Pcap("first.pcap")).Select(r => r.Sequence)];
        ulong[] second = [.. Records(Pcap("second.pcap")).Select(r => r.Sequence)];
        first.Should().Equal(first[0], first[0] + 1, first[0] + 2);
        second[0].Should().BeGreaterThan(first[^1], "netconsd discards a number up to 512 behind the newest it saw as a duplicate");
        first[0].Should().BeGreaterThan(1000, "the default is the monotonic clock in microseconds, not 0");
    }

    [Fact]
    public void The_default_sequence_is_the_clock_of_the_timestamps_at_start()
    {
        ulong before = NetconsoleRecord.GetTimestampMicroseconds();
        RunToPcap(Extended, "x\n"u8.ToArray(), "clock.pcap").Exit.Should().Be(0);
        ulong after = NetconsoleRecord.GetTimestampMicroseconds();

        Records(Pcap("clock.pcap")).Single().Sequence.Should().BeInRange(before, after);
    }

    [Fact]
    public void An_explicit_seq_wins_over_the_clock()
    {
        RunToPcap(Extended, "a\nb\n"u8.ToArray(), "explicit.pcap", "--seq", "0").Exit.Should().Be(0);

        Records(Pcap("explicit.pcap")).Select(r => r.Sequence).Should().Equal(0UL, 1UL);
    }

    [Fact]
    public void Standard_input_that_cannot_be_read_is_one_line_and_exit_2_after_what_was_sent()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = SendTool.Run(["--target", Extended, "--source-mac", "02:00:00:00:00:01", "--write-pcap", Pcap("broken.pcap"), "--stdin"],
            stdout, stderr, new BrokenInput("first\n"u8.ToArray()));

        exit.Should().Be(SendTool.UsageError);
        stdout.ToString().Should().StartWith("1 record(s)");
        stderr.ToString().Should().Be("netconsole-send: cannot read standard input: Is a directory" + Environment.NewLine);
    }

    /// <summary>Gives its bytes, then fails as reading a directory does.</summary>
    private sealed class BrokenInput(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            Position < Length ? base.Read(buffer, offset, count) : throw new IOException("Is a directory");
    }
}
