using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Tests.Support;
using Netconsole.Transport;
using Netconsole.Wire;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// Signed records (issue 17) the way a receiver meets them: a TargetManager signs and injects
/// real frames on the lab's veth, a NetconsoleReceiver in the peer namespace checks them, and the
/// frames captured on the wire are changed or sent again, injected with libpcap as an attacker on
/// the path would: from another source port, with the UDP checksum left out (0, allowed over IPv4).
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")]
public sealed class SignedRecordsLabTests(ITestOutputHelper output) : LabFixture
{
    private const int Port = 6666;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly RecordSigningKey First = new("ops-2026a", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly RecordSigningKey Second = new("ops-2026b", Enumerable.Range(101, 40).Select(i => (byte)i).ToArray());

    private static NetconsoleReceiver Receiver(NetworkLab lab, int port, params RecordSigningKey[] keys)
    {
        var options = new NetconsoleReceiverOptions { Capacity = 100_000 };
        foreach (RecordSigningKey key in keys)
        {
            options.Reassembler.SigningKeys.Add(key);
        }

        return new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, port), options);
    }

    private static NetconsoleTargetOptions Target(NetworkLab lab, string name, int port, RecordSigningKey key)
    {
        NetconsoleTargetOptions options = NetconsoleTargetOptions.Parse($"+6665@{lab.DeviceIPv4}/{lab.DeviceName},{port}@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}");
        options.Name = name;
        options.SigningKey = key;
        options.Userdata["host"] = "web-1";
        return options;
    }

    private static TargetManager Manager(NetworkLab lab, params NetconsoleTargetOptions[] targets)
    {
        var manager = new TargetManager();
        foreach (NetconsoleTargetOptions target in targets)
        {
            manager.Add(target);
            manager.Enable(target.Name!).State.Should().Be(TargetState.Enabled);
        }

        return manager;
    }

    private static void Send(TargetManager manager, ulong sequence, string text) =>
        manager.Send(NetconsoleRecord.FromString(6, text) with { Sequence = sequence, TimestampMicroseconds = 1000 + sequence, Dictionary = [new("DEVICE", "sda")] });

    private static async Task<List<ReceivedRecord>> Read(NetconsoleReceiver receiver, int count)
    {
        var records = new List<ReceivedRecord>();
        using var timeout = new CancellationTokenSource(Wait);
        while (records.Count < count)
        {
            records.Add(await receiver.ReadAsync(timeout.Token));
        }

        return records;
    }

    // Records until none came for longer than the reassembly timeout (incomplete ones given up by then).
    private static async Task<List<ReceivedRecord>> ReadUntilQuiet(NetconsoleReceiver receiver)
    {
        var records = new List<ReceivedRecord>();
        while (true)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(800));
            try
            {
                records.Add(await receiver.ReadAsync(quiet.Token));
            }
            catch (OperationCanceledException)
            {
                return records;
            }
        }
    }

    private static int PayloadOffset(byte[] frame) => 14 + ((frame[14] & 0x0f) * 4) + 8;

    // The frame as an attacker sends it again: one payload byte changed (or none), from another
    // source port so the receiver takes it for another sender, the UDP checksum left out.
    private static byte[] Resent(byte[] frame, ushort sourcePort, int payloadIndex = -1, byte value = 0)
    {
        byte[] copy = (byte[])frame.Clone();
        int udp = 14 + ((copy[14] & 0x0f) * 4);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(udp), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(udp + 6), 0);
        if (payloadIndex >= 0)
        {
            copy[PayloadOffset(copy) + payloadIndex] = value;
        }

        return copy;
    }

    // Another letter for a letter, another digit for a digit: the record still parses the same
    // way, only its content differs. Anything else: the byte with its lowest bit flipped.
    private static byte Changed(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'8' or >= (byte)'a' and <= (byte)'y' or >= (byte)'A' and <= (byte)'Y' => (byte)(b + 1),
        (byte)'9' => (byte)'0',
        (byte)'z' => (byte)'a',
        (byte)'Z' => (byte)'A',
        _ => (byte)(b ^ 1),
    };

    private static bool IsLetterOrDigit(byte b) => char.IsAsciiLetterOrDigit((char)b);

    [SkippableFact]
    public async Task Signed_records_verify_on_the_wire_and_no_changed_byte_is_ever_taken_for_verified()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, Port, First, Second);
        LabCapture capture = lab.StartCapture(onPeer: false, bpfFilter: $"udp dst port {Port}");
        await using TargetManager manager = Manager(lab, Target(lab, "signed", Port, First));

        Send(manager, 1, "disk OK on sda");
        Send(manager, 2, string.Concat(Enumerable.Range(1, 250).Select(i => $"block {i:D4} ")));
        List<ReceivedRecord> sent = await Read(receiver, 2);
        sent.Select(r => (r.Sequence, r.Signature, r.SigningKeyId, r.FragmentCount)).Should().Equal(
            (1UL, RecordSignature.Verified, "ops-2026a", 1),
            (2UL, RecordSignature.Verified, "ops-2026a", 3));
        byte[][] frames = [.. capture.WaitForFrames(4, Wait).Select(f => f.Data)];
        frames.Should().HaveCount(4, "one datagram, then three fragments");

        // Every byte of the one-datagram record, every 11th of each fragment of the other.
        byte[] single = frames[0];
        byte[] payload = single[PayloadOffset(single)..];
        int line = payload.AsSpan().LastIndexOf("\n ncsig="u8);
        int keyId = line + "\n ncsig=v1:"u8.Length;
        var sets = new List<(string Where, ExpectedOutcome Expected, byte[][] Frames)>();
        ushort port = 20_000;
        for (int i = 0; i < payload.Length; i++)
        {
            ExpectedOutcome expected = !IsLetterOrDigit(payload[i]) || (i >= line && i < keyId - 3) ? ExpectedOutcome.NotVerified
                : i >= keyId && i < keyId + First.KeyId.Length ? ExpectedOutcome.UnknownKeyOrInvalid
                : ExpectedOutcome.Invalid;
            sets.Add(($"byte {i} ('{(char)payload[i]}') of the one-datagram record", expected, [Resent(single, port++, i, Changed(payload[i]))]));
        }

        for (int fragment = 1; fragment <= 3; fragment++)
        {
            byte[] original = frames[fragment];
            byte[] fragmentPayload = original[PayloadOffset(original)..];
            int data = fragmentPayload.AsSpan().IndexOf((byte)';') + 1;
            for (int i = data; i < fragmentPayload.Length; i += 11)
            {
                ushort from = port++;
                ExpectedOutcome expected = IsLetterOrDigit(fragmentPayload[i]) && fragment < 3 ? ExpectedOutcome.Invalid : ExpectedOutcome.NotVerified;
                sets.Add(($"byte {i} ('{(char)fragmentPayload[i]}') of fragment {fragment}", expected,
                    [.. frames[1..].Select((f, n) => n + 1 == fragment ? Resent(f, from, i, Changed(fragmentPayload[i])) : Resent(f, from))]));
            }
        }

        using (SharpPcapTransport attacker = SharpPcapTransportFactory.Open(lab.DeviceName))
        {
            foreach ((_, _, byte[][] set) in sets)
            {
                foreach (byte[] frame in set)
                {
                    attacker.Send(frame);
                }

                await Task.Delay(1); // within the receive buffer, whatever the machine's load
            }
        }

        List<ReceivedRecord> arrived = await ReadUntilQuiet(receiver);
        output.WriteLine($"{sets.Count} changed records injected, {arrived.Count} delivered: {string.Join(", ", arrived.GroupBy(r => r.Signature).Select(g => $"{g.Key} {g.Count()}"))}");
        arrived.Should().NotContain(r => r.Signature == RecordSignature.Verified, "no record with a changed byte verifies");
        var byPort = arrived.ToLookup(r => r.Sender.Port);
        for (int n = 0; n < sets.Count; n++)
        {
            (string where, ExpectedOutcome expected, _) = sets[n];
            RecordSignature[] outcome = [.. byPort[20_000 + n].Select(r => r.Signature)];
            switch (expected)
            {
                case ExpectedOutcome.Invalid:
                    outcome.Should().Equal([RecordSignature.Invalid], where);
                    break;
                case ExpectedOutcome.UnknownKeyOrInvalid:
                    outcome.Should().ContainSingle(where).Which.Should().BeOneOf(RecordSignature.UnknownKey, RecordSignature.Invalid);
                    break;
                default:
                    outcome.Should().NotContain(RecordSignature.Verified, where);
                    break;
            }
        }

        int invalid = sets.Count(s => s.Expected == ExpectedOutcome.Invalid);
        invalid.Should().BeGreaterThan(200, "most of what was changed is content the signature covers");
        receiver.GetStatistics().Reassembler.SignaturesInvalid.Should().BeGreaterThanOrEqualTo(invalid);
    }

    [SkippableFact]
    public async Task A_datagram_sent_again_is_rejected_and_counted_from_the_same_source_or_another()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, Port, First);
        LabCapture capture = lab.StartCapture(onPeer: false, bpfFilter: $"udp dst port {Port}");
        await using TargetManager manager = Manager(lab, Target(lab, "signed", Port, First));
        for (ulong sequence = 1; sequence <= 100; sequence++)
        {
            Send(manager, sequence, sequence == 5 ? "disk OK" : $"disk failing, record {sequence}");
            capture.WaitForFrames((int)sequence, Wait); // one at a time: the capture lost frames of a burst
        }

        (await Read(receiver, 100)).Should().OnlyContain(r => r.Signature == RecordSignature.Verified);
        byte[][] frames = [.. capture.Frames.Select(f => f.Data)];
        frames.Should().HaveCount(100);
        int sourcePort = BinaryPrimitives.ReadUInt16BigEndian(frames[0].AsSpan(14 + ((frames[0][14] & 0x0f) * 4)));

        using (SharpPcapTransport attacker = SharpPcapTransportFactory.Open(lab.DeviceName))
        {
            attacker.Send(frames[4]); // "disk OK" again, exactly as it was, 95 records later
            attacker.Send(Resent(frames[4], 40_000)); // and from another port
            attacker.Send(Resent(frames[99], 40_001)); // the newest, from another port
        }

        Send(manager, 101, "after the replays");
        ReceivedRecord next = (await Read(receiver, 1)).Single();

        next.TextString.Should().Be("after the replays", "none of the copies was delivered");
        next.Signature.Should().Be(RecordSignature.Verified);
        receiver.TryRead(out _).Should().BeFalse();
        ReassemblerStatistics statistics = receiver.GetStatistics().Reassembler;
        statistics.ReplaysRejected.Should().Be(3);
        statistics.RecordsVerified.Should().Be(101);
        receiver.GetSenderStatistics(new IPEndPoint(lab.DeviceIPv4, sourcePort))!.RecordsLost.Should().Be(0);
    }

    // Rotation: the sender moves from the first key to the second. A receiver holding both
    // verifies every record; one holding only the first marks the later ones UnknownKey.
    [SkippableFact]
    public async Task A_key_rotated_on_the_sender_verifies_at_a_receiver_holding_both_and_is_an_unknown_key_elsewhere()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver both = Receiver(lab, Port, First, Second);
        await using NetconsoleReceiver firstOnly = Receiver(lab, Port + 1, First);
        await using TargetManager manager = Manager(lab, Target(lab, "both", Port, First), Target(lab, "first-only", Port + 1, First));

        Send(manager, 1, "signed with the first key");
        Send(manager, 2, "still the first");
        foreach (string name in new[] { "both", "first-only" })
        {
            manager.Disable(name);
            manager.Reconfigure(name, o => o.SigningKey = Second);
            manager.Enable(name).State.Should().Be(TargetState.Enabled);
        }

        Send(manager, 3, "signed with the second key");
        Send(manager, 4, "still the second");

        (await Read(both, 4)).Select(r => (r.Sequence, r.Signature, r.SigningKeyId)).Should().Equal(
            (1UL, RecordSignature.Verified, "ops-2026a"),
            (2UL, RecordSignature.Verified, "ops-2026a"),
            (3UL, RecordSignature.Verified, "ops-2026b"),
            (4UL, RecordSignature.Verified, "ops-2026b"));
        (await Read(firstOnly, 4)).Select(r => (r.Sequence, r.Signature, r.SigningKeyId)).Should().Equal(
            (1UL, RecordSignature.Verified, "ops-2026a"),
            (2UL, RecordSignature.Verified, "ops-2026a"),
            (3UL, RecordSignature.UnknownKey, "ops-2026b"),
            (4UL, RecordSignature.UnknownKey, "ops-2026b"));
        firstOnly.GetStatistics().Reassembler.SignaturesWithUnknownKey.Should().Be(2);
        both.GetStatistics().Reassembler.ReplaysRejected.Should().Be(0, "the new key signs a new run: numbers are not taken for copies across keys");
    }

    private enum ExpectedOutcome
    {
        Invalid,
        UnknownKeyOrInvalid,
        NotVerified,
    }
}
