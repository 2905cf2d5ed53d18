using System.Net;
using Netconsole.Receiving;
using Netconsole.Wire;

namespace Netconsole.Tests.Receiving;

/// <summary>
/// The reassembler with a keyring: signed records arrive marked Verified, Invalid or UnknownKey;
/// a replayed signed record is not delivered but counted; with RequireVerifiedRecords only
/// verified records are delivered; a restarted sender (a new run) is not taken for a replay.
/// </summary>
public class SignedRecordReceivingTests
{
    private static readonly IPEndPoint Sender = new(IPAddress.Parse("192.0.2.1"), 6665);
    private static readonly RecordSigningKey Key = new("k1", Enumerable.Repeat((byte)3, 32).ToArray());
    private static readonly RecordSigningKey Other = new("k2", Enumerable.Repeat((byte)4, 32).ToArray());

    private readonly List<ReceivedRecord> _records = [];

    private static RecordReassembler Reassembler(bool requireVerified = false, params RecordSigningKey[] keys)
    {
        var options = new RecordReassemblerOptions { RequireVerifiedRecords = requireVerified };
        foreach (RecordSigningKey key in keys.Length == 0 ? [Key] : keys)
        {
            options.SigningKeys.Add(key);
        }

        return new RecordReassembler(options);
    }

    private static List<byte[]> Datagrams(RecordFormatter formatter, ulong sequence, string text = "disk OK")
    {
        var list = new List<byte[]>();
        foreach (ReadOnlySpan<byte> datagram in formatter.Format(NetconsoleRecord.FromString(6, text) with { Sequence = sequence, TimestampMicroseconds = sequence * 10 }))
        {
            list.Add(datagram.ToArray());
        }

        return list;
    }

    private static RecordFormatter Signing(RecordSigningKey? key = null) => new(new RecordFormat { Extended = true, SigningKey = key ?? Key });

    private void Add(RecordReassembler reassembler, IEnumerable<byte[]> datagrams, IPEndPoint? from = null)
    {
        foreach (byte[] datagram in datagrams)
        {
            reassembler.Add(from ?? Sender, datagram, 0, _records);
        }
    }

    [Fact]
    public void A_signed_record_arrives_verified_with_its_key_id_and_a_fragmented_one_too()
    {
        RecordReassembler reassembler = Reassembler();
        RecordFormatter formatter = Signing();

        Add(reassembler, Datagrams(formatter, 1));
        Add(reassembler, Datagrams(formatter, 2, new string('x', 3000)));

        _records.Select(r => (r.Signature, r.SigningKeyId)).Should().Equal((RecordSignature.Verified, "k1"), (RecordSignature.Verified, "k1"));
        reassembler.GetStatistics().RecordsVerified.Should().Be(2);
    }

    [Fact]
    public void A_changed_byte_arrives_invalid_and_is_counted()
    {
        RecordReassembler reassembler = Reassembler();
        byte[] datagram = Datagrams(Signing(), 1).Single();
        datagram[datagram.AsSpan().IndexOf("disk"u8)] = (byte)'D';

        Add(reassembler, [datagram]);

        _records.Single().Signature.Should().Be(RecordSignature.Invalid);
        _records.Single().TextString.Should().Be("Disk OK", "delivered, marked, when verification is not required");
        reassembler.GetStatistics().SignaturesInvalid.Should().Be(1);
    }

    [Fact]
    public void A_replayed_record_is_not_delivered_and_is_counted()
    {
        RecordReassembler reassembler = Reassembler();
        RecordFormatter formatter = Signing();
        List<byte[]> old = Datagrams(formatter, 5, "disk OK");
        for (ulong sequence = 1; sequence <= 100; sequence++)
        {
            Add(reassembler, sequence == 5 ? old : Datagrams(formatter, sequence, "disk failing"));
        }

        Add(reassembler, old); // "disk OK" again, 95 records later

        _records.Should().HaveCount(100);
        _records.Count(r => r.TextString == "disk OK").Should().Be(1);
        reassembler.GetStatistics().ReplaysRejected.Should().Be(1);
    }

    [Fact]
    public void A_restarted_sender_signs_with_a_new_run_so_its_low_numbers_are_not_replays()
    {
        RecordReassembler reassembler = Reassembler();
        RecordFormatter before = Signing();
        for (ulong sequence = 1000; sequence < 1100; sequence++)
        {
            Add(reassembler, Datagrams(before, sequence));
        }

        Add(reassembler, Datagrams(Signing(), 1, "after the restart")); // a new formatter: a new run

        _records[^1].TextString.Should().Be("after the restart");
        _records[^1].Signature.Should().Be(RecordSignature.Verified);
        reassembler.GetStatistics().ReplaysRejected.Should().Be(0);
    }

    [Fact]
    public void A_key_the_keyring_does_not_hold_is_UnknownKey_and_two_keys_both_verify()
    {
        RecordReassembler one = Reassembler(keys: Key);
        RecordReassembler both = Reassembler(keys: [Key, Other]);

        Add(one, Datagrams(Signing(Other), 1));
        Add(both, Datagrams(Signing(Other), 1));
        Add(both, Datagrams(Signing(Key), 2));

        _records.Select(r => r.Signature).Should().Equal(RecordSignature.UnknownKey, RecordSignature.Verified, RecordSignature.Verified);
        one.GetStatistics().SignaturesWithUnknownKey.Should().Be(1);
    }

    [Fact]
    public void With_verification_required_only_verified_records_are_delivered_and_the_rest_counted()
    {
        RecordReassembler reassembler = Reassembler(requireVerified: true);
        byte[] tampered = Datagrams(Signing(), 2).Single();
        tampered[^5] ^= 1;

        Add(reassembler, Datagrams(Signing(), 1));
        Add(reassembler, [tampered]);
        Add(reassembler, Datagrams(new RecordFormatter(new RecordFormat { Extended = true }), 3, "unsigned"));
        Add(reassembler, [System.Text.Encoding.ASCII.GetBytes("basic text\n")]);

        _records.Should().ContainSingle().Which.Signature.Should().Be(RecordSignature.Verified);
        reassembler.GetStatistics().RecordsRejectedUnverified.Should().Be(3);
    }

    [Fact]
    public void A_continued_group_whose_parts_are_all_signed_is_verified()
    {
        RecordReassembler reassembler = Reassembler();

        Add(reassembler, Datagrams(Signing(), 10, new string('g', 12_000)));
        reassembler.Flush(_records);

        _records.Single().PartCount.Should().Be(2);
        _records.Single().Signature.Should().Be(RecordSignature.Verified);
    }

    // The signature does not cover the source address: a copy sent from another address or port
    // is the same record, and a replay.
    [Fact]
    public void A_copy_sent_from_another_address_is_a_replay_too_recent_or_old()
    {
        RecordReassembler reassembler = Reassembler();
        RecordFormatter formatter = Signing();
        var sent = new List<List<byte[]>>();
        for (ulong sequence = 1; sequence <= 100; sequence++)
        {
            sent.Add(Datagrams(formatter, sequence));
            Add(reassembler, sent[^1]);
        }

        Add(reassembler, sent[99], from: new IPEndPoint(IPAddress.Parse("198.51.100.7"), 6665)); // the newest, at once
        Add(reassembler, sent[4], from: new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40000)); // an old one, same host, another port

        _records.Should().HaveCount(100);
        reassembler.GetStatistics().ReplaysRejected.Should().Be(2);
    }

    [Fact]
    public void A_copy_is_a_replay_even_after_its_sender_was_evicted_by_others()
    {
        var options = new RecordReassemblerOptions { MaxSenders = 2 };
        options.SigningKeys.Add(Key);
        var reassembler = new RecordReassembler(options);
        List<byte[]> record = Datagrams(Signing(), 1);
        Add(reassembler, record);
        for (int i = 1; i <= 10; i++)
        {
            Add(reassembler, [System.Text.Encoding.ASCII.GetBytes($"6,{i},0,-;spoofed\n")], from: new IPEndPoint(IPAddress.Parse("198.51.100.1"), 1000 + i));
        }

        reassembler.GetSenderStatistics(Sender).Should().BeNull("ten other senders pushed it out");

        Add(reassembler, record);

        _records.Should().HaveCount(11, "the signed record once and the ten others");
        reassembler.GetStatistics().ReplaysRejected.Should().Be(1);
    }

    [Fact]
    public void A_record_late_within_the_window_is_taken_once_and_one_below_it_is_a_replay()
    {
        RecordReassembler reassembler = Reassembler();
        RecordFormatter formatter = Signing();
        List<byte[]> late = Datagrams(formatter, 40);
        List<byte[]> tooLate = Datagrams(formatter, 1);
        for (ulong sequence = 2; sequence <= 100; sequence++)
        {
            if (sequence != 40)
            {
                Add(reassembler, Datagrams(formatter, sequence));
            }
        }

        Add(reassembler, late); // 60 behind the highest: reordering, taken
        Add(reassembler, late); // then a copy from the same sender: a duplicate, as unsigned ones are
        Add(reassembler, late, from: new IPEndPoint(IPAddress.Parse("198.51.100.7"), 6665)); // from elsewhere: a replay
        Add(reassembler, tooLate); // 99 behind, never seen: older than the window

        _records.Should().HaveCount(98 + 1, "2 to 100 but 40, then 40 once");
        _records[^1].Sequence.Should().Be(40);
        reassembler.GetStatistics().ReplaysRejected.Should().Be(2);
        reassembler.GetStatistics().DuplicatesIgnored.Should().Be(1);
    }
}
