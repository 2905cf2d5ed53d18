using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Receiving;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The provider's sequence numbers start from the monotonic clock, so a process that restarts
/// continues above the numbers of its previous run (netconsd discards a number up to 512 behind
/// the newest it saw from the address within 5 seconds as a duplicate).
/// </summary>
public sealed class SequenceTests : IDisposable
{
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    // The harness fixes the base for exact numbers elsewhere; these tests use the provider's own.
    private NetconsoleLoggerProvider ProviderWithClockBase()
    {
        NetconsoleLoggerOptions options = _harness.Options();
        options.SequenceBase = null;
        return new NetconsoleLoggerProvider(options);
    }

    private static void Log(NetconsoleLoggerProvider provider, int count)
    {
        ILogger logger = provider.CreateLogger("Shop.Orders");
        for (int i = 0; i < count; i++)
        {
            logger.LogInformation("order {OrderId} shipped", i);
        }

        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();
    }

    [Fact]
    public void The_first_record_gets_the_monotonic_clock_read_when_the_provider_was_created_plus_one()
    {
        ulong before = NetconsoleRecord.GetTimestampMicroseconds();
        using (NetconsoleLoggerProvider provider = ProviderWithClockBase())
        {
            ulong after = NetconsoleRecord.GetTimestampMicroseconds();
            Log(provider, 2);

            List<ReceivedRecord> records = _harness.Records();
            records.Should().HaveCount(2);
            records[0].Sequence.Should().BeInRange(before + 1, after + 1);
            records[1].Sequence.Should().Be(records[0].Sequence + 1);
        }
    }

    [Fact]
    public void A_provider_created_after_another_starts_above_the_first_ones_last_number()
    {
        using (NetconsoleLoggerProvider first = ProviderWithClockBase())
        {
            Log(first, 100);
        }

        ulong lastOfFirst = _harness.Records().Should().HaveCount(100).And.Subject.Last().Sequence;

        using (NetconsoleLoggerProvider second = ProviderWithClockBase())
        {
            Log(second, 1);
        }

        _harness.Records().Should().HaveCount(101).And.Subject.Last().Sequence.Should().BeGreaterThan(lastOfFirst);
    }

    [Fact]
    public void Records_sent_at_once_and_drop_notices_take_their_numbers_from_the_same_counter()
    {
        ulong before = NetconsoleRecord.GetTimestampMicroseconds();
        NetconsoleLoggerOptions options = _harness.Options();
        options.SequenceBase = null;
        options.MaxQueueLength = 1;
        using var provider = new NetconsoleLoggerProvider(options);
        ulong after = NetconsoleRecord.GetTimestampMicroseconds();
        ILogger logger = provider.CreateLogger("c");

        _harness.Factory.Hold();
        logger.LogInformation("r0");
        _harness.Factory.SendBlocked.Wait(LoggingHarness.Timeout).Should().BeTrue("the sender starts sending r0");
        logger.LogInformation("r1");
        logger.LogInformation("r2"); // dropped: r1 fills the queue
        _harness.Factory.Release();
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();
        provider.SendNow(LogLevel.Critical, "last words");

        List<ReceivedRecord> records = _harness.Records();
        records.Select(r => r.TextString).Should().Equal("r0", "r1", "netconsole: 1 records dropped (queue full), 1 since start", "last words");
        records[0].Sequence.Should().BeInRange(before + 1, after + 1);
        records.Select(r => r.Sequence - records[0].Sequence).Should().Equal(0UL, 1UL, 2UL, 3UL);
    }
}
