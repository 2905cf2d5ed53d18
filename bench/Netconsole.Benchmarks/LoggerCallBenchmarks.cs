using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Netconsole.Devices;
using Netconsole.Logging;
using Netconsole.Targets;

namespace Netconsole.Benchmarks;

/// <summary>
/// Cost on the application's thread of one enabled ILogger call: Netconsole.Logging next to
/// Microsoft.Extensions.Logging.Console (the baseline), same messages, both with a bounded queue
/// in DropWrite mode so neither blocks the caller. Only the calling thread is measured; each
/// provider's own sender thread formats and writes in the background.
/// </summary>
/// <remarks>
/// The netconsole target is bound to a device that does not exist (a manual watcher with no
/// devices), so its sender thread counts the records as dropped instead of injecting them: the
/// benchmark needs no root and no network, and the application thread does the same work either way.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[HideColumns("Error", "StdDev", "Median", "RatioSD")]
public class LoggerCallBenchmarks
{
    private static readonly InvalidOperationException Failure = MakeException();

    private ILoggerFactory _netconsole = null!;
    private ILoggerFactory _console = null!;
    private ILogger _netconsoleLogger = null!;
    private ILogger _consoleLogger = null!;
    private ManualDeviceWatcher _watcher = null!;

    /// <summary>Creates both logger factories.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _watcher = new ManualDeviceWatcher();
        _netconsole = LoggerFactory.Create(b => b.AddNetconsole(o =>
        {
            o.Targets.Add("+@/nodev0,@2001:db8::2/");
            o.QueueFullMode = NetconsoleQueueFullMode.DropWrite;
            o.ManagerOptions = () => new TargetManagerOptions { Watcher = _watcher };
        }));
        _console = LoggerFactory.Create(b => b.AddConsole(o => o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite)
            .AddSimpleConsole(o => o.SingleLine = true));
        _netconsoleLogger = _netconsole.CreateLogger("Shop.Orders");
        _consoleLogger = _console.CreateLogger("Shop.Orders");
    }

    /// <summary>Disposes both factories.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _netconsole.Dispose();
        _console.Dispose();
        _watcher.Dispose();
    }

    /// <summary>Console: a message with two arguments (baseline).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("TwoArguments")]
    public void Console_TwoArguments() => _consoleLogger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");

    /// <summary>Netconsole: a message with two arguments.</summary>
    [Benchmark]
    [BenchmarkCategory("TwoArguments")]
    public void Netconsole_TwoArguments() => _netconsoleLogger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");

    /// <summary>Console: a message with an exception (baseline of its category).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Exception")]
    public void Console_Exception() => _consoleLogger.LogError(Failure, "payment failed for order {OrderId}", 4711);

    /// <summary>Netconsole: a message with an exception.</summary>
    [Benchmark]
    [BenchmarkCategory("Exception")]
    public void Netconsole_Exception() => _netconsoleLogger.LogError(Failure, "payment failed for order {OrderId}", 4711);

    private static InvalidOperationException MakeException()
    {
        try
        {
            throw new InvalidOperationException("the card was declined");
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }
}
