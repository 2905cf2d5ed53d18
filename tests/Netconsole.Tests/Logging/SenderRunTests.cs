using Microsoft.Extensions.Logging;
using Netconsole.Logging;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The sender takes what the queue holds in runs (at most 64 entries, never waiting for more) and
/// hands each run to the targets together, so a burst's frames reach the transport in one
/// <c>SendBatch</c> call while a lone record leaves on its own at once. Drop notices keep their
/// place among the records of a run.
/// </summary>
public sealed class SenderRunTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness = new();

    public void Dispose()
    {
        _harness.Dispose();
        GC.SuppressFinalize(this);
    }


    [Fact]
    public void A_lone_record_leaves_in_a_run_of_its_own_without_waiting_for_more()
    {
        using var provider = new NetconsoleLoggerProvider(_harness.Options());
        ILogger logger = provider.CreateLogger("c");

        logger.LogInformation("alone");

        LoggingHarness.WaitUntil(() => _harness.Factory.Frames.Count == 1).Should().BeTrue("nothing waits for a second record, nor for Flush");
        _harness.Factory.Batches.Should().Equal(1);
        _harness.Texts().Should().Equal("alone");
    }

    [Fact]
    public void Records_queued_while_a_send_is_in_flight_go_to_the_transport_together_in_one_call()
    {
        using var provider = new NetconsoleLoggerProvider(_harness.Options());
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int i = 1; i <= 10; i++)
        {
            logger.LogInformation("r{Number}", i);
        }

        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Factory.Batches.Should().Equal(1, 10);
        _harness.Texts().Should().Equal(Enumerable.Range(0, 11).Select(i => $"r{i}"));
        NetconsoleLoggerStatistics statistics = provider.GetStatistics();
        statistics.RecordsDelivered.Should().Be(11);
        statistics.RecordsUndelivered.Should().Be(0);
    }

    [Fact]
    public void A_backlog_of_150_goes_in_runs_of_at_most_64_in_order()
    {
        using var provider = new NetconsoleLoggerProvider(_harness.Options());
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int i = 1; i <= 150; i++)
        {
            logger.LogInformation("r{Number}", i);
        }

        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Factory.Batches.Should().Equal(1, 64, 64, 22);
        _harness.Texts().Should().Equal(Enumerable.Range(0, 151).Select(i => $"r{i}"));
    }

    [Fact]
    public void The_notice_of_drops_met_when_the_queue_empties_closes_the_run_after_the_records_before_them()
    {
        using var provider = new NetconsoleLoggerProvider(_harness.Options().With(o => o.MaxQueueLength = 4));
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int i = 1; i <= 7; i++)
        {
            logger.LogInformation("r{Number}", i); // r1 to r4 fit; r5 to r7 are dropped
        }

        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", "r2", "r3", "r4", LoggingHarness.Notice(3, 3));
        _harness.Factory.Batches.Should().Equal(1, 5);
        provider.GetStatistics().RecordsDroppedQueueFull.Should().Be(3);
    }

    [Fact]
    public void A_record_sent_at_once_goes_after_a_run_in_progress_never_inside_it()
    {
        using var provider = new NetconsoleLoggerProvider(_harness.Options());
        ILogger logger = provider.CreateLogger("c");
        _harness.BlockSenderOn(logger);
        for (int i = 1; i <= 5; i++)
        {
            logger.LogInformation("r{Number}", i);
        }

        _harness.Factory.Step(); // r0 out; the sender takes r1 to r5 and blocks on r1's frame
        _harness.Factory.SendBlocked.Wait(Timeout).Should().BeTrue();
        var now = new Thread(() => provider.SendNow(LogLevel.Critical, "at once"));
        now.Start();
        _harness.Factory.Release();
        now.Join(Timeout).Should().BeTrue();
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Texts().Should().Equal("r0", "r1", "r2", "r3", "r4", "r5", "at once");
    }
}
