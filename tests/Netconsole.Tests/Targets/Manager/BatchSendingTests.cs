using System.Text;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// <see cref="TargetManager.SendBatch"/>: the same frames, order and counting as
/// <see cref="TargetManager.Send"/> record by record, but each target hands the frames of a run to
/// its transport together (at most 64 per <see cref="IFrameTransport.SendBatch"/> call). A frame
/// that fails settles its record as a failed Send would; the records behind it follow it into the
/// replay buffer, or are tried in turn.
/// </summary>
public sealed class BatchSendingTests : ManagerTestBase
{
    private static NetconsoleRecord[] Records(int first, int count, int length = 2) =>
        [.. Enumerable.Range(first, count).Select(n => NetconsoleRecord.FromString(6, $"r{n}".PadRight(length, '.')) with { Sequence = (ulong)n })];

    [Fact]
    public void A_run_of_10_records_goes_to_the_transport_in_one_call_with_the_frames_Send_would_have_built()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.Extended = true);
        FakeTransport transport = Factory.Last;

        Manager.SendBatch(Records(1, 10)).Should().Be(10);

        transport.Batches.Should().Equal(10);
        byte[][] batched = [.. transport.Frames];

        // The same records through Send, on a second manager with the same target: byte for byte the same frames.
        var factory = new FakeTransportFactory();
        using var single = new TargetManager(new TargetManagerOptions { Watcher = Watcher, TransportFactory = factory, RouteLookup = _ => null, NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, "") });
        NetconsoleTargetOptions options = ByName("veth0");
        options.Extended = true;
        single.Add(options);
        single.Enable("t").IsEnabled.Should().BeTrue();
        foreach (NetconsoleRecord record in Records(1, 10))
        {
            single.Send(record).Should().Be(1);
        }

        factory.Last.Batches.Should().BeEmpty("Send hands one frame at a time to Send");
        factory.Last.Frames.Should().BeEquivalentTo(batched, o => o.WithStrictOrdering());
        target.GetStatistics().RecordsSent.Should().Be(10);
        target.GetStatistics().DatagramsSent.Should().Be(10);
    }

    [Fact]
    public void A_hundred_records_go_in_calls_of_64_and_36_in_order()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;

        Manager.SendBatch(Records(1, 100)).Should().Be(100);

        transport.Batches.Should().Equal(64, 36);
        Payloads(transport).Should().Equal(Enumerable.Range(1, 100).Select(n => $"r{n}"));
        target.GetStatistics().RecordsSent.Should().Be(100);
    }

    [Fact]
    public void SentTo_says_per_record_how_many_targets_sent_it_as_Send_returns()
    {
        EnabledOnVeth0();
        Register("veth1");
        Manager.Add(ByName("veth1", "second"));
        Manager.Enable("second").IsEnabled.Should().BeTrue();
        Manager.Add(ByName("veth9", "third")); // never enabled: drops every record

        var sentTo = new int[5];
        Manager.SendBatch(Records(1, 5), sentTo).Should().Be(5);

        sentTo.Should().Equal(2, 2, 2, 2, 2);
        Manager.Targets.Single(t => t.Name == "third").GetStatistics().RecordsDropped.Should().Be(5);
    }

    [Fact]
    public void SentTo_of_the_wrong_length_is_refused_before_anything_is_sent()
    {
        EnabledOnVeth0();

        Action call = () => Manager.SendBatch(Records(1, 3), new int[2]);

        call.Should().Throw<ArgumentException>().WithMessage("sentTo holds 2 entries for 3 records*");
        Factory.Last.Sent.Should().Be(0);
    }

    [Fact]
    public void A_frame_that_fails_with_a_replay_buffer_sends_its_record_and_those_behind_it_to_the_buffer_in_order()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        transport.FailAttempts = new HashSet<long> { 3, 4 }; // r4's frame: no buffer space, and again when tried again

        Manager.SendBatch(Records(1, 8)).Should().Be(8, "the records that did not go wait in the replay buffer");

        SpinWait.SpinUntil(() => target.GetStatistics().RecordsReplayed == 5, Timeout).Should().BeTrue("the replay sends r4 to r8");
        Payloads(transport).Should().Equal("r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8");
        TargetStatistics s = target.GetStatistics();
        s.RecordsSent.Should().Be(3);
        s.TransmitErrors.Should().Be(1);
        s.RecordsDropped.Should().Be(0);
        AddsUp(s, 8);
    }

    [Fact]
    public void A_frame_that_fails_without_a_replay_buffer_loses_its_record_only_and_the_next_ones_are_tried()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.ReplayBufferMaxRecords = 0);
        FakeTransport transport = Factory.Last;
        transport.FailAttempts = new HashSet<long> { 3, 4 };

        var sentTo = new int[8];
        Manager.SendBatch(Records(1, 8), sentTo).Should().Be(7);

        sentTo.Should().Equal(1, 1, 1, 0, 1, 1, 1, 1);
        Payloads(transport).Should().Equal("r1", "r2", "r3", "r5", "r6", "r7", "r8");
        transport.Batches.Should().Equal(8, 5, 4); // short at r4; r4 again (refused); r5 to r8
        TargetStatistics s = target.GetStatistics();
        s.RecordsSent.Should().Be(7);
        s.RecordsDroppedByReason[TargetDropReason.TransmitError].Should().Be(1);
        s.TransmitErrors.Should().Be(1);
        AddsUp(s, 8);
    }

    [Fact]
    public void A_frame_refused_once_inside_a_run_goes_first_in_the_next_call_and_nothing_is_lost()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.ReplayBufferMaxRecords = 0);
        FakeTransport transport = Factory.Last;
        transport.FailAttempts = new HashSet<long> { 3 }; // a passing failure: no buffer space once

        Manager.SendBatch(Records(1, 8)).Should().Be(8);

        transport.Batches.Should().Equal(8, 5);
        Payloads(transport).Should().Equal("r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8");
        target.GetStatistics().RecordsSent.Should().Be(8);
        target.GetStatistics().TransmitErrors.Should().Be(0, "the batch said how many went; nothing failed for good");
    }

    [Fact]
    public void A_frame_too_long_is_dropped_even_with_a_replay_buffer_and_the_next_records_still_go()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        transport.FailAttempts = new HashSet<long> { 0 };
        transport.FailAttemptsWith = FrameTransportError.FrameTooLong;

        Manager.SendBatch(Records(1, 4)).Should().Be(3);

        Payloads(transport).Should().Equal("r2", "r3", "r4");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.TransmitError].Should().Be(1);
        target.GetStatistics().RecordsBuffered.Should().Be(0);
        AddsUp(target.GetStatistics(), 4);
    }

    [Fact]
    public void A_device_gone_mid_run_keeps_the_rest_for_the_target_to_resume_with()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        transport.FailAttempts = new HashSet<long> { 2, 3 };
        transport.FailAttemptsWith = FrameTransportError.DeviceGone;

        Manager.SendBatch(Records(1, 6)).Should().Be(6);
        Settle();

        target.GetStatistics().State.Should().Be(TargetState.Deactivated, "a gone device deactivates the target");
        Payloads(transport).Should().Equal("r1", "r2");
        target.GetStatistics().RecordsBuffered.Should().Be(4);

        Watcher.Unregister("veth0");
        Settle();
        Register("veth0");
        Settle();
        SpinWait.SpinUntil(() => target.GetStatistics().RecordsReplayed == 4, Timeout).Should().BeTrue();
        Payloads(Factory.Last).Should().Equal("r3", "r4", "r5", "r6");
        AddsUp(target.GetStatistics(), 6);
    }

    [Fact]
    public void A_record_of_more_datagrams_than_a_batch_holds_goes_frame_by_frame_between_the_runs()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.Extended = true);
        FakeTransport transport = Factory.Last;
        NetconsoleRecord[] records = Records(1, 3);
        records[1] = NetconsoleRecord.FromString(6, new string('x', 100_000)) with { Sequence = 2 }; // ~100 fragments

        Manager.SendBatch(records).Should().Be(3);

        transport.Batches.Should().Equal([1, 1], "r1 goes before the long record, r3 after it; the long one through Send");
        string[] payloads = Payloads(transport);
        payloads[0].Should().EndWith(";r1");
        payloads[^1].Should().EndWith(";r3");
        payloads.Length.Should().BeGreaterThan(64 + 2);
        target.GetStatistics().RecordsSent.Should().Be(3);
    }

    [Fact]
    public void Records_to_a_paced_target_go_one_at_a_time()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.MaxDatagramsPerSecond = 1_000_000);
        FakeTransport transport = Factory.Last;

        Manager.SendBatch(Records(1, 5)).Should().Be(5);

        transport.Batches.Should().BeEmpty("a paced record waits for its turn outside the send lock, alone");
        Payloads(transport).Should().Equal("r1", "r2", "r3", "r4", "r5");
        target.GetStatistics().RecordsSent.Should().Be(5);
    }

    [Fact]
    public void While_records_wait_in_the_replay_buffer_a_run_queues_behind_them()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Watcher.Unregister("veth0");
        Settle();
        Manager.SendBatch(Records(1, 3)).Should().Be(3);

        Register("veth0");
        Manager.SendBatch(Records(4, 3)).Should().Be(3);
        Settle();

        SpinWait.SpinUntil(() => target.GetStatistics().RecordsBuffered == 0, Timeout).Should().BeTrue();
        Payloads(Factory.Last).Should().Equal("r1", "r2", "r3", "r4", "r5", "r6");
        AddsUp(target.GetStatistics(), 6);
    }

    [Fact]
    public void After_disposal_nothing_is_sent_and_sentTo_says_so()
    {
        EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        Manager.Dispose();

        var sentTo = new int[] { 7, 7 };
        Manager.SendBatch(Records(1, 2), sentTo).Should().Be(0);

        sentTo.Should().Equal(0, 0);
        transport.Sent.Should().Be(0);
    }
}
