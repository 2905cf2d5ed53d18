using System.Numerics;
using System.Text;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Receiving;

namespace Netconsole.Tests.Logging;

/// <summary>
/// A dictionary value from a log call is cut to <see cref="NetconsoleLoggerOptions.MaxDictionaryValueBytes"/>
/// (marked <c>[+N bytes]</c> and counted), so a log call with a large argument stays one record;
/// the message text is never cut.
/// </summary>
public sealed class DictionaryValueCapTests : IDisposable
{
    private const int Ipv4Headers = 14 + 20 + 8;

    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private NetconsoleLoggerStatistics Log(Action<ILogger> log, Action<NetconsoleLoggerOptions>? configure = null)
    {
        NetconsoleLoggerOptions options = _harness.Options();
        configure?.Invoke(options);
        using var provider = new NetconsoleLoggerProvider(options);
        using (ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(provider))) // scopes come from the factory
        {
            log(factory.CreateLogger("Shop.Orders"));
        }

        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();
        return provider.GetStatistics();
    }

    private List<ParsedHeader> Datagrams() => _harness.Factory.Frames.Select(Header).ToList();

    private static ParsedHeader Header(byte[] frame)
    {
        ParsedDatagram datagram = DatagramParser.Parse(frame.AsSpan(Ipv4Headers));
        return new ParsedHeader(datagram.Sequence, datagram.Continuation, datagram.IsFragment);
    }

    [Fact]
    public void A_log_call_with_a_5000_character_argument_stays_one_record_on_an_extended_target()
    {
        string payload = new('x', 5000);

        NetconsoleLoggerStatistics statistics = Log(l =>
        {
            l.LogInformation("payload {Payload}", payload);
            l.LogInformation("next");
        });

        // Every datagram of the first record carries sequence number 1 without a continuation
        // flag, and the next record is 2: the record took one sequence number.
        List<ParsedHeader> datagrams = Datagrams();
        datagrams.Should().HaveCountGreaterThan(2);
        datagrams[..^1].Should().AllBeEquivalentTo(new ParsedHeader(1, RecordContinuation.None, IsFragment: true));
        datagrams[^1].Should().Be(new ParsedHeader(2, RecordContinuation.None, IsFragment: false));

        ReceivedRecord record = _harness.Records()[0];
        record.PartCount.Should().Be(1);
        record.TextString.Should().Be("payload " + payload, "the message text is never cut");
        string value = record.FindValue("Payload")!;
        value.Should().Be(new string('x', 256 - "[+4744 bytes]".Length) + "[+4757 bytes]");
        Encoding.UTF8.GetByteCount(value).Should().Be(256);
        statistics.DictionaryValuesTruncated.Should().Be(1);
        statistics.ToString().Should().EndWith(", errors 0, dictionary values truncated 1");
    }

    [Fact]
    public void Without_the_cap_the_same_log_call_becomes_a_continued_group()
    {
        string payload = new('x', 5000);

        NetconsoleLoggerStatistics statistics = Log(l => l.LogInformation("payload {Payload}", payload), o => o.MaxDictionaryValueBytes = 0);

        Datagrams().Select(d => d.Sequence).Distinct().Should().Equal(1UL, 2UL);
        ReceivedRecord record = _harness.Records().Should().ContainSingle().Subject;
        record.PartCount.Should().Be(2);
        record.FindValue("Payload").Should().Be(payload);
        statistics.DictionaryValuesTruncated.Should().Be(0);
    }

    [Theory]
    [InlineData("é", 2)] // 2-byte characters: 122 kept (244 bytes), marker [+356 bytes]
    [InlineData("€", 3)] // 3-byte characters: 81 kept (243 bytes), never the start of one alone
    [InlineData("😀", 4)] // surrogate pairs, 4 bytes: 60 kept (240 bytes, marker [+960 bytes]), never half a pair
    public void A_value_is_cut_between_characters_and_the_marker_counts_the_bytes_left_out(string character, int bytesPerCharacter)
    {
        string value = string.Concat(Enumerable.Repeat(character, 300));
        int total = 300 * bytesPerCharacter;
        int room = 256 - $"[+{total} bytes]".Length;
        int kept = room / bytesPerCharacter;

        Log(l => l.LogInformation("{Value}", value));

        string sent = _harness.Records()[0].FindValue("Value")!;
        sent.Should().Be(string.Concat(Enumerable.Repeat(character, kept)) + $"[+{total - (kept * bytesPerCharacter)} bytes]");
        Encoding.UTF8.GetByteCount(sent).Should().BeLessThanOrEqualTo(256);
    }

    [Fact]
    public void A_value_of_exactly_the_cap_is_sent_whole_and_one_byte_more_is_cut()
    {
        string exact = new('a', 256);
        string over = new('b', 257);

        NetconsoleLoggerStatistics statistics = Log(l => l.LogInformation("{Exact} {Over}", exact, over));

        ReceivedRecord record = _harness.Records()[0];
        record.FindValue("Exact").Should().Be(exact);
        record.FindValue("Over").Should().Be(new string('b', 256 - 12) + "[+13 bytes]");
        statistics.DictionaryValuesTruncated.Should().Be(1);
    }

    [Fact]
    public void The_cap_counts_bytes_before_escaping_and_a_cut_never_splits_an_escape()
    {
        string value = new('\t', 300); // each byte is sent as \x09

        Log(l => l.LogInformation("{Tabs}", value));

        _harness.Records()[0].FindValue("Tabs").Should().Be(new string('\t', 256 - 12) + "[+56 bytes]");
    }

    [Fact]
    public void Values_kept_by_reference_and_rendered_by_the_sender_are_cut_too()
    {
        BigInteger big = BigInteger.Pow(10, 300); // 301 digits
        long small = long.MinValue;

        NetconsoleLoggerStatistics statistics = Log(l => l.LogInformation("{Big} {Small}", big, small), o => o.MaxDictionaryValueBytes = 64);

        ReceivedRecord record = _harness.Records()[0];
        record.FindValue("Big").Should().Be("1" + new string('0', 64 - 12 - 1) + "[+249 bytes]");
        record.FindValue("Small").Should().Be("-9223372036854775808");
        statistics.DictionaryValuesTruncated.Should().Be(1);
    }

    [Fact]
    public void Scope_texts_and_scope_values_are_cut()
    {
        string long1 = new('s', 300);

        Log(l =>
        {
            using (l.BeginScope("{Request}", long1))
            {
                l.LogInformation("in scope");
            }
        });

        ReceivedRecord record = _harness.Records()[0];
        string expected = new string('s', 256 - 12) + "[+56 bytes]";
        record.FindValue("SCOPE").Should().Be(expected);
        record.FindValue("Request").Should().Be(expected);
    }

    [Fact]
    public void Category_and_event_name_are_never_cut()
    {
        string name = new('e', 300);

        NetconsoleLoggerStatistics statistics = Log(l => l.LogInformation(new EventId(7, name), "named"));

        _harness.Records()[0].FindValue("EVENT_NAME").Should().Be(name);
        statistics.DictionaryValuesTruncated.Should().Be(0);
    }

    [Fact]
    public void A_value_is_counted_once_whatever_the_number_of_targets()
    {
        // A short text with a long value: one datagram per target.
        KeyValuePair<string, object?>[] state = [new("Value", new string('v', 1000))];
        NetconsoleLoggerStatistics statistics = Log(
            l => l.Log(LogLevel.Information, default, state, null, (_, _) => "short"),
            o => o.Targets.Add("+6667@/veth0,@192.0.2.3/"));

        _harness.Factory.Frames.Should().HaveCount(2)
            .And.OnlyContain(f => Encoding.Latin1.GetString(f).EndsWith(" Value=" + new string('v', 243) + "[+757 bytes]\n", StringComparison.Ordinal));
        statistics.DictionaryValuesTruncated.Should().Be(1);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(8191)]
    public void The_cap_is_0_for_none_or_64_to_8191_bytes(int cap)
    {
        new NetconsoleLoggerOptions { MaxDictionaryValueBytes = cap }.MaxDictionaryValueBytes.Should().Be(cap);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(8192)]
    public void A_cap_outside_the_range_is_refused_with_the_range(int cap)
    {
        Action set = () => _ = new NetconsoleLoggerOptions { MaxDictionaryValueBytes = cap };

        set.Should().Throw<ArgumentOutOfRangeException>().WithMessage("A dictionary value cap is 0 (no cap) or 64 to 8191 bytes.*");
    }

    private sealed record ParsedHeader(ulong Sequence, RecordContinuation Continuation, bool IsFragment);
}
