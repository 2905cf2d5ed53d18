using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Interop;
using Netconsole.Resolution;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// A next-hop MAC resolved at enable is re-checked later, on the manager's worker, never on the
/// send path: when its last check is older than the interval, after a transmit error (at most one
/// a second), and when the device comes up again. A changed MAC swaps the frame template between
/// two records; a MAC given in the target is never resolved nor re-checked.
/// </summary>
public sealed class NextHopRecheckTests : IDisposable
{
    private static readonly PhysicalAddress First = PhysicalAddress.Parse("02-00-00-00-01-01");
    private static readonly PhysicalAddress Second = PhysicalAddress.Parse("02-00-00-00-02-02");
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly ManualDeviceWatcher _watcher = new();
    private readonly FakeTransportFactory _factory = new();
    private readonly ManualClock _clock = new();
    private readonly ScriptedResolver _resolver = new(First);
    private readonly TargetManager _manager;

    public NextHopRecheckTests()
    {
        _manager = new TargetManager(new TargetManagerOptions
        {
            Watcher = _watcher,
            TransportFactory = _factory,
            TimeProvider = _clock,
            NextHopRecheckInterval = Interval,
            NextHopResolver = _resolver.Resolve,
            RouteLookup = _ => null,
        });
        _watcher.Register("veth0", ManagerTestBase.MacA, [ManagerTestBase.Local]);
    }

    public void Dispose()
    {
        _resolver.Gate.Set();
        _manager.Dispose();
        _watcher.Dispose();
    }

    private NetconsoleTarget Enabled(Action<NetconsoleTargetOptions>? configure = null)
    {
        NetconsoleTargetOptions options = ManagerTestBase.ByName("veth0");
        options.ReplayBufferMaxRecords = 0; // the frames counted here are the records' own, never a replay's
        configure?.Invoke(options);
        NetconsoleTarget target = _manager.Add(options);
        _manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        return target;
    }

    private void Send(int count = 1)
    {
        for (int i = 0; i < count; i++)
        {
            _manager.Send(NetconsoleRecord.FromString(6, "hello"));
        }
    }

    private void Settle() => _manager.WaitForWorkerIdle(Timeout).Should().BeTrue("the worker finishes its queue");

    private static PhysicalAddress DestinationOf(byte[] frame) => new(frame.AsSpan(0, 6).ToArray());

    private PhysicalAddress[] Destinations() => [.. _factory.Last.Frames.Select(DestinationOf)];

    [Fact]
    public void Enable_resolves_the_next_hop_once_and_frames_carry_its_mac()
    {
        NetconsoleTarget target = Enabled();
        Send(3);
        Settle();

        _resolver.Calls.Should().Equal([false], "one resolution at enable, no re-check within the interval");
        Destinations().Should().AllBeEquivalentTo(First);
        target.DestinationMac.Should().Be(First);
        target.StateReason.Should().Be("enabled on device veth0; scripted answer 1");
        target.GetStatistics().NextHopChecks.Should().Be(0);
    }

    [Fact]
    public void A_record_sent_after_the_interval_queues_a_recheck_and_later_records_go_to_the_new_mac()
    {
        NetconsoleTarget target = Enabled();
        Send();
        _resolver.Next = Second;
        _clock.Advance(Interval);

        Send(); // due: queues the re-check, itself still sent with the template it found
        Settle();
        Send();

        _resolver.Calls.Should().Equal(false, true);
        Destinations().Should().Equal(First, First, Second);
        target.DestinationMac.Should().Be(Second);
        TargetStatistics statistics = target.GetStatistics();
        statistics.NextHopChecks.Should().Be(1);
        statistics.NextHopChanges.Should().Be(1);
        statistics.RecordsSent.Should().Be(3);
        target.State.Should().Be(TargetState.Enabled);
        target.StateReason.Should().Be("enabled on device veth0; scripted answer 2, was 02:00:00:00:01:01 until re-checked after a silence");
    }

    [Fact]
    public void A_busy_target_is_rechecked_once_per_interval_not_per_record()
    {
        NetconsoleTarget target = Enabled();
        for (int step = 0; step < 4; step++)
        {
            _clock.Advance(Interval / 4);
            Send(10);
            Settle();
        }

        _resolver.Calls.Should().Equal(false, true);
        target.GetStatistics().NextHopChecks.Should().Be(1);
        target.StateReason.Should().Be("enabled on device veth0; scripted answer 1", "the same MAC changes nothing");
    }

    [Fact]
    public void The_swapped_template_continues_the_ipv4_identification()
    {
        Enabled();
        Send(2);
        _resolver.Next = Second;
        _clock.Advance(Interval);
        Send();
        Settle();
        Send(2);

        ushort[] ids = [.. _factory.Last.Frames.Select(f => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(18)))];
        ids.Should().Equal(1, 2, 3, 4, 5);
    }

    [Fact]
    public void A_recheck_that_learns_nothing_keeps_the_mac_and_the_next_one_comes_an_interval_later()
    {
        NetconsoleTarget target = Enabled();
        _resolver.Next = null;
        _clock.Advance(Interval);
        Send();
        Settle();
        Send();
        _clock.Advance(Interval / 2);
        Send();
        Settle();

        Destinations().Should().AllBeEquivalentTo(First);
        _resolver.Calls.Should().Equal(false, true);
        TargetStatistics statistics = target.GetStatistics();
        statistics.NextHopChecks.Should().Be(1);
        statistics.NextHopChanges.Should().Be(0);

        _clock.Advance(Interval);
        Send();
        Settle();
        _resolver.Calls.Should().Equal(false, true, true);
    }

    [Fact]
    public void A_broadcast_fallback_is_upgraded_when_the_next_hop_answers_later()
    {
        _resolver.Next = null; // nothing answers at enable: broadcast with the warning
        NetconsoleTarget target = Enabled();
        target.DestinationMac.Should().Be(Ethernet.Broadcast);
        _resolver.Next = Second;
        _clock.Advance(Interval);
        Send();
        Settle();
        Send();

        Destinations().Should().Equal(Ethernet.Broadcast, Second);
        target.GetStatistics().NextHopChanges.Should().Be(1);
    }

    [Fact]
    public void Transmit_errors_queue_at_most_one_recheck_a_second()
    {
        NetconsoleTarget target = Enabled();
        _factory.Last.Fail = FrameTransportError.Other;
        Send(5);
        Settle();
        Send(5);
        Settle();
        _resolver.Calls.Should().Equal(false, true);

        _clock.Advance(TargetManager.TransmitErrorRecheckSpacing);
        Send();
        Settle();
        _resolver.Calls.Should().Equal(false, true, true);
        target.GetStatistics().TransmitErrors.Should().Be(11);
    }

    [Fact]
    public void A_link_that_is_down_does_not_recheck_but_its_coming_up_does()
    {
        NetconsoleTarget target = Enabled();
        _factory.Last.Fail = FrameTransportError.DeviceDown;
        Send(3);
        Settle();
        _resolver.Calls.Should().Equal([false], "a link that is down says nothing about the neighbour");

        _factory.Last.Fail = null;
        _resolver.Next = Second;
        _watcher.SetUp("veth0", up: false);
        _watcher.SetUp("veth0", up: true);
        Settle();
        Send();

        _resolver.Calls.Should().Equal(false, true);
        Destinations().Should().Equal(Second);
        target.StateReason.Should().EndWith("until re-checked after the link came up");
    }

    [Fact]
    public void A_remote_mac_given_in_the_target_is_never_resolved_nor_rechecked()
    {
        var given = PhysicalAddress.Parse("12-34-56-78-9A-BC");
        NetconsoleTarget target = Enabled(o => o.RemoteMac = given);
        _clock.Advance(Interval * 3);
        Send();
        _factory.Last.Fail = FrameTransportError.Other;
        Send();
        _factory.Last.Fail = null;
        _watcher.SetUp("veth0", up: true);
        Settle();

        _resolver.Calls.Should().BeEmpty();
        Destinations().Should().Equal(given);
        target.GetStatistics().NextHopChecks.Should().Be(0);
    }

    [Fact]
    public void An_infinite_interval_rechecks_only_after_errors()
    {
        _manager.Dispose();
        using var manager = new TargetManager(new TargetManagerOptions
        {
            Watcher = _watcher,
            TransportFactory = _factory,
            TimeProvider = _clock,
            NextHopRecheckInterval = System.Threading.Timeout.InfiniteTimeSpan,
            NextHopResolver = _resolver.Resolve,
            RouteLookup = _ => null,
        });
        NetconsoleTarget target = manager.Add(ManagerTestBase.ByName("veth0"));
        manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        _clock.Advance(TimeSpan.FromDays(30));
        manager.Send(NetconsoleRecord.FromString(6, "hello"));
        manager.WaitForWorkerIdle(Timeout).Should().BeTrue();
        _resolver.Calls.Should().Equal([false]);

        _factory.Last.Fail = FrameTransportError.Other;
        manager.Send(NetconsoleRecord.FromString(6, "hello"));
        manager.WaitForWorkerIdle(Timeout).Should().BeTrue();
        _resolver.Calls.Should().Equal(false, true);
    }

    [Fact]
    public void A_disable_during_the_recheck_wins_and_the_answer_is_dropped()
    {
        NetconsoleTarget target = Enabled();
        _resolver.Next = Second;
        _resolver.Gate.Reset();
        _clock.Advance(Interval);
        Send();
        _resolver.Entered.Wait(Timeout).Should().BeTrue("the worker is asking");

        _manager.Disable(target.Name);
        _resolver.Gate.Set();
        Settle();

        target.State.Should().Be(TargetState.Disabled);
        target.DestinationMac.Should().BeNull();
        target.GetStatistics().NextHopChecks.Should().Be(0, "the answer came for a session that is gone");
        _resolver.Next = First;
        _manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        target.DestinationMac.Should().Be(First, "a new session resolves afresh");
    }

    [Fact]
    public async Task Every_record_goes_out_with_one_template_while_rechecks_keep_swapping_it()
    {
        NetconsoleTarget target = Enabled(o => o.Extended = true);
        _resolver.Alternate = true;
        string text = new('x', 2500); // three datagrams per record
        using var stop = new CancellationTokenSource();
        Task churn = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                _clock.Advance(Interval);
                Thread.Yield();
            }
        });
        // Send until the template has been swapped several times while records were going out.
        int records = 0;
        while (records < 1000 || (target.GetStatistics().NextHopChanges < 6 && records < 200_000))
        {
            _manager.Send(NetconsoleRecord.FromString(6, text) with { Sequence = (ulong)++records });
        }

        await stop.CancelAsync();
        await churn.WaitAsync(Timeout);
        Settle();

        byte[][] frames = [.. _factory.Last.Frames];
        frames.Should().HaveCount(records * 3);
        for (int record = 0; record < records; record++)
        {
            PhysicalAddress mac = DestinationOf(frames[record * 3]);
            DestinationOf(frames[(record * 3) + 1]).Should().Be(mac);
            DestinationOf(frames[(record * 3) + 2]).Should().Be(mac);
        }

        target.GetStatistics().NextHopChanges.Should().BeGreaterThanOrEqualTo(6, "the swaps happened while records were sent");
        frames.Select(DestinationOf).Distinct().Should().HaveCount(2, $"records {records}, changes {target.GetStatistics().NextHopChanges}, checks {target.GetStatistics().NextHopChecks}, calls {_resolver.Calls.Length}, now {target.DestinationMac}");
    }

    [Fact]
    public void The_due_check_on_the_send_path_allocates_nothing()
    {
        _factory.KeepFrames = false;
        Enabled();
        NetconsoleRecord record = NetconsoleRecord.FromString(6, "hello");
        for (int i = 0; i < 100; i++)
        {
            _manager.Send(record);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _manager.Send(record);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
        _factory.Last.Sent.Should().Be(1100);
    }

    [Fact]
    public void The_interval_must_be_positive_or_infinite()
    {
        var options = new TargetManagerOptions();
        options.NextHopRecheckInterval.Should().Be(TimeSpan.FromSeconds(60));
        FluentActions.Invoking(() => options.NextHopRecheckInterval = TimeSpan.Zero).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => options.NextHopRecheckInterval = TimeSpan.FromSeconds(-1)).Should().Throw<ArgumentOutOfRangeException>();
        options.NextHopRecheckInterval = System.Threading.Timeout.InfiniteTimeSpan;
        options.NextHopRecheckInterval.Should().Be(System.Threading.Timeout.InfiniteTimeSpan);
    }

    /// <summary>A clock tests move by hand (timestamps in milliseconds).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _milliseconds = 1_000_000;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => Interlocked.Read(ref _milliseconds);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _milliseconds, (long)by.TotalMilliseconds);
    }

    /// <summary>Answers with <see cref="Next"/> (or alternates two MACs), records each call, can hold the worker.</summary>
    private sealed class ScriptedResolver(PhysicalAddress? first)
    {
        private readonly ConcurrentQueue<bool> _calls = new();
        private int _answers;

        public PhysicalAddress? Next { get; set; } = first;

        public bool Alternate { get; set; }

        public ManualResetEventSlim Gate { get; } = new(initialState: true);

        public ManualResetEventSlim Entered { get; } = new();

        public bool[] Calls => [.. _calls];

        public NextHopAnswer Resolve(NextHopQuery query, bool recheck)
        {
            query.DeviceIndex.Should().BePositive("the query names the device the target sends on");
            _calls.Enqueue(recheck);
            Entered.Set();
            Gate.Wait(Timeout).Should().BeTrue("the test releases the resolver");
            int answer = Interlocked.Increment(ref _answers);
            PhysicalAddress? mac = Alternate ? (answer % 2 == 0 ? Second : First) : Next;
            return new NextHopAnswer(mac, $"scripted answer {answer}");
        }
    }
}
