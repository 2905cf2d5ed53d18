using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Netconsole.Logging;
using Netconsole.Receiving;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The queue limit and the queue-full modes through the provider: live changes of
/// MaxQueueLength and QueueFullMode, and many logging threads at once with exact accounting.
/// </summary>
public sealed class QueueLimitTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness;

    public QueueLimitTests() => _harness = new LoggingHarness();

    public void Dispose()
    {
        _harness.Dispose();
        GC.SuppressFinalize(this);
    }


    [Fact]
    public void A_new_MaxQueueLength_applies_to_the_next_record_and_may_grow_the_queue_beyond_its_first_segment()
    {
        var monitor = new ReloadableOptions(_harness.Options(), o => o.MaxQueueLength = 2);
        using var provider = new NetconsoleLoggerProvider(monitor);
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int i = 1; i <= 4; i++)
        {
            logger.LogInformation("r{I}", i); // r1, r2 queued; r3, r4 dropped
        }

        monitor.Reload(o => o.MaxQueueLength = 100); // more than the first segment holds
        for (int i = 5; i <= 104; i++)
        {
            logger.LogInformation("r{I}", i); // 98 more fit beside r1 and r2; r103, r104 dropped
        }

        provider.GetStatistics().RecordsQueued.Should().Be(100);
        provider.Queue.Capacity.Should().BeGreaterThan(LogQueue.InitialCapacity);
        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        var expected = new List<string> { "r0", "r1", "r2", LoggingHarness.Notice(2, 2) };
        expected.AddRange(Enumerable.Range(5, 98).Select(i => "r" + i.ToString(CultureInfo.InvariantCulture)));
        expected.Add(LoggingHarness.Notice(2, 4));
        _harness.Texts().Should().Equal(expected);
        NetconsoleLoggerStatistics statistics = provider.GetStatistics();
        (statistics.RecordsEnqueued, statistics.RecordsDroppedQueueFull, statistics.RecordsDelivered).Should().Be((101L, 4L, 101L));
    }

    [Fact]
    public void A_smaller_MaxQueueLength_keeps_what_is_queued_and_refuses_new_records_until_the_queue_is_below_it()
    {
        var monitor = new ReloadableOptions(_harness.Options(), o => o.MaxQueueLength = 10);
        using var provider = new NetconsoleLoggerProvider(monitor);
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int i = 1; i <= 5; i++)
        {
            logger.LogInformation("r{I}", i);
        }

        monitor.Reload(o => o.MaxQueueLength = 2);
        logger.LogInformation("r6");

        provider.GetStatistics().RecordsQueued.Should().Be(5);
        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();
        logger.LogInformation("r7");
        provider.Flush(Timeout).Should().BeTrue();
        _harness.Texts().Should().Equal("r0", "r1", "r2", "r3", "r4", "r5", LoggingHarness.Notice(1, 1), "r7");
    }

    [Fact]
    public void Waiting_logging_threads_go_on_when_the_queue_grows_or_the_mode_becomes_DropWrite()
    {
        var monitor = new ReloadableOptions(_harness.Options(), o =>
        {
            o.MaxQueueLength = 1;
            o.QueueFullMode = NetconsoleQueueFullMode.Wait;
        });
        using var provider = new NetconsoleLoggerProvider(monitor);
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        logger.LogInformation("r1");
        var first = new Thread(() => logger.LogInformation("r2"));
        first.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.RoomWaiters == 1).Should().BeTrue("r2's thread waits for room");
        first.IsAlive.Should().BeTrue("the queue is full and the mode is Wait");

        monitor.Reload(o =>
        {
            o.MaxQueueLength = 2;
            o.QueueFullMode = NetconsoleQueueFullMode.Wait;
        });
        first.Join(Timeout).Should().BeTrue("the longer queue has room for r2");
        var second = new Thread(() => logger.LogInformation("r3"));
        second.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.RoomWaiters == 1).Should().BeTrue("r3's thread waits for room");
        second.IsAlive.Should().BeTrue("full again");
        monitor.Reload(o =>
        {
            o.MaxQueueLength = 2;
            o.QueueFullMode = NetconsoleQueueFullMode.DropWrite;
        });
        second.Join(Timeout).Should().BeTrue("DropWrite drops r3 instead of waiting");

        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();
        _harness.Texts().Should().Equal("r0", "r1", "r2", LoggingHarness.Notice(1, 1));
    }

    [Fact]
    public void Many_logging_threads_in_DropWrite_mode_are_accounted_for_exactly_and_each_threads_records_stay_in_order()
    {
        const int Threads = 4;
        const int PerThread = 3000;
        using var provider = new NetconsoleLoggerProvider(_harness.Options(LoggingHarness.Basic).With(o => o.MaxQueueLength = 16));
        ILogger logger = provider.CreateLogger("c");

        RunThreads(Threads, PerThread, logger);
        provider.Flush(Timeout).Should().BeTrue();

        NetconsoleLoggerStatistics statistics = provider.GetStatistics();
        (statistics.RecordsEnqueued + statistics.RecordsDroppedQueueFull).Should().Be(Threads * PerThread);
        statistics.RecordsDelivered.Should().Be(statistics.RecordsEnqueued);
        List<string> texts = _harness.Texts();
        List<string> notices = texts.Where(t => t.StartsWith("netconsole: ", StringComparison.Ordinal)).ToList();
        notices.Sum(t => long.Parse(t.Split(' ')[1], CultureInfo.InvariantCulture)).Should().Be(statistics.RecordsDroppedQueueFull, "every drop is announced once");
        AssertOrderPerThread(texts.Except(notices).ToList(), Threads).Should().Be(statistics.RecordsEnqueued);
    }

    [Fact]
    public void Many_logging_threads_in_Wait_mode_lose_nothing_and_each_threads_records_stay_in_order()
    {
        const int Threads = 4;
        const int PerThread = 1500;
        using var provider = new NetconsoleLoggerProvider(_harness.Options(LoggingHarness.Basic).With(o =>
        {
            o.MaxQueueLength = 4;
            o.QueueFullMode = NetconsoleQueueFullMode.Wait;
        }));
        ILogger logger = provider.CreateLogger("c");

        RunThreads(Threads, PerThread, logger);
        provider.Flush(Timeout).Should().BeTrue();

        provider.GetStatistics().RecordsDropped.Should().Be(0);
        provider.GetStatistics().RecordsDelivered.Should().Be(Threads * PerThread);
        AssertOrderPerThread(_harness.Texts(), Threads).Should().Be(Threads * PerThread);
    }

    private static void RunThreads(int threads, int perThread, ILogger logger)
    {
        using var start = new Barrier(threads);
        var all = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < perThread; i++)
            {
                logger.LogInformation("t{Thread} n{Number}", t, i);
            }
        })).ToList();
        all.ForEach(t => t.Start());
        all.ForEach(t => t.Join());
    }

    // Checks each thread's numbers rise; returns how many records there were.
    private static long AssertOrderPerThread(List<string> texts, int threads)
    {
        var last = Enumerable.Repeat(-1, threads).ToArray();
        foreach (string text in texts)
        {
            string[] parts = text.Split(' ');
            int thread = int.Parse(parts[0][1..], CultureInfo.InvariantCulture);
            int number = int.Parse(parts[1][1..], CultureInfo.InvariantCulture);
            number.Should().BeGreaterThan(last[thread], "thread {0}'s records keep their order", thread);
            last[thread] = number;
        }

        return texts.Count;
    }

    /// <summary>An options monitor whose value the test replaces, as a configuration reload does.</summary>
    private sealed class ReloadableOptions : IOptionsMonitor<NetconsoleLoggerOptions>
    {
        private readonly NetconsoleLoggerOptions _template;
        private readonly List<Action<NetconsoleLoggerOptions, string?>> _listeners = new();

        public ReloadableOptions(NetconsoleLoggerOptions template, Action<NetconsoleLoggerOptions> configure)
        {
            _template = template;
            CurrentValue = Make(configure);
        }

        public NetconsoleLoggerOptions CurrentValue { get; private set; }

        public NetconsoleLoggerOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<NetconsoleLoggerOptions, string?> listener)
        {
            _listeners.Add(listener);
            return null;
        }

        public void Reload(Action<NetconsoleLoggerOptions> configure)
        {
            CurrentValue = Make(configure);
            _listeners.ForEach(l => l(CurrentValue, Options.DefaultName));
        }

        private NetconsoleLoggerOptions Make(Action<NetconsoleLoggerOptions> configure)
        {
            var options = new NetconsoleLoggerOptions { ManagerOptions = _template.ManagerOptions };
            foreach (string target in _template.Targets)
            {
                options.Targets.Add(target);
            }

            configure(options);
            return options;
        }
    }
}

internal static class LoggerOptionsExtensions
{
    public static NetconsoleLoggerOptions With(this NetconsoleLoggerOptions options, Action<NetconsoleLoggerOptions> configure)
    {
        configure(options);
        return options;
    }
}
