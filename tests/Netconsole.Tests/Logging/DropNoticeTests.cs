using System.Globalization;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Tests.Targets;

namespace Netconsole.Tests.Logging;

/// <summary>
/// Drop notices are coalesced: at most one per 100 ms of the provider's drop-notice clock (a
/// manual clock here) while the queue stays busy, the first at once; the drops pending go out
/// without waiting when the queue empties, when Flush waits, while disposal drains and before a
/// crash record. Each notice carries the drops since the previous one and the running total.
/// </summary>
/// <remarks>
/// The tests run the sender in lock step: the transport holds every send at its gate, and the
/// test logs while a frame is in flight (the queue holds one record, so what does not fit is
/// dropped), then lets exactly that frame go. What the sender meets next is then fixed.
/// </remarks>
public sealed class DropNoticeTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness = new();
    private readonly ManualClock _clock = new(frequency: 1000);

    public void Dispose()
    {
        _harness.Dispose();
        GC.SuppressFinalize(this);
    }

    private static bool IsNotice(string text) => text.StartsWith("netconsole: ", StringComparison.Ordinal);

    // The queue holds one record, so while the sender has one in flight the next fits and the rest
    // are dropped. One entry per run: the sender takes the next entry only once the frames before
    // it went out (runs of several entries: SenderRunTests).
    private NetconsoleLoggerProvider Provider() => new(_harness.Options().With(o =>
    {
        o.MaxQueueLength = 1;
        o.DropNoticeClock = _clock;
        o.SenderRunLength = 1;
    }));

    /// <summary>Lets the frame in flight go and returns once the sender is blocked on the next one.</summary>
    private void SendOne()
    {
        _harness.Factory.Step();
        _harness.Factory.SendBlocked.Wait(Timeout).Should().BeTrue("the sender goes on to its next frame");
    }

    /// <summary>Logs <paramref name="text"/> (it fits: the sender has taken what was queued), then <paramref name="drops"/> records that do not.</summary>
    private static void LogThenDrop(ILogger logger, string text, int drops)
    {
        logger.LogInformation("{Text}", text);
        for (int i = 0; i < drops; i++)
        {
            logger.LogInformation("dropped");
        }
    }

    /// <summary>
    /// The common start: the first notice (3 drops) has gone out before r2, then r3 was taken
    /// with 4 more drops before it and is in flight, the clock frozen: those 4 are pending, and
    /// 5 more were dropped after r3 (no record carries them yet).
    /// </summary>
    private void RunUpToR3WithDropsPending(NetconsoleLoggerProvider provider, ILogger logger)
    {
        _harness.BlockSenderOn(logger);
        LogThenDrop(logger, "r1", 3); // r1 carries none; 3 dropped after it
        SendOne(); // r0 out; r1 in flight
        LogThenDrop(logger, "r2", 4); // r2 carries the 3
        SendOne(); // r1 out; r2 taken with its 3: the first notice goes out at once
        SendOne(); // the notice out; r2 in flight
        LogThenDrop(logger, "r3", 5); // r3 carries the 4
        SendOne(); // r2 out; r3 taken with its 4: the clock has not moved, so they wait; r3 in flight
        provider.GetStatistics().RecordsDroppedQueueFull.Should().Be(12);
    }

    [Fact]
    public void With_the_clock_frozen_the_first_notice_goes_out_at_once_and_the_drops_after_it_when_the_queue_empties()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        RunUpToR3WithDropsPending(provider, logger);
        LogThenDrop(logger, "r4", 6); // r4 carries the 5
        SendOne(); // r3 out; r4 taken with its 5: still no notice; r4 in flight

        _harness.Factory.Release(); // r4 out, then the queue is empty: its 6 join the 9 pending
        LoggingHarness.WaitUntil(() => _harness.Factory.Frames.Count == 7).Should().BeTrue("the notice of the last drops follows r4 without Flush");

        List<ReceivedRecord> records = _harness.Records();
        records.Select(r => r.TextString).Should().Equal("r0", "r1", LoggingHarness.Notice(3, 3), "r2", "r3", "r4", LoggingHarness.Notice(15, 18));
        records.Where(r => IsNotice(r.TextString)).Should().AllSatisfy(r =>
        {
            r.Level.Should().Be(4, "a notice is a warning");
            r.FindValue("CATEGORY").Should().Be(LogRecordWriter.ProviderCategory);
        });
        provider.Flush(Timeout).Should().BeTrue();
        _harness.Factory.Frames.Should().HaveCount(7, "every drop was announced already");
        provider.GetStatistics().RecordsDroppedQueueFull.Should().Be(18);
    }

    [Fact]
    public void The_drops_a_record_carried_go_out_once_the_queue_empties_even_with_none_after_it()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        LogThenDrop(logger, "r1", 3);
        SendOne(); // r0 out; r1 in flight
        LogThenDrop(logger, "r2", 4); // r2 carries 3
        SendOne(); // r1 out; the first notice (3) in flight
        SendOne(); // r2 in flight
        LogThenDrop(logger, "r3", 0); // r3 carries 4; nothing dropped after it
        SendOne(); // r2 out; r3 taken with its 4: the clock has not moved, so they wait; r3 in flight

        _harness.Factory.Release(); // r3 out, then the queue is empty: the sender does not go idle with drops pending
        LoggingHarness.WaitUntil(() => _harness.Factory.Frames.Count == 6).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", LoggingHarness.Notice(3, 3), "r2", "r3", LoggingHarness.Notice(4, 7));
    }

    [Fact]
    public void The_next_notice_goes_out_before_the_first_record_taken_once_100_ms_have_passed_since_the_last()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        LogThenDrop(logger, "r1", 2);
        SendOne(); // r0 out; r1 in flight
        LogThenDrop(logger, "r2", 3); // r2 carries 2
        SendOne(); // r1 out; the first notice (2) in flight
        SendOne(); // r2 in flight

        _clock.Advance(TimeSpan.FromMilliseconds(99));
        LogThenDrop(logger, "r3", 4); // r3 carries 3
        SendOne(); // r2 out; r3 taken 99 ms after the notice: its 3 wait; r3 in flight
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        LogThenDrop(logger, "r4", 5); // r4 carries 4
        SendOne(); // r3 out; r4 taken 100 ms after the notice: 3 + 4 go out before it
        SendOne(); // r4 in flight
        LogThenDrop(logger, "r5", 1); // r5 carries 5: taken at the same time, it waits for the queue to empty

        _harness.Factory.Release();
        LoggingHarness.WaitUntil(() => _harness.Factory.Frames.Count == 9).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", LoggingHarness.Notice(2, 2), "r2", "r3", LoggingHarness.Notice(7, 9), "r4", "r5", LoggingHarness.Notice(6, 15));
        provider.GetStatistics().RecordsDroppedQueueFull.Should().Be(15);
    }

    [Fact]
    public void While_Flush_waits_the_drops_pending_go_out_before_the_next_record()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        RunUpToR3WithDropsPending(provider, logger);
        LogThenDrop(logger, "r4", 6); // r4 carries the 5

        bool flushed = false;
        var flush = new Thread(() => flushed = provider.Flush(Timeout));
        flush.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.FlushWaiters == 1).Should().BeTrue("Flush waits for r3, r4 and the drops");
        SendOne(); // r3 out; r4 taken with its 5: Flush waits, so 4 + 5 go out before r4
        _harness.Factory.Release();

        flush.Join(Timeout).Should().BeTrue();
        flushed.Should().BeTrue();
        _harness.Texts().Should().Equal("r0", "r1", LoggingHarness.Notice(3, 3), "r2", "r3", LoggingHarness.Notice(9, 12), "r4", LoggingHarness.Notice(6, 18));
    }

    [Fact]
    public void Flush_returns_only_once_the_drops_counted_before_it_are_announced()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        RunUpToR3WithDropsPending(provider, logger);

        bool flushed = false;
        var flush = new Thread(() => flushed = provider.Flush(Timeout));
        flush.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.FlushWaiters == 1).Should().BeTrue();
        SendOne(); // r3 out (the last record Flush waits for); the notice of 4 + 5 in flight
        flush.Join(TimeSpan.FromMilliseconds(50)).Should().BeFalse("the notice of drops counted before Flush is still held");
        _harness.Factory.Step();

        flush.Join(Timeout).Should().BeTrue();
        flushed.Should().BeTrue();
        _harness.Texts().Should().Equal("r0", "r1", LoggingHarness.Notice(3, 3), "r2", "r3", LoggingHarness.Notice(9, 12));
    }

    [Fact]
    public void A_crash_record_is_preceded_by_the_notice_of_the_drops_pending()
    {
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        RunUpToR3WithDropsPending(provider, logger);
        LogThenDrop(logger, "r4", 6);

        var crash = new Thread(() => provider.ReportCrash(0, "Unhandled exception", null));
        crash.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.FlushWaiters == 1).Should().BeTrue("the crash report drains the queue first");
        _harness.Factory.Release();
        crash.Join(Timeout).Should().BeTrue();

        List<ReceivedRecord> records = _harness.Records();
        records.Select(r => r.TextString).Should().Equal("r0", "r1", LoggingHarness.Notice(3, 3), "r2", "r3", LoggingHarness.Notice(9, 12), "r4", LoggingHarness.Notice(6, 18), "Unhandled exception");
        records[^1].Level.Should().Be(0);
    }

    [Fact]
    public void While_disposal_drains_the_queue_the_drops_pending_go_out_before_the_next_record()
    {
        NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        RunUpToR3WithDropsPending(provider, logger);
        LogThenDrop(logger, "r4", 6);

        var dispose = new Thread(provider.Dispose);
        dispose.Start();
        LoggingHarness.WaitUntil(() => provider.Processor.IsCompleting).Should().BeTrue("disposal drains the queue");
        _harness.Factory.Release();
        dispose.Join(Timeout).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", LoggingHarness.Notice(3, 3), "r2", "r3", LoggingHarness.Notice(9, 12), "r4", LoggingHarness.Notice(6, 18));
        provider.GetStatistics().RecordsDroppedDisposed.Should().Be(0);
    }

    [Fact]
    public void Under_overload_notices_go_out_at_most_once_per_100_ms_and_add_up_to_every_drop()
    {
        // A slow transport: each frame takes 1 ms of the clock, and the application logs 100
        // records meanwhile; one fits, 99 (all 100 while a notice is in flight) are dropped.
        const int Frames = 1200;
        const int PerFrame = 100;
        using NetconsoleLoggerProvider provider = Provider();
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int frame = 0; frame < Frames; frame++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            for (int i = 0; i < PerFrame; i++)
            {
                logger.LogInformation("f{Frame} n{Number}", frame, i);
            }

            SendOne();
        }

        long dropped = provider.GetStatistics().RecordsDroppedQueueFull;
        _harness.Factory.Release(); // the rest goes out; the last drops when the queue is empty
        LoggingHarness.WaitUntil(() => _harness.Texts() is [.., string last] && IsNotice(last) && Parse(last).Total == dropped)
            .Should().BeTrue("the last notice brings the total to every drop");
        provider.Flush(Timeout).Should().BeTrue();

        NetconsoleLoggerStatistics statistics = provider.GetStatistics();
        (statistics.RecordsDroppedQueueFull, statistics.RecordsDelivered).Should().Be((dropped, statistics.RecordsEnqueued));
        dropped.Should().BeGreaterThan(100_000);
        List<(long Dropped, long Total)> notices = _harness.Texts().Where(IsNotice).Select(Parse).ToList();
        notices.Sum(n => n.Dropped).Should().Be(dropped, "every drop is announced exactly once");
        notices.Select(n => n.Total).Should().Equal(RunningSums(notices.Select(n => n.Dropped)), "each notice carries the running total");
        notices.Should().AllSatisfy(n => n.Dropped.Should().BePositive());

        // The clock moved Frames ms. Drops kept coming, so a notice went out each time 100 ms had
        // passed since the last: the first at once, one per 100 ms after it, and the one forced
        // when the queue emptied at the end (a notice per record carrying drops: one per frame).
        int intervals = Frames / 100;
        notices.Count.Should().BeInRange(intervals, 1 + intervals + 1);
    }

    private static (long Dropped, long Total) Parse(string notice)
    {
        string[] words = notice.Split(' ');
        return (long.Parse(words[1], CultureInfo.InvariantCulture), long.Parse(words[6], CultureInfo.InvariantCulture));
    }

    private static IEnumerable<long> RunningSums(IEnumerable<long> values)
    {
        long sum = 0;
        foreach (long value in values)
        {
            yield return sum += value;
        }
    }
}
