using System.Net;
using System.Text;
using Netconsole.Receiving;

namespace Netconsole.Tests.Receiving;

/// <summary>
/// Netconsole is unauthenticated UDP: whatever arrives, the reassembler's memory and work stay
/// within what its options say, counted in what it holds once decoded, not in wire bytes.
/// </summary>
[Collection(Netconsole.Tests.Support.MeasuresMemoryAlone.Name)]
public sealed class HostileTrafficTests
{
    private static readonly IPEndPoint Sender = new(IPAddress.Parse("192.0.2.1"), 6665);

    // "\n a=b" repeated: one dictionary entry and two strings per 5 wire bytes.
    private static byte[] ShortLines(string header, int bytes)
    {
        var text = new StringBuilder(header).Append('x');
        while (text.Length + 5 <= bytes)
        {
            text.Append("\n a=b");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Fact]
    public void A_record_keeps_at_most_MaxDictionaryEntries_entries_and_counts_the_lines_left_out()
    {
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { MaxDictionaryEntries = 256 });
        var output = new List<ReceivedRecord>();

        reassembler.Add(Sender, ShortLines("6,1,1,-;", 5009), 0, output); // 1000 lines

        output.Should().ContainSingle().Which.Dictionary.Should().HaveCount(256);
        output[0].TextString.Should().Be("x", "the record is delivered");
        reassembler.GetStatistics().DictionaryEntriesDropped.Should().Be(1000 - 256);
    }

    [Fact]
    public void Held_groups_of_short_lines_are_charged_what_they_hold_decoded_so_the_limit_holds_in_memory()
    {
        const long Limit = 4L * 1024 * 1024;
        var options = new RecordReassemblerOptions { MaxBufferedBytes = Limit, MaxDictionaryEntries = int.MaxValue };
        var output = new List<ReceivedRecord>();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var reassembler = new RecordReassembler(options);

        // 64 KiB datagrams opening continued groups, from 400 spoofed senders: 26 MB on the wire,
        // ~500 MB decoded if nothing counted the decoding.
        byte[] datagram = ShortLines("6,1,1,c;", 65_000);
        for (int i = 0; i < 400; i++)
        {
            reassembler.Add(new IPEndPoint(IPAddress.Parse("198.51.100.7"), 1 + i), datagram, 0, output);
            output.Clear(); // groups delivered by eviction go to the reader, out of the reassembler
        }

        long held = GC.GetTotalMemory(forceFullCollection: true) - before;
        ReassemblerStatistics statistics = reassembler.GetStatistics();
        statistics.BytesBuffered.Should().BeLessThanOrEqualTo(Limit);
        held.Should().BeLessThan(2 * Limit, "what is held is what is counted (it was ~16 times the limit when wire bytes were counted)");
        statistics.SendersEvicted.Should().BeGreaterThan(0);
        GC.KeepAlive(reassembler);
    }

    [Fact]
    public void Work_per_datagram_stays_bounded_by_the_entry_limit_whatever_the_datagram_holds()
    {
        byte[] datagram = ShortLines("6,1,1,-;", 65_000); // 12,998 entries
        long capped = AllocatedByOneAdd(new RecordReassembler(), datagram); // 256 entries by default
        long uncapped = AllocatedByOneAdd(new RecordReassembler(new RecordReassemblerOptions { MaxDictionaryEntries = int.MaxValue }), datagram);

        capped.Should().BeLessThan(uncapped / 10, "256 entries are decoded, not 12,998");
    }

    // What one Add of the datagram allocates, after a first Add (from another sender) warmed the path up.
    private static long AllocatedByOneAdd(RecordReassembler reassembler, byte[] datagram)
    {
        var output = new List<ReceivedRecord>();
        reassembler.Add(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 1), datagram, 0, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        reassembler.Add(Sender, datagram, 0, output);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_sender_with_a_history_keeps_its_state_through_a_flood_of_spoofed_senders()
    {
        var reassembler = new RecordReassembler(); // 1024 senders tracked
        var output = new List<ReceivedRecord>();
        byte[] spoofed = Encoding.ASCII.GetBytes("6,1,1,-,ncfrag=0/100;x");
        int spoofedSenders = 0;
        for (ulong sequence = 1; sequence <= 50; sequence++)
        {
            reassembler.Add(Sender, Encoding.ASCII.GetBytes($"6,{sequence},{sequence},-;record {sequence}\n"), 0, output);
            for (int i = 0; i < (sequence < 4 ? 0 : 2000); i++) // the flood starts once it has a history of 4 records // more new senders between two of its records than are tracked
            {
                int n = spoofedSenders++;
                reassembler.Add(new IPEndPoint(new IPAddress([198, 51, (byte)(n >> 8), (byte)n]), 1 + (n >> 16)), spoofed, 0, output);
            }
        }

        output.Select(r => r.TextString).Should().Equal(Enumerable.Range(1, 50).Select(i => $"record {i}"));
        SenderStatistics legitimate = reassembler.GetSenderStatistics(Sender)!;
        legitimate.Should().NotBeNull("100,000 one-datagram senders evict each other, not a sender with a history");
        (legitimate.RecordsReceived, legitimate.RecordsLost, legitimate.SendersResumed).Should().Be((50L, 0L, 0L), "it was never evicted");
        reassembler.GetStatistics().SendersEvicted.Should().BeGreaterThan(90_000);
    }

    [Fact]
    public void A_sender_heard_again_after_its_state_was_evicted_has_the_records_it_skipped_counted_lost()
    {
        var reassembler = new RecordReassembler(new RecordReassemblerOptions { MaxSenders = 1 });
        var output = new List<ReceivedRecord>();
        var other = new IPEndPoint(IPAddress.Parse("2001:db8::9"), 6665);

        reassembler.Add(Sender, Encoding.ASCII.GetBytes("6,1,1,-;one\n"), 0, output);
        reassembler.Add(other, Encoding.ASCII.GetBytes("6,1,1,-;evicts it\n"), 0, output);
        reassembler.Add(Sender, Encoding.ASCII.GetBytes("6,5,5,-;five\n"), 0, output);

        SenderStatistics returned = reassembler.GetSenderStatistics(Sender)!;
        (returned.RecordsLost, returned.SendersResumed, returned.Restarts).Should().Be((3L, 1L, 0L), "2, 3 and 4 were skipped while it was not tracked");
    }

    [Fact]
    public void A_sender_that_starts_during_a_flood_is_established_by_its_fourth_record_and_then_keeps_its_state()
    {
        var reassembler = new RecordReassembler(); // 1024 senders tracked
        var output = new List<ReceivedRecord>();
        byte[] spoofed = Encoding.ASCII.GetBytes("6,1,1,-,ncfrag=0/100;x");
        int spoofedSenders = 0;
        for (ulong sequence = 1; sequence <= 20; sequence++)
        {
            reassembler.Add(Sender, Encoding.ASCII.GetBytes($"6,{sequence},{sequence},-;record {sequence}\n"), 0, output);
            for (int i = 0; i < 2000; i++)
            {
                int n = spoofedSenders++;
                reassembler.Add(new IPEndPoint(new IPAddress([198, 51, (byte)(n >> 8), (byte)n]), 1 + (n >> 16)), spoofed, 0, output);
            }
        }

        output.Should().HaveCount(20, "every record of it was delivered");
        SenderStatistics legitimate = reassembler.GetSenderStatistics(Sender)!;
        legitimate.Should().NotBeNull();
        legitimate.SendersResumed.Should().Be(1, "evicted while on probation (records 1-3), resumed with its history once, then kept");
        reassembler.GetStatistics().RecordsLost.Should().Be(0, "its numbers were followed across the evictions");
    }
}
