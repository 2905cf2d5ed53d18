using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Logging;

/// <summary>
/// Issue 20: after a single 10 MiB log message the provider kept ~86 MiB for good (flush, 6 s
/// idle, full GC): its text buffer, the queue slot's message and the target's formatting buffers
/// had grown to the message and never shrank. Each gives back what an outlier grew.
/// </summary>
[Collection(MeasuresMemoryAlone.Name)]
public sealed class LargeMessageMemoryTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const long Allowed = 4 * 1024 * 1024;
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void One_10_MiB_message_leaves_the_provider_holding_within_4_MiB_of_what_it_held_before()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider(LoggingHarness.Extended);
        ILogger logger = provider.CreateLogger("c");
        for (int i = 0; i < 100; i++)
        {
            logger.LogInformation("small record {Number}", i);
        }

        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();
        _harness.Factory.ForgetFrames();
        long before = Held();

        LogTenMebibytes(logger);
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();
        _harness.Factory.ForgetFrames();

        // The sender gives back its text buffer once idle for a few seconds; the rest at once.
        long after = Held();
        var clock = Stopwatch.StartNew();
        while (after - before >= Allowed && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(250);
            after = Held();
        }

        output.WriteLine($"before {before:N0}, after {after:N0}, after {clock.Elapsed.TotalSeconds:F1} s of waiting");
        (after - before).Should().BeLessThan(Allowed, $"the provider held {before:N0} bytes before the 10 MiB message and {after:N0} after");
        logger.LogInformation("after");
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();
        _harness.Texts().Should().Equal("after");
    }

    // Not inlined: the message is unreachable once this returns. The message is the value itself,
    // as a structured state whose formatter returns it: LogInformation("{Big}", ...) would also
    // have string.Format rent a 32 MB buffer from ArrayPool<char>.Shared, which keeps it for tens
    // of seconds whoever logs (measured: ~34 MB more held until ~30 s).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LogTenMebibytes(ILogger logger)
    {
        string big = new('x', 10 * 1024 * 1024);
        KeyValuePair<string, object?>[] state = [new("Big", big)];
        logger.Log(LogLevel.Information, default, state, null, (_, _) => big);
    }

    private static long Held()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
