using System.Diagnostics;
using System.Net;
using System.Text;
using CsCheck;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Tests.Wire;
using Netconsole.Wire;

namespace Netconsole.Tests.Receiving;

public class RecordReassemblerTests
{
    // What an incomplete 8191-byte record holds: its buffer, a bit per byte, 160 bytes of bookkeeping.
    private const long InFlightCost8191 = 8191 + (128 * 8) + 160;

    private static readonly IPEndPoint Sender = new(IPAddress.Parse("192.0.2.1"), 6665);
    private static readonly IPEndPoint OtherSender = new(IPAddress.Parse("2001:db8::1"), 6665);

    private readonly List<ReceivedRecord> _output = [];

    private static long Ms(double milliseconds) => (long)(milliseconds * Stopwatch.Frequency / 1000);

    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private ReassemblyResult Add(RecordReassembler reassembler, string datagram, double atMs = 0, IPEndPoint? sender = null) =>
        reassembler.Add(sender ?? Sender, Bytes(datagram), Ms(atMs), _output);

    private static List<byte[]> Format(NetconsoleTargetOptions options, in NetconsoleRecord record)
    {
        var list = new List<byte[]>();
        foreach (ReadOnlySpan<byte> d in new RecordFormatter(options.ToRecordFormat()).Format(record))
        {
            list.Add(d.ToArray());
        }

        return list;
    }

    [Fact]
    public void Kernel_documentation_example_becomes_one_record_with_its_release_level_sequence_and_text()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6.4.0,6,444,501151268,-;netconsole: network logging started\n", atMs: 5)
            .Should().Be(ReassemblyResult.Accepted);

        var record = _output.Should().ContainSingle().Subject;
        record.Sender.Should().Be(Sender);
        record.IsExtended.Should().BeTrue();
        record.Release.Should().Be("6.4.0");
        record.Facility.Should().Be(0);
        record.Level.Should().Be(6);
        record.Sequence.Should().Be(444);
        record.TimestampMicroseconds.Should().Be(501151268);
        record.Continuation.Should().Be(RecordContinuation.None);
        record.TextString.Should().Be("netconsole: network logging started");
        record.Dictionary.Should().BeEmpty();
        record.PartCount.Should().Be(1);
        record.FragmentCount.Should().Be(1);
        record.ReceivedTimestamp.Should().Be(Ms(5));
    }

    [Fact]
    public void Escapes_in_the_body_become_bytes_and_dictionary_lines_become_pairs()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "14,42,1234,-;line1\\x0aline2\\x5c\\xff\n SUBSYSTEM=net\n DEVICE=+net:eth0\n");

        var record = _output.Should().ContainSingle().Subject;
        record.Text.ToArray().Should().Equal(Bytes("line1\nline2\\\xff"));
        record.Dictionary.Should().Equal(new KeyValuePair<string, string>("SUBSYSTEM", "net"), new KeyValuePair<string, string>("DEVICE", "+net:eth0"));
        record.Release.Should().BeNull();
    }

    [Fact]
    public void Sysdata_lines_are_found_in_the_dictionary_after_userdata()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "14,42,1234,-;msg\n cpu=99\n k=v\n cpu=3\n taskname=worker\n release=6.4.0\n msgid=17\n");

        var record = _output.Should().ContainSingle().Subject;
        record.SysdataCpu.Should().Be(3, "the last cpu line is the sysdata one");
        record.SysdataTaskName.Should().Be("worker");
        record.SysdataRelease.Should().Be("6.4.0");
        record.SysdataMessageId.Should().Be(17);
        record.FindValue("k").Should().Be("v");
        record.FindValue("absent").Should().BeNull();
    }

    [Fact]
    public void Legacy_text_is_delivered_as_a_record_without_header()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "plain basic format text\n");

        var record = _output.Should().ContainSingle().Subject;
        record.IsExtended.Should().BeFalse();
        record.TextString.Should().Be("plain basic format text");
        record.Level.Should().Be(ReceivedRecord.BasicLevel);
        record.Sequence.Should().Be(0);
        record.Dictionary.Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Kernel_selftest_fragmented_message_is_reassembled_from_its_two_datagrams_in_either_order(bool reversed)
    {
        var (options, record, body, userdataLine) = RecordFormatterTests.SelftestVector();
        var datagrams = Format(options, record);
        datagrams.Should().HaveCount(2);
        if (reversed)
        {
            datagrams.Reverse();
        }

        var reassembler = new RecordReassembler();
        reassembler.Add(Sender, datagrams[0], Ms(0), _output).Should().Be(ReassemblyResult.Accepted);
        _output.Should().BeEmpty();
        reassembler.Add(Sender, datagrams[1], Ms(1), _output).Should().Be(ReassemblyResult.Accepted);

        var received = _output.Should().ContainSingle().Subject;
        received.TextString.Should().Be(body.TrimEnd('\n'));
        received.Dictionary.Select(p => (p.Key, p.Value)).Should().Equal(("key", userdataLine[" key=".Length..^1]));
        received.Sequence.Should().Be(468);
        received.TimestampMicroseconds.Should().Be(514729715);
        received.Level.Should().Be(5);
        received.FragmentCount.Should().Be(2);
        reassembler.GetStatistics().RecordsInFlight.Should().Be(0);
    }

    [Fact]
    public void Fragments_are_placed_by_offset_in_any_order_and_an_exact_copy_is_a_duplicate()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=8/12;ijk\n").Should().Be(ReassemblyResult.Accepted);
        Add(reassembler, "6,7,8,-,ncfrag=0/12;abcd").Should().Be(ReassemblyResult.Accepted);
        Add(reassembler, "6,7,8,-,ncfrag=0/12;abcd").Should().Be(ReassemblyResult.Duplicate);
        _output.Should().BeEmpty();
        Add(reassembler, "6,7,8,-,ncfrag=4/12;efgh").Should().Be(ReassemblyResult.Accepted);

        _output.Should().ContainSingle().Which.TextString.Should().Be("abcdefghijk");
        _output[0].FragmentCount.Should().Be(3);
        reassembler.GetStatistics().DuplicatesIgnored.Should().Be(1);
        reassembler.GetStatistics().FragmentsReceived.Should().Be(4);
    }

    [Fact]
    public void Overlapping_fragments_that_agree_are_merged()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/6;abcd");
        Add(reassembler, "6,7,8,-,ncfrag=2/6;cde\n").Should().Be(ReassemblyResult.Accepted);
        _output.Should().ContainSingle().Which.TextString.Should().Be("abcde");
    }

    [Fact]
    public void Overlapping_fragment_with_different_bytes_is_malformed_and_ignored()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/6;abcd");
        Add(reassembler, "6,7,8,-,ncfrag=2/6;XYZ\n").Should().Be(ReassemblyResult.Malformed);
        Add(reassembler, "6,7,8,-,ncfrag=4/6;e\n").Should().Be(ReassemblyResult.Accepted);

        _output.Should().ContainSingle().Which.TextString.Should().Be("abcde");
        reassembler.GetStatistics().DatagramsMalformed.Should().Be(1);
    }

    [Theory]
    [InlineData("6,7,8,-,ncfrag=4/7;efg")]
    [InlineData("5,7,8,-,ncfrag=4/6;ef")]
    [InlineData("6,7,9,-,ncfrag=4/6;ef")]
    [InlineData("6,7,8,c,ncfrag=4/6;ef")]
    [InlineData("1.2,6,7,8,-,ncfrag=4/6;ef")]
    public void Fragment_whose_header_differs_from_its_records_first_fragment_is_malformed(string datagram)
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/6;abcd");
        Add(reassembler, datagram).Should().Be(ReassemblyResult.Malformed);
        reassembler.GetSenderStatistics(Sender)!.RecordsInFlight.Should().Be(1);
    }

    [Fact]
    public void Broken_datagrams_are_counted_malformed_per_sender()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,1,2,-,ncfrag=5/5;x").Should().Be(ReassemblyResult.Malformed);
        Add(reassembler, "6,1,2,-,ncfrag=0/9000;x").Should().Be(ReassemblyResult.Malformed);
        Add(reassembler, "6,abc,2,-;x").Should().Be(ReassemblyResult.Malformed);
        Add(reassembler, "6,1;x", sender: OtherSender).Should().Be(ReassemblyResult.Malformed);

        _output.Should().BeEmpty();
        reassembler.GetSenderStatistics(Sender)!.DatagramsMalformed.Should().Be(3);
        reassembler.GetSenderStatistics(OtherSender)!.DatagramsMalformed.Should().Be(1);
        reassembler.GetStatistics().DatagramsMalformed.Should().Be(4);
        reassembler.GetStatistics().DatagramsReceived.Should().Be(4);
        reassembler.GetAllSenderStatistics().Select(x => (x.Sender, x.DatagramsMalformed)).Should().Equal((OtherSender, 1L), (Sender, 3L));
    }

    [Fact]
    public void Incomplete_record_is_given_up_after_the_timeout_and_counted_with_its_missing_bytes()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/100;abcd", atMs: 1000);

        reassembler.Expire(Ms(1200), _output);
        reassembler.GetStatistics().RecordsInFlight.Should().Be(1, "200 ms have not yet passed");

        reassembler.Expire(Ms(1201), _output);
        var stats = reassembler.GetStatistics();
        stats.RecordsInFlight.Should().Be(0);
        stats.RecordsIncomplete.Should().Be(1);
        stats.BytesMissing.Should().Be(96);
        stats.BytesBuffered.Should().Be(0);
        _output.Should().BeEmpty();
    }

    [Fact]
    public void Timeout_is_configurable_and_counted_from_the_first_fragment()
    {
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { Timeout = TimeSpan.FromSeconds(1) });
        Add(reassembler, "6,7,8,-,ncfrag=0/12;abcd", atMs: 0);
        Add(reassembler, "6,7,8,-,ncfrag=4/12;efgh", atMs: 900);
        reassembler.Expire(Ms(1001), _output);
        reassembler.GetStatistics().RecordsIncomplete.Should().Be(1);
    }

    [Fact]
    public void Fragment_arriving_after_its_record_timed_out_starts_a_new_incomplete_record()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/8;abcd", atMs: 0);
        Add(reassembler, "6,7,8,-,ncfrag=4/8;efg\n", atMs: 300).Should().Be(ReassemblyResult.Accepted);

        _output.Should().BeEmpty();
        var stats = reassembler.GetStatistics();
        stats.RecordsIncomplete.Should().Be(1);
        stats.RecordsInFlight.Should().Be(1);
    }

    [Fact]
    public void Sequence_gap_counts_the_records_skipped()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,1,0,-;a\n");
        Add(reassembler, "6,2,0,-;b\n");
        Add(reassembler, "6,5,0,-;c\n");

        _output.Should().HaveCount(3);
        reassembler.GetSenderStatistics(Sender)!.RecordsLost.Should().Be(2);
    }

    [Fact]
    public void Late_record_within_the_window_is_delivered_and_no_longer_lost()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,0,-;a\n");
        Add(reassembler, "6,13,0,-;b\n");
        Add(reassembler, "6,11,0,-;late\n").Should().Be(ReassemblyResult.Accepted);

        _output.Select(r => r.TextString).Should().Equal("a", "b", "late");
        var stats = reassembler.GetSenderStatistics(Sender)!;
        stats.RecordsLost.Should().Be(1);
        stats.RecordsOutOfOrder.Should().Be(1);
        stats.Restarts.Should().Be(0);
    }

    [Fact]
    public void Duplicate_record_is_not_delivered_twice()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,77,-;a\n");
        Add(reassembler, "6,11,78,-;b\n");
        Add(reassembler, "6,10,77,-;a\n").Should().Be(ReassemblyResult.Duplicate);

        _output.Should().HaveCount(2);
        reassembler.GetStatistics().DuplicatesIgnored.Should().Be(1);
    }

    [Fact]
    public void Late_copy_of_a_fragment_of_a_delivered_record_is_a_duplicate()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/4;ab");
        Add(reassembler, "6,7,8,-,ncfrag=2/4;c\n");
        Add(reassembler, "6,7,8,-,ncfrag=0/4;ab").Should().Be(ReassemblyResult.Duplicate);
        reassembler.GetStatistics().RecordsInFlight.Should().Be(0);
    }

    [Fact]
    public void Sequence_far_below_the_highest_is_a_restart_that_resets_gap_tracking()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,1000,5000,-;before\n");
        Add(reassembler, "6,0,10,-;after restart\n").Should().Be(ReassemblyResult.Accepted);
        Add(reassembler, "6,1,11,-;next\n");

        _output.Should().HaveCount(3);
        var stats = reassembler.GetSenderStatistics(Sender)!;
        stats.Restarts.Should().Be(1);
        stats.RecordsLost.Should().Be(0);
    }

    [Fact]
    public void A_sender_alternating_the_lowest_and_highest_sequence_numbers_makes_restarts_never_billions_lost()
    {
        var reassembler = new RecordReassembler();
        for (int i = 0; i < 1000; i++)
        {
            Add(reassembler, "6,0,1,-;low\n");
            Add(reassembler, "6,18446744073709551615,18446744073709551615,-;high\n");
        }

        var stats = reassembler.GetSenderStatistics(Sender)!;
        stats.RecordsLost.Should().Be(0, "no sender can use 2^64 numbers: each jump is a restart");
        stats.Restarts.Should().Be(1999);
        reassembler.GetStatistics().RecordsLost.Should().Be(0);
    }

    [Fact]
    public void A_jump_ahead_further_than_one_number_per_microsecond_since_is_a_restart_of_a_clock_numbered_sender()
    {
        // This library's provider numbers from its clock: a run created at 1 s sends 10 records
        // until 6 s; the next run, created at 16 s, starts at 16,000,001.
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,1000001,1000000,-;first run\n");
        Add(reassembler, "6,1000010,6000000,-;first run, last\n");
        Add(reassembler, "6,16000001,16000000,-;second run\n");

        var stats = reassembler.GetSenderStatistics(Sender)!;
        (stats.RecordsLost, stats.Restarts).Should().Be((8L, 1L), "2-9 were lost; the jump to the second run is not 15 million lost records");
    }

    [Fact]
    public void A_burst_lost_whole_within_the_allowance_is_counted_lost_even_when_logged_within_one_microsecond()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,1,100,-;before\n");
        Add(reassembler, "6,65538,100,-;after a burst of 65,536 lost\n");

        var stats = reassembler.GetSenderStatistics(Sender)!;
        (stats.RecordsLost, stats.Restarts).Should().Be((65536L, 0L));
    }

    [Fact]
    public void The_lost_counter_stops_at_its_maximum_instead_of_wrapping_negative()
    {
        Netconsole.Receiving.Counters.Add(long.MaxValue - 1, 5).Should().Be(long.MaxValue);
        Netconsole.Receiving.Counters.Add(3, ulong.MaxValue).Should().Be(long.MaxValue);
        Netconsole.Receiving.Counters.Add(3, 4).Should().Be(7);
    }

    [Fact]
    public void Seen_sequence_number_with_another_timestamp_is_a_restart_not_a_duplicate()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,0,100,-;first life\n");
        Add(reassembler, "6,1,200,-;first life\n");
        Add(reassembler, "6,0,5,-;second life\n").Should().Be(ReassemblyResult.Accepted);

        _output.Should().HaveCount(3);
        reassembler.GetSenderStatistics(Sender)!.Restarts.Should().Be(1);
    }

    [Fact]
    public void Continued_group_is_closed_by_the_next_record_that_is_not_its_next_part()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c;hello \n A=1\n");
        Add(reassembler, "6,11,5,+;wide \n B=2\n");
        Add(reassembler, "6,12,5,+;world\n C=3\n");
        _output.Should().BeEmpty();
        reassembler.GetSenderStatistics(Sender)!.GroupPartsHeld.Should().Be(3);

        Add(reassembler, "6,13,9,-;next\n");

        _output.Should().HaveCount(2);
        var group = _output[0];
        group.TextString.Should().Be("hello wide world");
        group.Dictionary.Select(p => p.Key).Should().Equal("A", "B", "C");
        group.Sequence.Should().Be(10);
        group.LastSequence.Should().Be(12);
        group.PartCount.Should().Be(3);
        group.Continuation.Should().Be(RecordContinuation.First);
        _output[1].TextString.Should().Be("next");
        reassembler.GetStatistics().RecordsReceived.Should().Be(2);
    }

    [Fact]
    public void Continued_group_is_closed_by_the_timeout_after_its_last_part()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c;a\n", atMs: 0);
        Add(reassembler, "6,11,5,+;b\n", atMs: 150);

        reassembler.Expire(Ms(350), _output);
        _output.Should().BeEmpty();
        reassembler.Expire(Ms(351), _output);
        _output.Should().ContainSingle().Which.TextString.Should().Be("ab");
        reassembler.GetStatistics().GroupsHeld.Should().Be(0);
    }

    [Fact]
    public void Continued_group_is_closed_by_flush()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c;a\n");
        Add(reassembler, "6,11,5,+;b\n");
        Add(reassembler, "6,99,5,-,ncfrag=0/10;abc");

        reassembler.Flush(_output);

        _output.Should().ContainSingle().Which.TextString.Should().Be("ab");
        var stats = reassembler.GetStatistics();
        stats.GroupsHeld.Should().Be(0);
        stats.RecordsInFlight.Should().Be(0);
        stats.RecordsIncomplete.Should().Be(1);
        stats.BytesBuffered.Should().Be(0);
    }

    [Fact]
    public void Continued_group_is_closed_by_legacy_text_from_the_same_sender_but_not_by_other_senders()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c;a\n");
        Add(reassembler, "6,1,1,-;other\n", sender: OtherSender);
        Add(reassembler, "6,11,5,+;b\n");
        Add(reassembler, "legacy\n");

        _output.Select(r => r.TextString).Should().Equal("other", "ab", "legacy");
    }

    [Fact]
    public void Malformed_duplicate_and_fragment_datagrams_do_not_close_a_continued_group()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c;a\n");
        Add(reassembler, "6,x,5,-;broken\n");
        Add(reassembler, "6,10,5,c;a\n").Should().Be(ReassemblyResult.Duplicate);
        Add(reassembler, "6,11,5,+,ncfrag=0/2;b");
        _output.Should().BeEmpty();
        Add(reassembler, "6,11,5,+,ncfrag=1/2;\n");
        reassembler.Flush(_output);

        _output.Should().ContainSingle().Which.TextString.Should().Be("ab");
    }

    [Fact]
    public void Continuation_without_its_group_is_delivered_on_its_own()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,11,5,+;orphan\n");

        var record = _output.Should().ContainSingle().Subject;
        record.Continuation.Should().Be(RecordContinuation.Continuation);
        record.PartCount.Should().Be(1);
    }

    [Fact]
    public void Continuation_with_a_skipped_sequence_number_closes_the_group_and_stands_alone()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c;a\n");
        Add(reassembler, "6,12,5,+;c\n");

        _output.Select(r => (r.TextString, r.Continuation)).Should().Equal(("a", RecordContinuation.First), ("c", RecordContinuation.Continuation));
        reassembler.GetStatistics().RecordsLost.Should().Be(1);
    }

    [Fact]
    public void Fragmented_parts_of_a_continued_group_are_joined_once_each_part_is_complete()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,10,5,c,ncfrag=2/3;\n");
        Add(reassembler, "6,10,5,c,ncfrag=0/3;ab");
        Add(reassembler, "6,11,5,+,ncfrag=0/3;cd");
        Add(reassembler, "6,11,5,+,ncfrag=2/3;\n");
        reassembler.Flush(_output);

        var group = _output.Should().ContainSingle().Subject;
        group.TextString.Should().Be("abcd");
        group.FragmentCount.Should().Be(4);
    }

    [Fact]
    public void Continued_group_over_its_size_limit_is_delivered_as_it_stands_and_the_extra_part_alone()
    {
        // A 4000-byte part costs 4208 bytes held (text, record, list): two fit in 9000, not three.
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { MaxGroupBytes = 9000 });
        string big = new('x', 4000);
        Add(reassembler, $"6,10,5,c;{big}\n");
        Add(reassembler, $"6,11,5,+;{big}\n");
        Add(reassembler, $"6,12,5,+;{big}\n");
        reassembler.Flush(_output);

        _output.Select(r => r.PartCount).Should().Equal(2, 1);
        _output[1].Continuation.Should().Be(RecordContinuation.Continuation);
        reassembler.GetStatistics().GroupsClosedEarly.Should().Be(1);
    }

    [Fact]
    public void Same_address_with_another_port_is_another_sender_and_port_0_keys_by_address_as_netconsd()
    {
        var reassembler = new RecordReassembler();
        var kernel = new IPEndPoint(Sender.Address, 6665);
        var app = new IPEndPoint(Sender.Address, 40000);
        reassembler.Add(kernel, Bytes("6,10,5,c;a\n"), 0, _output);
        reassembler.Add(app, Bytes("6,500,5,-;app\n"), 0, _output);
        reassembler.Add(kernel, Bytes("6,11,5,+;b\n"), 0, _output);
        reassembler.Flush(_output);
        _output.Select(r => r.TextString).Should().Equal("app", "ab");
        reassembler.GetStatistics().SendersTracked.Should().Be(2);

        _output.Clear();
        var byAddress = new RecordReassembler();
        var addressOnly = new IPEndPoint(Sender.Address, 0);
        byAddress.Add(addressOnly, Bytes("6,10,5,c;a\n"), 0, _output);
        byAddress.Add(addressOnly, Bytes("6,500,5,-;app\n"), 0, _output);
        byAddress.Add(addressOnly, Bytes("6,11,5,+;b\n"), 0, _output);
        _output.Select(r => r.TextString).Should().Equal("a", "app", "b");
        byAddress.GetSenderStatistics(addressOnly)!.Restarts.Should().Be(1, "the two streams mix, as in netconsd");
    }

    [Fact]
    public void Flood_of_distinct_sequence_numbers_keeps_in_flight_records_under_the_limit_and_counts_the_dropped()
    {
        var reassembler = new RecordReassembler();
        for (int seq = 0; seq < 5000; seq++)
        {
            reassembler.Add(Sender, Bytes($"6,{seq},1,-,ncfrag=0/8191;x"), 0, _output);
            reassembler.GetSenderStatistics(Sender)!.RecordsInFlight.Should().BeLessThanOrEqualTo(RecordReassemblerOptions.DefaultMaxInFlightRecordsPerSender);
        }

        var stats = reassembler.GetStatistics();
        stats.RecordsInFlight.Should().Be(64);
        stats.RecordsDropped.Should().Be(5000 - 64);
        stats.BytesBuffered.Should().Be(64 * InFlightCost8191, "each holds its 8191-byte buffer, its bitmap and its bookkeeping");
        _output.Should().BeEmpty();
    }

    [Fact]
    public void Flood_of_distinct_senders_keeps_the_senders_tracked_under_the_limit()
    {
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { MaxSenders = 100 });
        for (int i = 0; i < 1000; i++)
        {
            var sender = new IPEndPoint(IPAddress.Parse("2001:db8::1"), 1 + i);
            reassembler.Add(sender, Bytes("6,1,1,-,ncfrag=0/10;x"), 0, _output);
            reassembler.GetStatistics().SendersTracked.Should().BeLessThanOrEqualTo(100);
        }

        var stats = reassembler.GetStatistics();
        stats.SendersTracked.Should().Be(100);
        stats.SendersEvicted.Should().Be(900);
        stats.RecordsDropped.Should().Be(900);
        stats.DatagramsReceived.Should().Be(1000, "evicted senders' counters stay in the totals");
        stats.RecordsInFlight.Should().Be(100);
    }

    [Fact]
    public void Evicting_a_sender_delivers_its_held_group()
    {
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { MaxSenders = 1 });
        Add(reassembler, "6,10,5,c;held\n");
        Add(reassembler, "6,1,1,-;other\n", sender: OtherSender);

        _output.Select(r => r.TextString).Should().Equal("held", "other");
        reassembler.GetSenderStatistics(Sender).Should().BeNull();
    }

    [Fact]
    public void Buffered_bytes_over_the_limit_evict_the_least_recently_heard_senders()
    {
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { MaxBufferedBytes = 10 * InFlightCost8191 });
        for (int i = 0; i < 50; i++)
        {
            var sender = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 1 + i);
            reassembler.Add(sender, Bytes("6,1,1,-,ncfrag=0/8191;x"), 0, _output);
            reassembler.Add(sender, Bytes("6,2,1,-,ncfrag=0/8191;x"), 0, _output);
            reassembler.GetStatistics().BytesBuffered.Should().BeLessThanOrEqualTo(10 * InFlightCost8191);
        }

        reassembler.GetStatistics().SendersTracked.Should().Be(5);
    }

    [Fact]
    public void Random_datagrams_from_random_senders_never_throw_and_stay_within_the_limits()
    {
        var options = new RecordReassemblerOptions { MaxSenders = 4, MaxInFlightRecordsPerSender = 3, MaxBufferedBytes = 5 * 8191 };
        var headers = Gen.OneOf("", "6,", "6,1,2,-;", "6,1,2,c;", "6,2,2,+;", "6,{0},2,-,ncfrag={1}/{2};", "1.2,6,{0},2,+,ncfrag={1}/{2};");
        var datagram = Gen.Select(headers, Gen.Int[0, 20], Gen.Int[0, 30], Gen.Int[0, 30], Gen.Byte.Array[0, 40])
            .Select((h, seq, off, total, tail) => Bytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, h, seq, off, total)).Concat(tail).ToArray());
        var step = Gen.Select(datagram, Gen.Int[0, 7], Gen.Int[0, 100]);

        step.Array[1, 200].Sample(steps =>
        {
            var reassembler = new RecordReassembler(options);
            var output = new List<ReceivedRecord>();
            long now = 0;
            foreach (var (bytes, sender, advanceMs) in steps)
            {
                now += Ms(advanceMs);
                reassembler.Add(new IPEndPoint(IPAddress.Loopback, sender), bytes, now, output);
                var stats = reassembler.GetStatistics();
                stats.SendersTracked.Should().BeLessThanOrEqualTo(4);
                stats.RecordsInFlight.Should().BeLessThanOrEqualTo(4 * 3);
                stats.BytesBuffered.Should().BeGreaterThanOrEqualTo(0);
            }

            reassembler.Expire(now + Ms(1000), output);
            reassembler.Flush(output);
            var final = reassembler.GetStatistics();
            final.DatagramsReceived.Should().Be(steps.Length);
            final.BytesBuffered.Should().Be(0);
            final.RecordsInFlight.Should().Be(0);
            final.RecordsReceived.Should().Be(output.Count);
        }, iter: 300);
    }

    [Fact]
    public void Options_reject_values_that_would_disable_a_limit()
    {
        var options = new RecordReassemblerOptions();
        options.Timeout.Should().Be(TimeSpan.FromMilliseconds(200));
        options.MaxSenders.Should().Be(1024);
        options.MaxInFlightRecordsPerSender.Should().Be(64);
        options.MaxGroupBytes.Should().Be(1024 * 1024);

        ((Action)(() => options.Timeout = TimeSpan.Zero)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.MaxSenders = 0)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.MaxInFlightRecordsPerSender = 0)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.MaxGroupBytes = 8190)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.MaxBufferedBytes = 100)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Statistics_print_as_one_readable_line()
    {
        var reassembler = new RecordReassembler();
        var output = new List<ReceivedRecord>();
        reassembler.Add(Sender, Bytes("6,1,0,-;a\n"), 0, output);
        reassembler.Add(Sender, Bytes("6,3,0,-;b\n"), 0, output);
        reassembler.Add(Sender, Bytes("6,3,0,-;b\n"), 0, output);
        reassembler.Add(Sender, Bytes("6,x,0,-;broken\n"), 0, output);

        reassembler.GetStatistics().ToString().Should().Be(
            "records 2, datagrams 4 (fragments 0, malformed 1, duplicates 1), lost 1, out of order 0, incomplete 0 (0 bytes missing), dropped 0, restarts 0, groups closed early 0, dictionary entries dropped 0, senders resumed 0, verified 0, signatures invalid 0, unknown keys 0, replays rejected 0, unverified rejected 0; "
            + "now 1 senders (0 evicted so far), 0 records in flight, 0 groups held, 0 bytes buffered");
        reassembler.GetSenderStatistics(Sender)!.ToString().Should().StartWith("192.0.2.1:6665: records 2, datagrams 4 ").And.EndWith("; now 0 records in flight, 0 group parts held");
    }
}
