using System.Text;
using CsCheck;
using Netconsole.Receiving;

namespace Netconsole.Tests.Receiving;

public class DatagramParserTests
{
    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    [Fact]
    public void Kernel_documentation_example_with_release_prefix_parses_into_its_fields()
    {
        var parsed = DatagramParser.Parse(Bytes("6.4.0,6,444,501151268,-;netconsole: network logging started\n"));

        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.HasRelease.Should().BeTrue();
        parsed.GetReleaseString().Should().Be("6.4.0");
        parsed.Priority.Should().Be(6);
        parsed.Facility.Should().Be(0);
        parsed.Level.Should().Be(6);
        parsed.Sequence.Should().Be(444);
        parsed.TimestampMicroseconds.Should().Be(501151268);
        parsed.Continuation.Should().Be(RecordContinuation.None);
        parsed.IsFragment.Should().BeFalse();
        Latin1(parsed.Data).Should().Be("netconsole: network logging started\n");
    }

    [Fact]
    public void Header_without_release_starts_with_the_priority()
    {
        var parsed = DatagramParser.Parse(Bytes("14,42,1234,-;hello\n"));

        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.HasRelease.Should().BeFalse();
        parsed.GetReleaseString().Should().BeNull();
        parsed.Facility.Should().Be(1);
        parsed.Level.Should().Be(6);
        parsed.Sequence.Should().Be(42);
        parsed.TimestampMicroseconds.Should().Be(1234);
    }

    [Theory]
    [InlineData("-", RecordContinuation.None)]
    [InlineData("c", RecordContinuation.First)]
    [InlineData("+", RecordContinuation.Continuation)]
    [InlineData("x", RecordContinuation.None)]
    [InlineData("", RecordContinuation.None)]
    public void Flag_field_gives_the_continuation_and_unknown_flags_read_as_standalone(string flag, RecordContinuation expected)
    {
        var parsed = DatagramParser.Parse(Bytes($"6,1,2,{flag};text\n"));
        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.Continuation.Should().Be(expected);
    }

    [Fact]
    public void Ncfrag_field_gives_offset_and_total()
    {
        var parsed = DatagramParser.Parse(Bytes("13,468,514729715,-,ncfrag=967/1135;abc"));

        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.IsFragment.Should().BeTrue();
        parsed.FragmentOffset.Should().Be(967);
        parsed.FragmentTotal.Should().Be(1135);
        Latin1(parsed.Data).Should().Be("abc");
    }

    [Fact]
    public void Unknown_header_fields_after_the_flag_are_ignored()
    {
        var parsed = DatagramParser.Parse(Bytes("6,1,2,-,future=1,ncfrag=0/3,ncemg;abc"));

        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.FragmentTotal.Should().Be(3);
    }

    [Fact]
    public void Release_field_is_recognised_by_its_dot_even_with_letters_and_dashes()
    {
        var parsed = DatagramParser.Parse(Bytes("6.13.0-04048-g4f561a87745a,13,468,514729715,-;x\n"));
        parsed.GetReleaseString().Should().Be("6.13.0-04048-g4f561a87745a");
        parsed.Priority.Should().Be(13);
    }

    [Theory]
    [InlineData("hello world\n", "hello world")]
    [InlineData("no newline", "no newline")]
    [InlineData("two newlines\n\n", "two newlines\n")]
    [InlineData("", "")]
    [InlineData("a; b, c\n", "a; b, c")]
    [InlineData("8021q: adding VLAN 0 to HW filter on device eth0; ok\n", "8021q: adding VLAN 0 to HW filter on device eth0; ok")]
    [InlineData("Version 1.2, foo; bar\n", "Version 1.2, foo; bar")]
    [InlineData("12;twelve\n", "12;twelve")]
    [InlineData("6.4.0;text\n", "6.4.0;text")]
    public void Payload_without_an_extended_header_is_legacy_text_without_one_trailing_newline(string payload, string text)
    {
        var parsed = DatagramParser.Parse(Bytes(payload));
        parsed.Kind.Should().Be(DatagramKind.Basic);
        Latin1(parsed.Data).Should().Be(text);
    }

    [Fact]
    public void Header_of_1024_bytes_or_more_makes_the_payload_legacy_text()
    {
        string longRelease = "1." + new string('0', 1024 - "1.,6,1,2,-".Length);
        string payload = longRelease + ",6,1,2,-;x";
        payload.IndexOf(';', StringComparison.Ordinal).Should().Be(1024);
        DatagramParser.Parse(Bytes(payload)).Kind.Should().Be(DatagramKind.Basic);

        string justUnder = longRelease[1..] + ",6,1,2,-;x";
        justUnder.IndexOf(';', StringComparison.Ordinal).Should().Be(1023);
        DatagramParser.Parse(Bytes(justUnder)).Kind.Should().Be(DatagramKind.Extended);
    }

    [Theory]
    [InlineData("6,;x", nameof(MalformedReason.MissingField))]
    [InlineData("6,,1,-;x", nameof(MalformedReason.BadSequence))]
    [InlineData("6,444;x", nameof(MalformedReason.MissingField))]
    [InlineData("6,444,501151268;x", nameof(MalformedReason.MissingField))]
    [InlineData("6,abc,1,-;x", nameof(MalformedReason.BadSequence))]
    [InlineData("6,-1,1,-;x", nameof(MalformedReason.BadSequence))]
    [InlineData("6,18446744073709551616,1,-;x", nameof(MalformedReason.BadSequence))]
    [InlineData("6,1, 2,-;x", nameof(MalformedReason.BadTimestamp))]
    [InlineData("6,1,2x,-;x", nameof(MalformedReason.BadTimestamp))]
    [InlineData("99999999999,1,2,-;x", nameof(MalformedReason.BadPriority))]
    [InlineData("6.4.0,6,abc,2,-;x", nameof(MalformedReason.BadSequence))]
    [InlineData("6,1,2,-,ncfrag=;x", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=1;x", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=a/10;x", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=0/0;x", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=0/10;", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=0/10,ncfrag=0/10;x", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=0/8192;x", nameof(MalformedReason.FragmentTooLarge))]
    [InlineData("6,1,2,-,ncfrag=0/99999999999999999999;x", nameof(MalformedReason.BadFragment))]
    [InlineData("6,1,2,-,ncfrag=10/10;x", nameof(MalformedReason.FragmentOutOfRange))]
    [InlineData("6,1,2,-,ncfrag=11/10;x", nameof(MalformedReason.FragmentOutOfRange))]
    [InlineData("6,1,2,-,ncfrag=8/10;xyz", nameof(MalformedReason.FragmentOutOfRange))]
    public void Payload_that_starts_like_an_extended_header_but_breaks_it_is_malformed(string payload, string reason)
    {
        var parsed = DatagramParser.Parse(Bytes(payload));
        parsed.Kind.Should().Be(DatagramKind.Malformed);
        parsed.MalformedReason.Should().Be(Enum.Parse<MalformedReason>(reason));
        parsed.Data.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Largest_fragment_total_8191_and_a_chunk_ending_exactly_at_the_total_are_valid()
    {
        var parsed = DatagramParser.Parse(Bytes("6,1,2,-,ncfrag=8188/8191;xyz"));
        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.FragmentTotal.Should().Be(8191);
    }

    [Fact]
    public void Largest_sequence_and_timestamp_values_parse()
    {
        var parsed = DatagramParser.Parse(Bytes("191,18446744073709551615,18446744073709551615,-;x\n"));
        parsed.Kind.Should().Be(DatagramKind.Extended);
        parsed.Sequence.Should().Be(ulong.MaxValue);
        parsed.TimestampMicroseconds.Should().Be(ulong.MaxValue);
        parsed.Facility.Should().Be(23);
        parsed.Level.Should().Be(7);
    }

    [Fact]
    public void Record_data_splits_into_unescaped_text_and_dictionary_lines_at_the_first_equals()
    {
        var dictionary = new List<KeyValuePair<string, string>>();
        byte[] text = DatagramParser.DecodeRecordData(
            Bytes("line1\\x0aline2\\x5c\\xc3\\xa9\n SUBSYSTEM=net\n DEVICE=+net:eth0\\x0a\n A\\x3dB=c=d\n"), dictionary);

        text.Should().Equal(Encoding.UTF8.GetBytes("line1\nline2\\é"));
        dictionary.Should().Equal(
            new KeyValuePair<string, string>("SUBSYSTEM", "net"),
            new KeyValuePair<string, string>("DEVICE", "+net:eth0\n"),
            new KeyValuePair<string, string>("A=B", "c=d"));
    }

    [Fact]
    public void Record_data_tolerates_a_missing_newline_empty_lines_and_lines_without_equals()
    {
        var dictionary = new List<KeyValuePair<string, string>>();
        DatagramParser.DecodeRecordData(Bytes("only text"), dictionary).Should().Equal(Bytes("only text"));
        dictionary.Should().BeEmpty();

        DatagramParser.DecodeRecordData(Bytes("t\n\n KEY\nNOSPACE=v"), dictionary).Should().Equal(Bytes("t"));
        dictionary.Should().Equal(new KeyValuePair<string, string>("KEY", ""), new KeyValuePair<string, string>("NOSPACE", "v"));
    }

    [Fact]
    public void Random_bytes_never_throw_and_give_one_of_the_three_kinds()
    {
        Gen.Byte.Array[0, 1200].Sample(bytes =>
        {
            var parsed = DatagramParser.Parse(bytes);
            parsed.Kind.Should().BeOneOf(DatagramKind.Basic, DatagramKind.Extended, DatagramKind.Malformed);
            (parsed.Kind == DatagramKind.Malformed).Should().Be(parsed.MalformedReason != MalformedReason.None);
        }, iter: 2000);
    }

    [Fact]
    public void Random_bytes_after_a_valid_header_prefix_never_throw()
    {
        var prefixes = Gen.OneOf("6,", "6,1,", "6,1,2,", "6,1,2,-,ncfrag=", "6.4.0,6,1,2,c,ncfrag=1/");
        var tail = Gen.Char["0123456789,;/=-+cx.\n\\"].Array[0, 40].Select(c => new string(c));
        Gen.Select(prefixes, tail).Sample((prefix, rest) =>
        {
            var parsed = DatagramParser.Parse(Bytes(prefix + rest));
            if (parsed.Kind == DatagramKind.Extended && parsed.IsFragment)
            {
                parsed.FragmentOffset.Should().BeLessThan(parsed.FragmentTotal);
                (parsed.FragmentOffset + parsed.Data.Length).Should().BeLessThanOrEqualTo(parsed.FragmentTotal);
                parsed.FragmentTotal.Should().BeInRange(1, 8191);
            }
        }, iter: 2000);
    }
}
