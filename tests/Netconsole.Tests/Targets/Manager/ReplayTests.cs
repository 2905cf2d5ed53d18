using System.Text;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// The replay buffer: records offered while a target cannot send wait, and go out first, in
/// order, when it can again; beyond a limit the oldest are dropped and counted; the operator's
/// disable drops them; every record is counted exactly once.
/// </summary>
public sealed class ReplayTests : ManagerTestBase
{
    private void Send(params int[] numbers)
    {
        foreach (int n in numbers)
        {
            Manager.Send(NetconsoleRecord.FromString(6, $"r{n}") with { Sequence = (ulong)n });
        }
    }

    private static void WaitUntilReplayed(NetconsoleTarget target, long records)
    {
        SpinWait.SpinUntil(() => target.GetStatistics().RecordsReplayed >= records && target.GetStatistics().RecordsBuffered == 0, Timeout)
            .Should().BeTrue($"the replay sends the {records} buffered records");
    }

    private void Outage()
    {
        Watcher.Unregister("veth0");
        Settle();
    }

    private FakeTransport Comeback()
    {
        Register("veth0");
        Settle();
        return Factory.Last;
    }

    [Fact]
    public void Records_offered_while_deactivated_wait_and_are_counted_as_buffered()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Outage();

        Send(1, 2, 3);

        TargetStatistics s = target.GetStatistics();
        s.State.Should().Be(TargetState.Deactivated);
        s.RecordsBuffered.Should().Be(3);
        s.RecordsDropped.Should().Be(0);
        AddsUp(s, 3);
    }

    [Fact]
    public void On_resume_the_buffered_records_go_out_first_in_order_then_new_ones()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Send(1);
        Outage();
        Send(2, 3, 4);

        FakeTransport resumed = Comeback();
        WaitUntilReplayed(target, 3);
        Send(5);

        Payloads(resumed).Should().Equal("r2", "r3", "r4", "r5");
        TargetStatistics s = target.GetStatistics();
        s.RecordsSent.Should().Be(2);
        s.RecordsReplayed.Should().Be(3);
        AddsUp(s, 5);
    }

    [Fact]
    public void Replayed_records_keep_the_sequence_numbers_and_timestamps_of_the_moment_they_were_offered()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.Extended = true);
        Outage();
        Manager.Send(NetconsoleRecord.FromString(6, "late") with { Sequence = 41, TimestampMicroseconds = 123_456 });

        FakeTransport resumed = Comeback();
        WaitUntilReplayed(target, 1);

        Payloads(resumed).Should().Equal("14,41,123456,-;late");
    }

    [Fact]
    public void A_record_sent_while_a_replay_is_pending_never_overtakes_the_buffered_ones()
    {
        // A slow pace keeps the replay going while new records arrive.
        NetconsoleTarget target = EnabledOnVeth0(o => { o.MaxDatagramsPerSecond = 200; o.MaxDatagramBurst = 1; });
        Outage();
        Send([.. Enumerable.Range(1, 20)]);

        FakeTransport resumed = Comeback();
        Send([.. Enumerable.Range(21, 10)]);
        WaitUntilReplayed(target, 20);
        SpinWait.SpinUntil(() => resumed.Sent == 30, Timeout).Should().BeTrue();

        Payloads(resumed).Should().Equal(Enumerable.Range(1, 30).Select(n => $"r{n}"));
        AddsUp(target.GetStatistics(), 30);
    }

    [Fact]
    public void Beyond_the_record_limit_the_oldest_are_dropped_and_counted_as_replay_buffer_full()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.ReplayBufferMaxRecords = 3);
        Outage();
        Send(1, 2, 3, 4, 5);

        TargetStatistics during = target.GetStatistics();
        during.RecordsBuffered.Should().Be(3);
        during.RecordsDroppedByReason[TargetDropReason.ReplayBufferFull].Should().Be(2);

        FakeTransport resumed = Comeback();
        WaitUntilReplayed(target, 3);
        Payloads(resumed).Should().Equal("r3", "r4", "r5");
        AddsUp(target.GetStatistics(), 5);
    }

    [Fact]
    public void Beyond_the_byte_limit_the_oldest_are_dropped_and_a_record_larger_than_the_limit_is_not_kept()
    {
        // "rN\n" is 3 bytes, and its length 2 more: 5 bytes a record, two fit in 12.
        NetconsoleTarget target = EnabledOnVeth0(o => o.ReplayBufferMaxBytes = 12);
        Outage();
        Send(1, 2, 3);
        Manager.Send(NetconsoleRecord.FromString(6, new string('x', 20)) with { Sequence = 4 });

        TargetStatistics s = target.GetStatistics();
        s.RecordsBuffered.Should().Be(2);
        s.RecordsDroppedByReason[TargetDropReason.ReplayBufferFull].Should().Be(2, "r1 made room for r3, and the long record alone is over the limit");

        FakeTransport resumed = Comeback();
        WaitUntilReplayed(target, 2);
        Payloads(resumed).Should().Equal("r2", "r3");
        AddsUp(target.GetStatistics(), 4);
    }

    [Fact]
    public void Records_older_than_the_age_limit_are_dropped_and_counted_as_expired()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.ReplayBufferMaxAge = TimeSpan.FromTicks(1));
        Outage();
        Send(1, 2);
        long before = Manager.Timestamp();
        SpinWait.SpinUntil(() => Manager.Timestamp() > before + 1, Timeout).Should().BeTrue();

        Send(3); // finds the two older ones expired

        TargetStatistics s = target.GetStatistics();
        s.RecordsDroppedByReason[TargetDropReason.ReplayExpired].Should().BeGreaterThanOrEqualTo(2);
        AddsUp(s, 3);
    }

    [Fact]
    public void The_operators_disable_drops_the_buffer_and_counts_it_as_disabled()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Outage();
        Send(1, 2, 3, 4);

        Manager.Disable(target.Name);
        Send(5);

        TargetStatistics s = target.GetStatistics();
        s.RecordsBuffered.Should().Be(0);
        s.RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(5, "the four buffered, and the one sent to a disabled target");
        AddsUp(s, 5);
    }

    [Fact]
    public void A_disabled_target_that_is_enabled_again_replays_nothing_from_before()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Outage();
        Send(1, 2);
        Manager.Disable(target.Name);
        Register("veth0");
        Settle();

        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        Send(3);

        Payloads(Factory.Last).Should().Equal("r3");
        target.GetStatistics().RecordsReplayed.Should().Be(0);
    }

    [Fact]
    public void Records_the_device_refuses_while_it_is_down_wait_and_go_out_when_it_comes_up()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        transport.Fail = FrameTransportError.DeviceDown;
        Send(1, 2, 3);

        TargetStatistics during = target.GetStatistics();
        during.State.Should().Be(TargetState.Enabled);
        during.RecordsBuffered.Should().Be(3);
        during.RecordsDropped.Should().Be(0);

        transport.Fail = null;
        Watcher.SetUp("veth0", true);
        WaitUntilReplayed(target, 3);
        Send(4);

        Payloads(transport).Should().Equal("r1", "r2", "r3", "r4");
        AddsUp(target.GetStatistics(), 4);
    }

    [Fact]
    public void Records_offered_without_carrier_wait_and_go_out_when_it_returns_even_after_a_flap_the_worker_never_saw()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        Manager.PauseWorker();

        Watcher.SetCarrier("veth0", false);
        Send(1, 2);
        transport.Frames.Should().BeEmpty("the driver would drop frames without carrier");
        Watcher.SetCarrier("veth0", true);
        Manager.ResumeWorker();
        Settle();
        WaitUntilReplayed(target, 2);
        Send(3);

        Payloads(transport).Should().Equal("r1", "r2", "r3");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.NoCarrier].Should().Be(0);
        AddsUp(target.GetStatistics(), 3);
    }

    [Fact]
    public void A_send_error_on_a_replayed_frame_that_would_fail_every_time_drops_that_record_only()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        transport.Fail = FrameTransportError.DeviceDown;
        Send(1);
        transport.Fail = FrameTransportError.FrameTooLong;
        Watcher.SetUp("veth0", true);
        SpinWait.SpinUntil(() => target.GetStatistics().RecordsBuffered == 0, Timeout).Should().BeTrue();
        transport.Fail = null;
        Send(2);

        TargetStatistics s = target.GetStatistics();
        s.RecordsDroppedByReason[TargetDropReason.TransmitError].Should().Be(1);
        Payloads(transport).Should().Equal("r2");
        AddsUp(s, 2);
    }

    [Fact]
    public void A_reconfigured_target_keeps_what_waits_within_its_new_limits_the_oldest_dropped()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Outage();
        Send(1, 2, 3, 4);

        Manager.Reconfigure(target.Name, o => o.ReplayBufferMaxRecords = 2);
        FakeTransport resumed = Comeback();
        WaitUntilReplayed(target, 2);

        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.ReplayBufferFull].Should().Be(2);
        Payloads(resumed).Should().Equal("r3", "r4");
        AddsUp(target.GetStatistics(), 4);
    }

    [Fact]
    public void A_target_reconfigured_without_a_buffer_drops_what_waits()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Outage();
        Send(1, 2);

        Manager.Reconfigure(target.Name, o => o.ReplayBufferMaxAge = TimeSpan.Zero);
        Send(3);

        TargetStatistics s = target.GetStatistics();
        s.RecordsBuffered.Should().Be(0);
        s.RecordsDroppedByReason[TargetDropReason.ReplayBufferFull].Should().Be(2);
        s.RecordsDroppedByReason[TargetDropReason.Deactivated].Should().Be(1);
        AddsUp(s, 3);
    }

    [Fact]
    public void Without_a_replay_buffer_records_are_dropped_as_the_kernel_does()
    {
        NetconsoleTarget target = EnabledOnVeth0(o => o.ReplayBufferMaxRecords = 0);
        Outage();
        Send(1, 2);

        FakeTransport resumed = Comeback();
        Send(3);

        TargetStatistics s = target.GetStatistics();
        s.RecordsDroppedByReason[TargetDropReason.Deactivated].Should().Be(2);
        s.RecordsBuffered.Should().Be(0);
        Payloads(resumed).Should().Equal("r3");
    }

    [Fact]
    public void A_continued_group_keeps_its_skew_when_buffered()
    {
        // 10,000 bytes of text: a continued group of two records (two sequence numbers), fragmented.
        NetconsoleTarget target = EnabledOnVeth0(o => o.Extended = true);
        Outage();
        Manager.Send(NetconsoleRecord.FromString(6, new string('a', 10_000)) with { Sequence = 1 });
        Manager.Send(NetconsoleRecord.FromString(6, "next") with { Sequence = 2 });

        FakeTransport resumed = Comeback();
        WaitUntilReplayed(target, 2);

        Payloads(resumed).Last().Should().StartWith("14,3,", "the record after a group of two continues at 3, as when sent at once");
    }

    [Fact]
    public void Enabled_sending_with_an_empty_replay_buffer_allocates_nothing()
    {
        Factory.KeepFrames = false;
        NetconsoleTarget target = EnabledOnVeth0();
        NetconsoleRecord record = NetconsoleRecord.FromString(6, "steady");
        for (int i = 0; i < 100; i++)
        {
            Manager.Send(record with { Sequence = (ulong)i });
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 100; i < 1100; i++)
        {
            Manager.Send(record with { Sequence = (ulong)i });
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
        target.GetStatistics().RecordsSent.Should().Be(1100);
    }
}
