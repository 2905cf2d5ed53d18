using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Targets;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The bounded queue, the sender thread, flushing, disposal, SendNow and crash reports.
/// </summary>
public sealed class QueueTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness;

    public QueueTests() => _harness = new LoggingHarness();

    public void Dispose()
    {
        _harness.Dispose();
        GC.SuppressFinalize(this);
    }

    private NetconsoleLoggerProvider Provider(Action<NetconsoleLoggerOptions>? configure = null)
    {
        NetconsoleLoggerOptions options = _harness.Options();
        configure?.Invoke(options);
        return new NetconsoleLoggerProvider(options);
    }

    [Fact]
    public void DropWrite_drops_new_records_when_full_counts_them_and_announces_them_in_order()
    {
        using NetconsoleLoggerProvider provider = Provider(o => o.MaxQueueLength = 3);
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);

        for (int i = 1; i <= 8; i++)
        {
            logger.LogInformation("r{I}", i); // r1-r3 queued, r4-r8 dropped
        }

        provider.GetStatistics().RecordsDroppedQueueFull.Should().Be(5);
        _harness.Factory.Step(); // r0 goes out; the sender takes r1 and blocks again: room for one
        _harness.Factory.SendBlocked.Wait(Timeout).Should().BeTrue();
        logger.LogInformation("r9");
        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        List<ReceivedRecord> records = _harness.Records();
        records.Select(r => r.TextString).Should().Equal("r0", "r1", "r2", "r3", "netconsole: 5 records dropped (queue full), 5 since start", "r9");
        records[4].Level.Should().Be(4);
        records.Select(r => r.Sequence).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        NetconsoleLoggerStatistics statistics = provider.GetStatistics();
        statistics.RecordsEnqueued.Should().Be(5);
        statistics.RecordsDelivered.Should().Be(5);
        statistics.RecordsDroppedQueueFull.Should().Be(5);
    }

    [Fact]
    public void Statistics_read_in_one_line()
    {
        using NetconsoleLoggerProvider provider = Provider(o => o.MaxQueueLength = 1);
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");
        logger.LogInformation("r2"); // dropped: r1 fills the queue

        provider.GetStatistics().ToString().Should().Be("enqueued 2, delivered 0, undelivered 0, dropped 1 (queue full 1, disposed 0), queued 1, errors 0, dictionary values truncated 0");
        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();
        provider.GetStatistics().ToString().Should().Be("enqueued 2, delivered 2, undelivered 0, dropped 1 (queue full 1, disposed 0), queued 0, errors 0, dictionary values truncated 0");
    }

    [Fact]
    public void Drops_at_the_end_are_announced_when_the_queue_empties()
    {
        using NetconsoleLoggerProvider provider = Provider(o => o.MaxQueueLength = 1);
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");
        logger.LogInformation("r2");
        logger.LogInformation("r3");

        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", "netconsole: 2 records dropped (queue full), 2 since start");
    }

    [Fact]
    public void Wait_blocks_the_logging_thread_until_there_is_room_and_drops_nothing()
    {
        using NetconsoleLoggerProvider provider = Provider(o =>
        {
            o.MaxQueueLength = 1;
            o.QueueFullMode = NetconsoleQueueFullMode.Wait;
        });
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");

        var blocked = new Thread(() => logger.LogInformation("r2"));
        blocked.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.RoomWaiters == 1).Should().BeTrue("the logging thread waits for room");
        blocked.IsAlive.Should().BeTrue("the queue is full and the mode is Wait");
        provider.GetStatistics().RecordsQueued.Should().Be(1, "r2 is not queued while r1 fills the queue");
        _harness.Factory.Release();
        blocked.Join(Timeout).Should().BeTrue();
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", "r2");
        provider.GetStatistics().RecordsDropped.Should().Be(0);
    }

    [Fact]
    public void Dispose_drains_the_queue()
    {
        NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");
        logger.LogInformation("r2");
        _ = Task.Run(() =>
        {
            LoggingHarness.WaitUntil(() => !provider.Processor.IsAccepting); // disposal has begun: it must wait for the drain
            _harness.Factory.Release();
        });

        provider.Dispose();

        _harness.Texts().Should().Equal("r0", "r1", "r2");
        provider.GetStatistics().RecordsDroppedDisposed.Should().Be(0);
    }

    [Fact]
    public void Dispose_gives_up_after_the_timeout_and_counts_what_was_left()
    {
        NetconsoleLoggerProvider provider = Provider(o => o.DisposeTimeout = TimeSpan.FromMilliseconds(200));
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");
        logger.LogInformation("r2");

        var clock = Stopwatch.StartNew();
        provider.Dispose();

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));
        provider.GetStatistics().RecordsDroppedDisposed.Should().Be(2);
        _harness.Factory.Release();
        clock.Restart();
        while (provider.Manager.Targets.Count > 0 && clock.Elapsed < Timeout)
        {
            Thread.Sleep(5);
        }

        provider.Manager.Targets.Should().BeEmpty("the sender disposes the manager once its send returns");
    }

    [Fact]
    public async Task Dispose_is_idempotent_and_logging_afterwards_is_ignored_without_throwing()
    {
        NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        logger.LogInformation("before");

        provider.Dispose();
        provider.Dispose();
        await provider.DisposeAsync();
        Action afterwards = () =>
        {
            logger.LogError(new InvalidOperationException("x"), "after");
            provider.SendNow(LogLevel.Critical, "after");
            provider.Flush(TimeSpan.Zero);
        };

        afterwards.Should().NotThrow();
        logger.IsEnabled(LogLevel.Critical).Should().BeFalse();
        _harness.Texts().Should().Equal("before");
    }

    [Fact]
    public void Logging_never_throws_when_the_formatter_or_a_scope_throws()
    {
        using NetconsoleLoggerProvider provider = Provider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(provider));
        ILogger logger = factory.CreateLogger("c");

        Action log = () =>
        {
            logger.Log<string>(LogLevel.Information, default, "state", null, (_, _) => throw new InvalidOperationException("formatter"));
            using (logger.BeginScope(new ThrowingScope()))
            {
                logger.LogInformation("in a throwing scope");
            }
        };

        log.Should().NotThrow();
        provider.GetStatistics().Errors.Should().Be(2);
    }

    [Fact]
    public void SendNow_after_Flush_comes_after_the_queued_records()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        logger.LogInformation("a");
        logger.LogInformation("b for order {OrderId}", 4711);

        provider.Flush(Timeout).Should().BeTrue();
        provider.SendNow(LogLevel.Error, "c", RecordTests.Thrown(new InvalidOperationException("now")), "Crash.Handler");

        List<ReceivedRecord> records = _harness.Records();
        records.Select(r => r.TextString.Split('\n')[0]).Should().Equal("a", "b for order 4711", "c");
        records.Select(r => r.Sequence).Should().Equal(1UL, 2UL, 3UL);
        records[2].Level.Should().Be(3);
        records[2].FindValue("CATEGORY").Should().Be("Crash.Handler");
        records[2].FindValue("OrderId").Should().BeNull("nothing of the record sent before carries over");
        records[1].FindValue("OrderId").Should().Be("4711");
        records[2].TextString.Should().Contain("now");
    }

    [Fact]
    public void A_crash_report_drains_the_queue_then_sends_the_exception_at_emergency_level()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");
        Exception exception = RecordTests.Thrown(new InvalidOperationException("fatal"));

        var crash = new Thread(() => provider.ReportCrash(0, "Unhandled exception", exception));
        crash.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.FlushWaiters == 1).Should().BeTrue("the crash report drains the queue first");
        _harness.Factory.Frames.Should().BeEmpty("nothing goes out while r0's send is held");
        _harness.Factory.Release();
        crash.Join(Timeout).Should().BeTrue();

        List<ReceivedRecord> records = _harness.Records();
        records.Select(r => r.TextString).Should().Equal("r0", "r1", "Unhandled exception\n" + exception);
        records[2].Level.Should().Be(0);
        records[2].FindValue("CATEGORY").Should().Be(NetconsoleLoggerProvider.CrashCategory);
    }

    [Fact]
    public void An_unobserved_task_exception_is_reported_at_error_level_when_crash_capture_is_on()
    {
        using NetconsoleLoggerProvider provider = Provider(o => o.CaptureUnhandledExceptions = true);

        var clock = Stopwatch.StartNew();
        while (!_harness.Texts().Any(t => t.Contains("unobserved boom", StringComparison.Ordinal)) && clock.Elapsed < Timeout)
        {
            LeaveUnobservedFaultedTask();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            provider.Flush(Timeout);
        }

        ReceivedRecord record = _harness.Records().First(r => r.TextString.Contains("unobserved boom", StringComparison.Ordinal));
        record.Level.Should().Be(3);
        record.TextString.Should().StartWith("Unobserved task exception\n");
    }

    [Fact]
    public void A_target_whose_device_is_missing_stays_deactivated_keeps_its_records_and_sends_them_first_when_it_appears()
    {
        using var harness = new LoggingHarness(registerDevice: false);
        using var provider = new NetconsoleLoggerProvider(harness.Options());
        NetconsoleTarget target = provider.Manager.Targets.Should().ContainSingle().Subject;
        target.State.Should().Be(TargetState.Deactivated);
        provider.CreateLogger("c").LogInformation("lost");
        provider.Flush(Timeout).Should().BeTrue();

        harness.RegisterDevice();
        var clock = Stopwatch.StartNew();
        while (target.State != TargetState.Enabled && clock.Elapsed < Timeout)
        {
            Thread.Sleep(5);
        }

        provider.CreateLogger("c").LogInformation("found");
        provider.Flush(Timeout).Should().BeTrue();
        SpinWait.SpinUntil(() => target.GetStatistics().RecordsBuffered == 0, Timeout).Should().BeTrue("the replay buffer empties");
        harness.Texts().Should().Equal("lost", "found");
        target.GetStatistics().RecordsReplayed.Should().BeGreaterThanOrEqualTo(1);
        target.GetStatistics().RecordsDropped.Should().Be(0);
    }

    [Fact]
    public void Disposal_lets_an_enabled_target_replay_what_waits_before_the_manager_goes()
    {
        using var harness = new LoggingHarness(registerDevice: false);
        NetconsoleLoggerOptions options = harness.Options();
        options.Targets.Clear();
        NetconsoleTargetOptions slow = NetconsoleTargetOptions.Parse(LoggingHarness.Extended);
        slow.MaxDatagramsPerSecond = 50; // the replay of 20 records takes about 0.4 s: still going when disposal begins
        slow.MaxDatagramBurst = 1;
        options.TargetOptions.Add(slow);
        var provider = new NetconsoleLoggerProvider(options);
        NetconsoleTarget target = provider.Manager.Targets.Should().ContainSingle().Subject;
        for (int i = 1; i <= 20; i++)
        {
            provider.CreateLogger("c").LogInformation("kept {N}", i);
        }

        provider.Flush(Timeout).Should().BeTrue();
        harness.RegisterDevice();
        SpinWait.SpinUntil(() => target.State == TargetState.Enabled, Timeout).Should().BeTrue();

        provider.Dispose();

        harness.Texts().Should().Equal(Enumerable.Range(1, 20).Select(i => $"kept {i}"));
        target.GetStatistics().RecordsDropped.Should().Be(0, "disposal waited for the replay");
    }

    [Fact]
    public void Disposal_does_not_wait_for_a_replay_that_makes_no_progress_and_counts_what_waits()
    {
        using var harness = new LoggingHarness();
        var provider = new NetconsoleLoggerProvider(harness.Options());
        NetconsoleTarget target = provider.Manager.Targets.Should().ContainSingle().Subject;
        harness.Factory.SendFailure = Netconsole.Transport.FrameTransportError.DeviceDown; // set down: the target stays enabled
        provider.CreateLogger("c").LogInformation("kept");
        provider.Flush(Timeout).Should().BeTrue();
        target.GetStatistics().RecordsBuffered.Should().Be(1);

        provider.Dispose();

        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(1, "what still waits is dropped, and counted");
        harness.Texts().Should().BeEmpty();
    }

    private static void LeaveUnobservedFaultedTask() =>
        _ = Task.FromException(new InvalidOperationException("unobserved boom"));

    private sealed class ThrowingScope
    {
        public override string ToString() => throw new InvalidOperationException("scope");
    }
}
