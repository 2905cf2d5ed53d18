using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Netconsole.Devices;
using Netconsole.Logging;

namespace Netconsole.Benchmarks;

/// <summary>
/// Several application threads logging through one Netconsole.Logging provider at once: the
/// lock-free queue (baseline) against the plain locked queue. Each invocation, every thread logs
/// its share of <see cref="RecordsPerInvoke"/> records (the call of <see cref="LoggerCallBenchmarks"/>
/// with two arguments); the time is wall-clock until the last thread is done, per record, so it
/// reads as the inverse of the throughput of all threads together. DropWrite mode and a target
/// on a device that does not exist, as in <see cref="LoggerCallBenchmarks"/>: a full queue drops
/// (counted) rather than blocks, and the sender thread discards (counted) rather than injects.
/// </summary>
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
[HideColumns("Error", "StdDev", "Median", "RatioSD")]
public class LoggerThreadsBenchmarks
{
    private const int RecordsPerInvoke = 40_000;

    private ManualDeviceWatcher _watcher = null!;
    private ILoggerFactory _lockFree = null!;
    private ILoggerFactory _locked = null!;
    private ILogger _lockFreeLogger = null!;
    private ILogger _lockedLogger = null!;
    private LoggingThreads _threads = null!;

    /// <summary>Application threads logging at once (the machine's cores are shared with the sender thread).</summary>
    [Params(1, 2, 4)]
    public int Threads { get; set; }

    /// <summary>Creates both providers and starts the logging threads.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _watcher = new ManualDeviceWatcher();
        _lockFree = LoggerCallBenchmarks.NetconsoleFactory(_watcher, LogQueueKind.LockFree);
        _locked = LoggerCallBenchmarks.NetconsoleFactory(_watcher, LogQueueKind.Locked);
        _lockFreeLogger = _lockFree.CreateLogger("Shop.Orders");
        _lockedLogger = _locked.CreateLogger("Shop.Orders");
        _threads = new LoggingThreads(Threads, RecordsPerInvoke);
    }

    /// <summary>Stops the logging threads and disposes the providers.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _threads.Dispose();
        _lockFree.Dispose();
        _locked.Dispose();
        _watcher.Dispose();
    }

    /// <summary>The lock-free queue (LogQueue).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsPerInvoke)]
    public void LockFreeQueue() => _threads.Batch(_lockFreeLogger);

    /// <summary>The locked queue (LockedLogQueue).</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerInvoke)]
    public void LockedQueue() => _threads.Batch(_lockedLogger);
}
