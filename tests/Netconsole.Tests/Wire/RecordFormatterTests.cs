using System.Globalization;
using System.Net;
using System.Text;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

public class RecordFormatterTests
{
    private static NetconsoleTargetOptions Options(bool extended = true) => new()
    {
        RemoteAddress = IPAddress.Parse("192.0.2.2"),
        Extended = extended,
    };

    private static NetconsoleRecord Record(string text, int level = 6, ulong seq = 42, ulong ts = 1234) =>
        NetconsoleRecord.FromString(level, text) with { Sequence = seq, TimestampMicroseconds = ts };

    private static List<string> Datagrams(RecordFormatter formatter, in NetconsoleRecord record)
    {
        var list = new List<string>();
        foreach (ReadOnlySpan<byte> d in formatter.Format(record))
        {
            list.Add(Encoding.Latin1.GetString(d));
        }

        return list;
    }

    [Fact]
    public void Basic_format_sends_the_text_and_a_newline_without_header()
    {
        Datagrams(new RecordFormatter(Options(extended: false).ToRecordFormat()), Record("hello world"))
            .Should().Equal("hello world\n");
    }

    [Fact]
    public void Basic_format_cuts_long_text_into_consecutive_1000_byte_datagrams()
    {
        string text = new string('a', 999) + new string('b', 1000) + "c";
        var datagrams = Datagrams(new RecordFormatter(Options(extended: false).ToRecordFormat()), Record(text));
        datagrams.Select(d => d.Length).Should().Equal(1000, 1000, 1);
        string.Concat(datagrams).Should().Be(text + "\n");
    }

    [Fact]
    public void Basic_format_sends_text_bytes_unescaped()
    {
        Datagrams(new RecordFormatter(Options(extended: false).ToRecordFormat()), Record("a\tb\\c"))
            .Should().Equal("a\tb\\c\n");
    }

    [Fact]
    public void Extended_header_is_prio_seq_timestamp_flag_with_prio_from_facility_and_level()
    {
        // facility 1 (user) << 3 | level 6 (info) = 14
        Datagrams(new RecordFormatter(Options().ToRecordFormat()), Record("hello", level: 6, seq: 42, ts: 1234))
            .Should().Equal("14,42,1234,-;hello\n");
    }

    [Fact]
    public void Record_facility_overrides_the_targets_facility()
    {
        var record = Record("x", level: 3) with { Facility = 0 };
        Datagrams(new RecordFormatter(Options().ToRecordFormat()), record).Should().Equal("3,42,1234,-;x\n");
    }

    [Theory]
    [InlineData(RecordContinuation.None, "-")]
    [InlineData(RecordContinuation.First, "c")]
    [InlineData(RecordContinuation.Continuation, "+")]
    public void Continuation_flag_is_written_as_the_kernel_does(RecordContinuation continuation, string flag)
    {
        var record = Record("x") with { Continuation = continuation };
        Datagrams(new RecordFormatter(Options().ToRecordFormat()), record).Should().Equal($"14,42,1234,{flag};x\n");
    }

    [Fact]
    public void Body_escapes_control_bytes_high_bytes_and_backslash_so_a_multiline_text_is_one_record()
    {
        Datagrams(new RecordFormatter(Options().ToRecordFormat()), Record("line1\nline2\\é\u007f"))
            .Should().Equal(@"14,42,1234,-;line1\x0aline2\x5c\xc3\xa9\x7f" + "\n");
    }

    [Fact]
    public void Dictionary_lines_follow_the_body_with_a_leading_space_and_empty_values_omitted()
    {
        var record = Record("msg") with
        {
            Dictionary =
            [
                new("SUBSYSTEM", "net"),
                new("EMPTY", ""),
                new("DEVICE", "+net:eth0\n"),
                new("A=B", "c"),
            ],
        };
        Datagrams(new RecordFormatter(Options().ToRecordFormat()), record).Should().Equal(
            "14,42,1234,-;msg\n SUBSYSTEM=net\n DEVICE=+net:eth0\\x0a\n A\\x3dB=c\n");
    }

    [Fact]
    public void Userdata_lines_follow_the_dictionary_in_configuration_order_and_empty_values_are_omitted()
    {
        var options = Options();
        options.Userdata["zone"] = "eu-1";
        options.Userdata["rack"] = "";
        options.Userdata["app"] = "billing";
        var record = Record("msg") with { Dictionary = [new("K", "v")] };
        Datagrams(new RecordFormatter(options.ToRecordFormat()), record).Should().Equal(
            "14,42,1234,-;msg\n K=v\n zone=eu-1\n app=billing\n");
    }

    [Fact]
    public void Values_follow_the_dictionary_formatted_with_the_invariant_culture_and_null_or_empty_ones_are_omitted()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE"); // decimal comma: must not reach the wire
        try
        {
            var record = Record("msg") with
            {
                Dictionary = [new("K", "v")],
                Values =
                [
                    new("ORDER", 4711),
                    new("PRICE", 12.5),
                    new("AT", new DateTime(2026, 11, 26, 6, 30, 0, DateTimeKind.Utc)),
                    new("ID", new Guid("01234567-89ab-cdef-0123-456789abcdef")),
                    new("LEVEL", LogLevelLike.Warning),
                    new("NOTHING", null),
                    new("EMPTY", ""),
                    new("TEXT", "a\tb"),
                    new("OTHER", new Uri("http://example.com/x")),
                ],
            };

            Datagrams(new RecordFormatter(Options().ToRecordFormat()), record).Should().Equal(
                "14,42,1234,-;msg\n K=v\n ORDER=4711\n PRICE=12.5\n AT=11/26/2026 06:30:00\n ID=01234567-89ab-cdef-0123-456789abcdef\n"
                + " LEVEL=Warning\n TEXT=a\\x09b\n OTHER=http://example.com/x\n");
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void A_formattable_value_longer_than_the_scratch_buffer_is_written_whole()
    {
        var big = new BigFormattable(5000);
        var record = Record("t") with { Values = [new("BIG", big)] };

        string datagram = string.Concat(Datagrams(new RecordFormatter(Options().ToRecordFormat()), record).Select(d => d[(d.IndexOf(';') + 1)..]));

        datagram.Should().Contain(" BIG=" + new string('z', 5000));
    }

    // Issue 20: "never throws for any record content" held for everything but a value whose
    // ToString throws; through TargetManager the record was then dropped as InternalError.
    [Fact]
    public void A_value_whose_text_cannot_be_made_goes_out_marked_and_counted_and_its_record_goes_out()
    {
        var formatter = new RecordFormatter(Options().ToRecordFormat());
        NetconsoleRecord record = Record("disk OK", seq: 1) with { Values = [new("BAD", new ThrowsInToString()), new("GOOD", 7), new("SPAN", new ThrowsInTryFormat())] };

        List<string> datagrams = Datagrams(formatter, record);

        datagrams.Should().Equal("14,1,1234,-;disk OK\n BAD=[not rendered: ThrowsInToString threw InvalidOperationException]\n GOOD=7\n SPAN=[not rendered: ThrowsInTryFormat threw FormatException]\n");
        formatter.UnrenderableValues.Should().Be(2);
        Datagrams(formatter, record with { Sequence = 2, Values = [new("GOOD", 8)] }).Single().Should().EndWith(" GOOD=8\n", "the formatter is unharmed");
    }

    private sealed class ThrowsInToString
    {
        public override string ToString() => throw new InvalidOperationException("broken");
    }

    private sealed class ThrowsInTryFormat : ISpanFormattable
    {
        public string ToString(string? format, IFormatProvider? formatProvider) => throw new FormatException("broken");

        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) => throw new FormatException("broken");
    }

    private enum LogLevelLike
    {
        Information,
        Warning,
    }

    private sealed class BigFormattable(int length) : ISpanFormattable
    {
        public string ToString(string? format, IFormatProvider? formatProvider) => new('z', length);

        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        {
            if (destination.Length < length)
            {
                charsWritten = 0;
                return false;
            }

            destination[..length].Fill('z');
            charsWritten = length;
            return true;
        }
    }

    [Fact]
    public void Sysdata_lines_come_after_userdata_in_the_kernels_order_cpu_taskname_release_msgid()
    {
        var options = Options();
        options.Userdata["k"] = "v";
        options.Release = "6.4.0";
        options.Sysdata = SysdataFields.All;
        var record = Record("msg") with { Cpu = 3, TaskName = "worker" };
        Datagrams(new RecordFormatter(options.ToRecordFormat()), record).Should().Equal(
            "14,42,1234,-;msg\n k=v\n cpu=3\n taskname=worker\n release=6.4.0\n msgid=1\n");
    }

    [Fact]
    public void Msgid_is_per_formatter_starts_at_1_and_increments_per_record()
    {
        var options = Options();
        options.Sysdata = SysdataFields.MessageId;
        var a = new RecordFormatter(options.ToRecordFormat());
        var b = new RecordFormatter(options.ToRecordFormat());
        Datagrams(a, Record("1")).Single().Should().EndWith(" msgid=1\n");
        Datagrams(a, Record("2")).Single().Should().EndWith(" msgid=2\n");
        Datagrams(b, Record("1")).Single().Should().EndWith(" msgid=1\n");
        a.LastMessageId.Should().Be(2);
    }

    [Fact]
    public void Msgid_wraps_after_uint_max()
    {
        var options = Options();
        options.Sysdata = SysdataFields.MessageId;
        var formatter = new RecordFormatter(options.ToRecordFormat()) { LastMessageIdForTests = uint.MaxValue - 1 };
        Datagrams(formatter, Record("a")).Single().Should().EndWith(" msgid=4294967295\n");
        Datagrams(formatter, Record("b")).Single().Should().EndWith(" msgid=0\n");
    }

    [Fact]
    public void Taskname_is_escaped_and_cut_to_64_bytes()
    {
        var options = Options();
        options.Sysdata = SysdataFields.TaskName;
        var record = Record("m") with { TaskName = "a\tb" };
        Datagrams(new RecordFormatter(options.ToRecordFormat()), record).Single().Should().EndWith(" taskname=a\\x09b\n");
        record = Record("m") with { TaskName = new string('t', 100) };
        Datagrams(new RecordFormatter(options.ToRecordFormat()), record).Single().Should().EndWith($" taskname={new string('t', 64)}\n");
    }

    [Fact]
    public void Release_prefix_matches_the_kernel_documentation_example()
    {
        var options = Options();
        options.PrependRelease = true;
        options.Release = "6.4.0";
        var record = NetconsoleRecord.FromString(6, "netconsole: network logging started") with
        {
            Facility = 0,
            Sequence = 444,
            TimestampMicroseconds = 501151268,
        };
        Datagrams(new RecordFormatter(options.ToRecordFormat()), record).Should().Equal(
            "6.4.0,6,444,501151268,-;netconsole: network logging started\n");
    }

    // The kernel's netcons_fragmented_msg.sh: a 958-byte body and a 177-byte userdata line
    // give 1135 bytes of data, sent as ncfrag=0/1135 and ncfrag=967/1135.
    internal static (NetconsoleTargetOptions Options, NetconsoleRecord Record, string Body, string UserdataLine) SelftestVector()
    {
        string userdataValue = string.Concat(Enumerable.Range(1, 60).Select(i => Truncate(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 2) + "-"));
        string message = string.Concat(Enumerable.Range(1, 150).Select(i => "MSG" + Truncate(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 3) + "="));
        string text = message + ": netcons_a1b2c"; // the selftest's target name has 13 characters
        var options = Options();
        options.Userdata["key"] = userdataValue;
        var record = NetconsoleRecord.FromString(5, text) with { Sequence = 468, TimestampMicroseconds = 514729715 };
        return (options, record, text + "\n", " key=" + userdataValue + "\n");

        static string Truncate(string s, int n) => s.Length <= n ? s : s[..n];
    }

    [Fact]
    public void Kernel_selftest_fragmented_message_gives_the_same_two_datagrams()
    {
        var (options, record, body, userdataLine) = SelftestVector();
        body.Length.Should().Be(958);
        userdataLine.Length.Should().Be(177);
        string data = body + userdataLine;

        var datagrams = Datagrams(new RecordFormatter(options.ToRecordFormat()), record);

        datagrams.Should().Equal(
            "13,468,514729715,-,ncfrag=0/1135;" + data[..967],
            "13,468,514729715,-,ncfrag=967/1135;" + data[967..]);
        datagrams[0].Length.Should().Be(1000);
    }

    [Fact]
    public void Release_prefix_is_repeated_in_every_fragment_and_counts_toward_the_1000_bytes()
    {
        var (options, record, body, userdataLine) = SelftestVector();
        options.PrependRelease = true;
        options.Release = "6.13.0-04048-g4f561a87745a";
        string data = body + userdataLine;
        string first = "6.13.0-04048-g4f561a87745a,13,468,514729715,-,ncfrag=0/1135;";
        int firstChunk = 1000 - first.Length;

        var datagrams = Datagrams(new RecordFormatter(options.ToRecordFormat()), record);

        datagrams.Should().Equal(
            first + data[..firstChunk],
            $"6.13.0-04048-g4f561a87745a,13,468,514729715,-,ncfrag={firstChunk}/1135;" + data[firstChunk..]);
    }

    [Fact]
    public void A_record_of_exactly_1000_bytes_is_one_datagram_and_one_more_byte_fragments()
    {
        string header = "14,42,1234,-;";
        var formatter = new RecordFormatter(Options().ToRecordFormat());
        Datagrams(formatter, Record(new string('x', 1000 - header.Length - 1))).Should().ContainSingle()
            .Which.Length.Should().Be(1000);
        var two = Datagrams(formatter, Record(new string('x', 1000 - header.Length)));
        two.Should().HaveCount(2);
        two[0].Should().StartWith("14,42,1234,-,ncfrag=0/988;");
    }

    [Fact]
    public void Fragments_are_exactly_1000_bytes_except_the_last_and_carry_every_data_byte_in_order()
    {
        string text = string.Concat(Enumerable.Range(0, 700).Select(i => $"{i};"));
        var datagrams = Datagrams(new RecordFormatter(Options().ToRecordFormat()), Record(text));
        datagrams.Take(datagrams.Count - 1).Should().OnlyContain(d => d.Length == 1000);
        datagrams[^1].Length.Should().BeLessThanOrEqualTo(1000);
        string reassembled = string.Concat(datagrams.Select(d => d[(d.IndexOf(';', StringComparison.Ordinal) + 1)..]));
        reassembled.Should().Be(text + "\n");
        int offset = 0;
        foreach (string d in datagrams)
        {
            d.Should().StartWith($"14,42,1234,-,ncfrag={offset}/{text.Length + 1};");
            offset += d.Length - d.IndexOf(';', StringComparison.Ordinal) - 1;
        }
    }

    [Fact]
    public void Record_data_over_8191_bytes_becomes_a_continued_group_with_consecutive_sequence_numbers()
    {
        // 20000 bytes, a third of them escaped (4 wire bytes each): the cut must never split an escape.
        var text = new byte[20000];
        for (int i = 0; i < text.Length; i++)
        {
            text[i] = i % 3 == 0 ? (byte)'\n' : (byte)('a' + (i % 26));
        }

        var record = new NetconsoleRecord(6, text) { Sequence = 100, TimestampMicroseconds = 5 };
        var formatter = new RecordFormatter(Options().ToRecordFormat());
        FormattedRecord formatted = formatter.Format(record);
        int used = formatted.SequenceNumbersUsed;
        var datagrams = Datagrams(formatter, record);

        var parts = datagrams.GroupBy(d => d.Split(',')[1]).ToList();
        used.Should().Be(parts.Count).And.BeGreaterThan(1);
        parts.Select(p => p.Key).Should().Equal(Enumerable.Range(100, used).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        parts.Select(p => p.First().Split(',')[3].TrimEnd(';')[..1]).Should().Equal(new[] { "c" }.Concat(Enumerable.Repeat("+", used - 1)));

        var escaped = new byte[Escaping.EscapedLength(text)];
        Escaping.Escape(text, escaped);
        var bodies = new StringBuilder();
        foreach (var part in parts)
        {
            string data = string.Concat(part.Select(d => d[(d.IndexOf(';', StringComparison.Ordinal) + 1)..]));
            data.Length.Should().BeLessThanOrEqualTo(RecordFormatter.MaxRecordData);
            data.Should().EndWith("\n");
            data.Should().NotMatchRegex(@"\\x?[0-9a-f]?\n$", "no escape may be cut at a part's end");
            bodies.Append(data[..^1]);
        }

        bodies.ToString().Should().Be(Encoding.Latin1.GetString(escaped));
    }

    [Fact]
    public void A_record_that_already_continues_a_group_keeps_plus_on_every_part()
    {
        var record = Record(new string('z', 9000)) with { Continuation = RecordContinuation.Continuation };
        var datagrams = Datagrams(new RecordFormatter(Options().ToRecordFormat()), record);
        datagrams.Should().OnlyContain(d => d.Split(',')[3].StartsWith('+'));
    }

    [Fact]
    public void Continued_group_parts_each_carry_userdata_and_their_own_msgid()
    {
        var options = Options();
        options.Userdata["host"] = "web-1";
        options.Sysdata = SysdataFields.MessageId;
        var datagrams = Datagrams(new RecordFormatter(options.ToRecordFormat()), Record(new string('q', 9000)));
        var partData = datagrams.GroupBy(d => d.Split(',')[1])
            .Select(g => string.Concat(g.Select(d => d[(d.IndexOf(';', StringComparison.Ordinal) + 1)..])))
            .ToList();
        partData.Should().HaveCount(2);
        partData[0].Should().EndWith("\n host=web-1\n msgid=1\n");
        partData[1].Should().EndWith("\n host=web-1\n msgid=2\n");
    }

    [Fact]
    public void Dictionary_lines_of_a_continued_group_travel_whole_after_the_text()
    {
        var dictionary = Enumerable.Range(0, 400).Select(i => new KeyValuePair<string, string>($"KEY{i}", new string('v', 40))).ToList();
        var record = Record("short text") with { Dictionary = dictionary };
        var datagrams = Datagrams(new RecordFormatter(Options().ToRecordFormat()), record);
        var partData = datagrams.GroupBy(d => d.Split(',')[1])
            .Select(g => string.Concat(g.Select(d => d[(d.IndexOf(';', StringComparison.Ordinal) + 1)..])))
            .ToList();
        partData.Should().HaveCountGreaterThan(1);
        partData[0].Should().StartWith("short text\n KEY0=");
        partData.Skip(1).Should().OnlyContain(p => p.StartsWith("\n KEY", StringComparison.Ordinal));
        var lines = partData.SelectMany(p => p.Split('\n').Skip(1).Where(l => l.Length > 0)).ToList();
        lines.Should().Equal(dictionary.Select(p => $" {p.Key}={p.Value}"));
    }

    [Fact]
    public void A_dictionary_line_too_long_for_any_record_is_cut_between_escapes_and_counted()
    {
        var record = Record("t") with { Dictionary = [new("BIG", new string('\n', 3000))] };
        var formatter = new RecordFormatter(Options().ToRecordFormat());
        var datagrams = Datagrams(formatter, record);
        formatter.TruncatedDictionaryLines.Should().Be(1);
        string data = string.Concat(datagrams.Select(d => d[(d.IndexOf(';', StringComparison.Ordinal) + 1)..]));
        data.Should().MatchRegex(@"^t\n\n BIG=(\\x0a)+\n$", "the line does not fit beside the text, so it opens the second part");
    }

    [Fact]
    public void Empty_text_is_a_valid_record()
    {
        Datagrams(new RecordFormatter(Options().ToRecordFormat()), Record("")).Should().Equal("14,42,1234,-;\n");
        Datagrams(new RecordFormatter(Options(extended: false).ToRecordFormat()), Record("")).Should().Equal("\n");
    }

    [Theory]
    [InlineData(true, 100)]
    [InlineData(true, 5 * 1024)]
    [InlineData(true, 20 * 1024)]
    [InlineData(false, 5 * 1024)]
    public void Formatting_allocates_nothing_per_record_in_steady_state(bool extended, int size)
    {
        var options = Options(extended);
        if (extended)
        {
            options.Userdata["host"] = "web-1";
            options.Sysdata = SysdataFields.All;
            options.PrependRelease = true;
            options.Release = "1.2.3";
        }

        var formatter = new RecordFormatter(options.ToRecordFormat());
        var text = Encoding.UTF8.GetBytes(new string('x', size - 10) + "é\n\\\t!");
        var dictionary = new List<KeyValuePair<string, string>> { new("CATEGORY", "App.Billing"), new("EVENT", "42") };
        object[] orders = [.. Enumerable.Range(0, 1010).Select(i => (object)(100_000 + i))]; // boxed before measuring
        var values = new List<KeyValuePair<string, object?>> { new("ORDER", null), new("PRICE", 19.99), new("AT", DateTime.UnixEpoch) };
        var record = new NetconsoleRecord(6, text) { Dictionary = dictionary, Values = values, TaskName = "main", Cpu = 1 };
        long sink = 0;
        for (int i = 0; i < 10; i++)
        {
            values[0] = new("ORDER", orders[i]);
            sink += formatter.Format(record with { Sequence = (ulong)i }).TotalBytes;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            values[0] = new("ORDER", orders[10 + i]); // a value never formatted before, written without a string
            sink += formatter.Format(record with { Sequence = (ulong)i }).TotalBytes;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0);
        sink.Should().BePositive();
    }
}
