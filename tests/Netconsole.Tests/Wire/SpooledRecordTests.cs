using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;
using Netconsole.Receiving;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

/// <summary>
/// A record an earlier process left in its spool, as a later process sends it: in the extended
/// format each whole part gains the line <c>replayed_from_pid=PID</c> (fragmented again when it
/// grows past a datagram), signed again with its own run id when the key is the same; everything
/// else goes exactly as it was stored.
/// </summary>
public sealed class SpooledRecordTests
{
    private const int Pid = 4711;
    private static readonly RecordSigningKey Key = new("k1", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly IPEndPoint Sender = new(IPAddress.Parse("192.0.2.1"), 6665);

    private static RecordFormatter Formatter(bool extended = true, RecordSigningKey? key = null, bool prependRelease = false) =>
        new(new RecordFormat { Extended = extended, Facility = 0, SigningKey = key, PrependRelease = prependRelease, Release = "6.4.0" });

    // The record's datagrams as the spool holds them: each behind its 2-byte big-endian length.
    private static byte[] Stored(IEnumerable<byte[]> datagrams)
    {
        var stored = new List<byte>();
        foreach (byte[] d in datagrams)
        {
            stored.Add((byte)(d.Length >> 8));
            stored.Add((byte)d.Length);
            stored.AddRange(d);
        }

        return [.. stored];
    }

    private static List<byte[]> Formatted(RecordFormatter formatter, NetconsoleRecord record)
    {
        var list = new List<byte[]>();
        foreach (ReadOnlySpan<byte> d in formatter.Format(record))
        {
            list.Add(d.ToArray());
        }

        return list;
    }

    private static List<byte[]> Amended(RecordFormatter formatter, byte[] stored, bool extended = true)
    {
        var output = new ArrayBufferWriter<byte>();
        formatter.AmendSpooled(stored, extended, Pid, output);
        var datagrams = new List<byte[]>();
        for (ReadOnlySpan<byte> rest = output.WrittenSpan; !rest.IsEmpty;)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(rest);
            datagrams.Add(rest.Slice(2, length).ToArray());
            rest = rest[(2 + length)..];
        }

        return datagrams;
    }

    private static List<ReceivedRecord> Received(IEnumerable<byte[]> datagrams, RecordSigningKey? key = null)
    {
        var options = new RecordReassemblerOptions();
        if (key is not null)
        {
            options.SigningKeys.Add(key);
        }

        var reassembler = new RecordReassembler(options);
        var records = new List<ReceivedRecord>();
        foreach (byte[] d in datagrams)
        {
            reassembler.Add(Sender, d, 0, records);
        }

        reassembler.Flush(records);
        return records;
    }

    [Fact]
    public void A_one_datagram_record_gains_the_line_after_its_dictionary_and_keeps_its_header()
    {
        var record = NetconsoleRecord.FromString(6, "disk OK") with { Sequence = 42, TimestampMicroseconds = 1_000_000, Dictionary = [new("SUBSYSTEM", "block")] };
        byte[] stored = Stored(Formatted(Formatter(), record));

        List<byte[]> amended = Amended(Formatter(), stored);

        amended.Select(Encoding.UTF8.GetString).Should().Equal("6,42,1000000,-;disk OK\n SUBSYSTEM=block\n replayed_from_pid=4711\n");
    }

    [Fact]
    public void The_release_prefix_stays_in_front()
    {
        var record = NetconsoleRecord.FromString(3, "x") with { Sequence = 1, TimestampMicroseconds = 5 };
        byte[] stored = Stored(Formatted(Formatter(prependRelease: true), record));

        Amended(Formatter(), stored).Select(Encoding.UTF8.GetString).Should().Equal("6.4.0,3,1,5,-;x\n replayed_from_pid=4711\n");
    }

    [Fact]
    public void A_record_that_grows_past_a_datagram_is_fragmented_again_with_the_new_total()
    {
        string text = new('a', 980); // "6,7,9,-;" + 980 + "\n" = 989 bytes: one datagram; with the line, two
        var record = NetconsoleRecord.FromString(6, text) with { Sequence = 7, TimestampMicroseconds = 9 };
        byte[] stored = Stored(Formatted(Formatter(), record));

        List<byte[]> amended = Amended(Formatter(), stored);

        string data = text + "\n replayed_from_pid=4711\n"; // 1005 bytes
        int first = 1000 - "6,7,9,-,ncfrag=0/1005;".Length;
        amended.Select(Encoding.UTF8.GetString).Should().Equal(
            "6,7,9,-,ncfrag=0/1005;" + data[..first],
            $"6,7,9,-,ncfrag={first}/1005;" + data[first..]);
        ReceivedRecord received = Received(amended).Should().ContainSingle().Subject;
        received.TextString.Should().Be(text);
        received.Dictionary.Should().Equal([new KeyValuePair<string, string>("replayed_from_pid", "4711")]);
    }

    [Fact]
    public void In_a_continued_group_a_full_part_goes_as_it_was_and_the_last_part_gains_the_line()
    {
        var record = NetconsoleRecord.FromString(6, new string('b', 10_000)) with { Sequence = 100, TimestampMicroseconds = 1 };
        byte[] stored = Stored(Formatted(Formatter(), record));

        List<byte[]> amended = Amended(Formatter(), stored);

        // The parts, their fragments put back together: header (without ncfrag) and data.
        var parts = amended.Select(Encoding.UTF8.GetString)
            .Select(d => (Header: System.Text.RegularExpressions.Regex.Replace(d[..d.IndexOf(';')], ",ncfrag=.*", ""), Data: d[(d.IndexOf(';') + 1)..]))
            .GroupBy(p => p.Header)
            .Select(g => (Header: g.Key, Data: string.Concat(g.Select(p => p.Data))))
            .ToList();
        parts.Select(p => p.Header).Should().Equal("6,100,1,c", "6,101,1,+");
        parts[0].Data.Should().NotContain("replayed_from_pid", "the first part is full: the line would push it past netconsd's 8191 bytes");
        parts[1].Data.Should().EndWith("\n replayed_from_pid=4711\n");
        ReceivedRecord joined = Received(amended).Should().ContainSingle("the receiver joins the group").Subject;
        joined.TextString.Should().Be(new string('b', 10_000));
        joined.Sequence.Should().Be(100);
    }

    [Fact]
    public void A_signed_record_is_signed_again_with_its_own_run_and_verifies()
    {
        var record = NetconsoleRecord.FromString(6, "signed") with { Sequence = 3, TimestampMicroseconds = 4 };
        List<byte[]> original = Formatted(Formatter(key: Key), record);
        string run = System.Text.RegularExpressions.Regex.Match(Encoding.UTF8.GetString(original[0]), ":k1:(?<run>[^:]+):").Groups["run"].Value;

        List<byte[]> amended = Amended(Formatter(key: Key), Stored(original));

        string datagram = Encoding.UTF8.GetString(amended.Single());
        datagram.Should().StartWith($"6,3,4,-;signed\n replayed_from_pid=4711\n ncsig=v1:k1:{run}:", "the line comes before the signature, whose run is the earlier process's");
        ReceivedRecord received = Received(amended, Key).Single();
        received.Signature.Should().Be(RecordSignature.Verified);
    }

    [Fact]
    public void A_signed_record_without_its_key_here_goes_as_it_was_and_still_verifies()
    {
        var record = NetconsoleRecord.FromString(6, "signed") with { Sequence = 3, TimestampMicroseconds = 4 };
        List<byte[]> original = Formatted(Formatter(key: Key), record);
        var otherKey = new RecordSigningKey("k2", Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());

        List<byte[]> amended = Amended(Formatter(key: otherKey), Stored(original));

        amended.Should().BeEquivalentTo(original, o => o.WithStrictOrdering());
        Received(amended, Key).Single().Signature.Should().Be(RecordSignature.Verified);
    }

    [Fact]
    public void A_part_whose_first_fragments_went_out_before_the_crash_goes_as_it_was()
    {
        var record = NetconsoleRecord.FromString(6, new string('c', 2500)) with { Sequence = 1, TimestampMicroseconds = 1 };
        List<byte[]> rest = Formatted(Formatter(), record)[1..]; // fragment 0 was sent

        Amended(Formatter(), Stored(rest)).Should().BeEquivalentTo(rest, o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_basic_record_goes_as_it_was()
    {
        byte[] stored = Stored([Encoding.UTF8.GetBytes("6,1,2,-;looks extended but is basic text\n")]);

        Amended(Formatter(), stored, extended: false).Select(Encoding.UTF8.GetString).Should().Equal("6,1,2,-;looks extended but is basic text\n");
    }

    [Fact]
    public void A_part_the_line_would_push_past_netconsds_record_limit_goes_as_it_was()
    {
        var record = NetconsoleRecord.FromString(6, new string('d', RecordFormatter.MaxRecordData - 1)) with { Sequence = 1, TimestampMicroseconds = 1 };
        List<byte[]> original = Formatted(Formatter(), record);

        Amended(Formatter(), Stored(original)).Should().BeEquivalentTo(original, o => o.WithStrictOrdering());
    }
}
