using System.Collections.Concurrent;
using Netconsole.Devices;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// A paced target makes the sending thread wait, on the manager's clock, one token per datagram;
/// a record goes out whole; the wait ends, and the record is dropped and counted, when the target
/// stops being enabled. The waits here advance a manual clock: nothing depends on real time.
/// </summary>
public sealed class PacingTests : IDisposable
{
    private readonly ManualDeviceWatcher _watcher = new();
    private readonly FakeTransportFactory _factory = new();
    private readonly ManualClock _clock = new(frequency: 1_000_000_000);
    private readonly ConcurrentQueue<TimeSpan> _waits = new();
    private readonly TargetManager _manager;

    public PacingTests()
    {
        _manager = new TargetManager(new TargetManagerOptions
        {
            Watcher = _watcher,
            TransportFactory = _factory,
            TimeProvider = _clock,
            RouteLookup = _ => null,
            NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, ""),
            PacingWait = wait =>
            {
                _waits.Enqueue(wait);
                _clock.Advance(wait);
            },
        });
        _watcher.Register("veth0", ManagerTestBase.MacA, [ManagerTestBase.Local]);
    }

    public void Dispose()
    {
        _manager.Dispose();
        _watcher.Dispose();
    }

    private NetconsoleTarget Enabled(int rate, int burst)
    {
        NetconsoleTargetOptions options = ManagerTestBase.ByName("veth0");
        options.MaxDatagramsPerSecond = rate;
        options.MaxDatagramBurst = burst;
        NetconsoleTarget target = _manager.Add(options);
        _manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        return target;
    }

    private void Send(int count, int textLength = 5)
    {
        for (int i = 0; i < count; i++)
        {
            _manager.Send(NetconsoleRecord.FromString(6, new string('x', textLength)) with { Sequence = (ulong)i + 1 });
        }
    }

    [Fact]
    public void Over_the_limit_the_sender_waits_one_interval_per_record_and_every_record_goes_out()
    {
        NetconsoleTarget target = Enabled(rate: 10, burst: 2);

        Send(5);

        _waits.Should().Equal([TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)],
            "two records go at once, the three after them a tenth of a second apart");
        _factory.Last.Frames.Should().HaveCount(5);
        target.GetStatistics().RecordsSent.Should().Be(5);
        target.GetStatistics().RecordsDropped.Should().Be(0);
    }

    [Fact]
    public void A_fragmented_record_goes_out_whole_and_takes_a_token_per_datagram()
    {
        NetconsoleTarget target = Enabled(rate: 10, burst: 1);

        Send(1, textLength: 2500);
        int fragments = _factory.Last.Frames.Count;
        Send(1);

        fragments.Should().Be(3, "2500 bytes of text take three datagrams of at most 1000 bytes");
        _waits.Should().Equal([TimeSpan.FromMilliseconds(300)], "the three datagrams went at once, and the next record waits until all three are paid for");
        _factory.Last.Frames.Should().HaveCount(4);
        target.GetStatistics().DatagramsSent.Should().Be(4);
    }

    [Fact]
    public void A_target_without_pacing_never_waits()
    {
        Enabled(rate: 0, burst: 1);

        Send(200, textLength: 2500);

        _waits.Should().BeEmpty();
        _factory.Last.Frames.Should().HaveCount(600);
    }

    [Fact]
    public void Only_the_paced_target_makes_the_sender_wait()
    {
        Enabled(rate: 10, burst: 1);
        NetconsoleTargetOptions free = ManagerTestBase.ByName("veth0", "free");
        NetconsoleTarget unpaced = _manager.Add(free);
        _manager.Enable(unpaced.Name);

        Send(3);

        _waits.Should().HaveCount(2);
        unpaced.GetStatistics().RecordsSent.Should().Be(3);
    }

    [Fact]
    public void Reconfigure_changes_the_pacing()
    {
        NetconsoleTarget target = Enabled(rate: 10, burst: 1);
        _manager.Disable(target.Name);
        _manager.Reconfigure(target.Name, o => o.MaxDatagramsPerSecond = 0);
        _manager.Enable(target.Name);

        Send(10);

        _waits.Should().BeEmpty();
        target.GetStatistics().RecordsSent.Should().Be(10);
    }

    [Fact]
    public void A_sender_waiting_for_pacing_is_released_when_the_target_is_disabled_and_the_record_counted_as_dropped()
    {
        // A real wait this time, on a clock that never moves: only the state change can end it.
        using var watcher = new ManualDeviceWatcher();
        watcher.Register("veth0", ManagerTestBase.MacA, [ManagerTestBase.Local]);
        using var manager = new TargetManager(new TargetManagerOptions
        {
            Watcher = watcher,
            TransportFactory = new FakeTransportFactory(),
            TimeProvider = _clock,
            RouteLookup = _ => null,
            NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, ""),
        });
        NetconsoleTargetOptions options = ManagerTestBase.ByName("veth0");
        options.MaxDatagramsPerSecond = 1;
        options.MaxDatagramBurst = 1;
        NetconsoleTarget target = manager.Add(options);
        manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        manager.Send(NetconsoleRecord.FromString(6, "takes the only token"));

        var sender = new Thread(() => manager.Send(NetconsoleRecord.FromString(6, "waits"))) { IsBackground = true };
        sender.Start();
        SpinWait.SpinUntil(() => sender.ThreadState.HasFlag(ThreadState.WaitSleepJoin), ManagerTestBase.Timeout).Should().BeTrue("the sender waits for a token");
        manager.Disable(target.Name);

        sender.Join(ManagerTestBase.Timeout).Should().BeTrue("disabling the target ends the wait");
        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsSent.Should().Be(1);
        statistics.RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(1, "the waiting record is counted once, as not sent");
    }
}
