using System.Net;
using System.Text;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

/// <summary>
/// Basic targets may start each line with the kernel's printk time, <c>[%5lu.%06lu] </c> of the
/// record's timestamp, as the kernel's console output with printk.time on.
/// </summary>
public class PrintkTimeTests
{
    private static NetconsoleTargetOptions Basic(bool printkTime = true) => new()
    {
        RemoteAddress = IPAddress.Parse("192.0.2.2"),
        PrintkTime = printkTime,
    };

    private static List<string> Datagrams(string text, ulong timestamp, NetconsoleTargetOptions? options = null)
    {
        var formatter = new RecordFormatter((options ?? Basic()).ToRecordFormat());
        var record = NetconsoleRecord.FromString(6, text) with { Sequence = 1, TimestampMicroseconds = timestamp };
        var list = new List<string>();
        foreach (ReadOnlySpan<byte> d in formatter.Format(record))
        {
            list.Add(Encoding.Latin1.GetString(d));
        }

        return list;
    }

    [Theory]
    [InlineData(0UL, "[    0.000000] hello\n")]
    [InlineData(1_234UL, "[    0.001234] hello\n")]
    [InlineData(5_000_000UL, "[    5.000000] hello\n")]
    [InlineData(12_345_678_901UL, "[12345.678901] hello\n")]
    [InlineData(99_999_999_999UL, "[99999.999999] hello\n")]
    [InlineData(100_000_000_000UL, "[100000.000000] hello\n")] // past 5 digits the field grows, as the kernel's
    [InlineData(123_456_789_012UL, "[123456.789012] hello\n")]
    public void The_prefix_is_the_seconds_right_aligned_in_5_a_dot_6_digits_of_microseconds_and_a_space(ulong timestamp, string expected)
    {
        Datagrams("hello", timestamp).Should().Equal(expected);
    }

    [Fact]
    public void The_widest_timestamp_fits()
    {
        Datagrams("x", ulong.MaxValue).Should().Equal("[18446744073709.551615] x\n");
    }

    [Fact]
    public void Every_line_of_a_multi_line_text_gets_the_prefix_as_a_multi_line_printk()
    {
        Datagrams("first\nsecond\n\nfourth", 1_500_000).Should().Equal(
            "[    1.500000] first\n[    1.500000] second\n[    1.500000] \n[    1.500000] fourth\n");
    }

    [Fact]
    public void An_empty_text_is_the_prefix_and_a_newline()
    {
        Datagrams(string.Empty, 2_000_000).Should().Equal("[    2.000000] \n");
    }

    [Fact]
    public void A_long_line_is_prefixed_once_then_cut_into_1000_byte_datagrams_as_the_kernels_console_output()
    {
        string text = new string('a', 1500) + "\n" + new string('b', 10);
        const string prefix = "[    3.000001] ";

        List<string> datagrams = Datagrams(text, 3_000_001);

        string.Concat(datagrams).Should().Be(prefix + new string('a', 1500) + "\n" + prefix + new string('b', 10) + "\n");
        datagrams.Select(d => d.Length).Should().Equal(1000, 1500 + 1 + 15 + 15 + 10 + 1 - 1000);
        datagrams[1].Should().StartWith("aaa", "a datagram that continues a line has no prefix");
    }

    [Fact]
    public void Bytes_pass_through_unescaped_as_in_the_basic_format()
    {
        var formatter = new RecordFormatter(Basic().ToRecordFormat());
        var record = new NetconsoleRecord(6, new byte[] { 0xff, (byte)'\t', 0x00 }) { TimestampMicroseconds = 7 };

        FormattedRecord formatted = formatter.Format(record);

        formatted.Count.Should().Be(1);
        formatted[0].ToArray().Should().Equal([.. "[    0.000007] "u8, 0xff, (byte)'\t', 0x00, (byte)'\n']);
    }

    [Fact]
    public void Off_by_default_a_basic_record_is_the_text_and_a_newline()
    {
        new NetconsoleTargetOptions().PrintkTime.Should().BeFalse();
        new RecordFormat().PrintkTime.Should().BeFalse();
        Datagrams("hello", 5_000_000, Basic(printkTime: false)).Should().Equal("hello\n");
    }

    [Fact]
    public void The_target_option_is_carried_into_the_record_format_and_copied_by_Clone()
    {
        NetconsoleTargetOptions options = Basic();

        options.ToRecordFormat().PrintkTime.Should().BeTrue();
        options.Clone().PrintkTime.Should().BeTrue();
    }

    [Fact]
    public void With_the_extended_format_the_target_options_are_refused_saying_why()
    {
        NetconsoleTargetOptions options = Basic();
        options.Extended = true;

        Action validate = options.Validate;
        Action format = () => options.ToRecordFormat();

        validate.Should().Throw<NetconsoleConfigurationException>().WithMessage(
            "Invalid netconsole target options \"+6665@/,6666@192.0.2.2/\": the printk time is only written in basic format, the extended format carries the timestamp in its header (clear PrintkTime or Extended). Example: \"@/eth0,@192.0.2.2/\".");
        format.Should().Throw<NetconsoleConfigurationException>();
    }

    [Fact]
    public void With_the_extended_format_the_formatter_refuses_the_record_format()
    {
        Action act = () => _ = new RecordFormatter(new RecordFormat { Extended = true, PrintkTime = true });

        act.Should().Throw<ArgumentException>().WithMessage("The printk time (PrintkTime) is for the basic format: the extended format (Extended) carries the timestamp in its header.*");
    }
}
