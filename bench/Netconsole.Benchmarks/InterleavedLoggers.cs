using Microsoft.Extensions.Logging;
using Netconsole.Devices;
using Netconsole.Logging;

namespace Netconsole.Benchmarks;

/// <summary>
/// Two providers (lock-free and locked queue, set up as in <see cref="LoggerCallBenchmarks"/>;
/// their loggers used directly, without a LoggerFactory around them) and logging threads that log
/// one batch through either on request (<see cref="QueueComparison.RunInterleaved"/>).
/// </summary>
internal sealed class InterleavedLoggers : IDisposable
{
    public const int RecordsPerBatch = 2000;

    private readonly ManualDeviceWatcher _watcher = new();
    private readonly NetconsoleLoggerProvider _lockFree;
    private readonly NetconsoleLoggerProvider _locked;
    private readonly ILogger _lockFreeLogger;
    private readonly ILogger _lockedLogger;
    private readonly LoggingThreads _threads;

    public InterleavedLoggers(int threads)
    {
        _lockFree = new NetconsoleLoggerProvider(LoggerCallBenchmarks.Configure(new NetconsoleLoggerOptions(), _watcher, LogQueueKind.LockFree));
        _locked = new NetconsoleLoggerProvider(LoggerCallBenchmarks.Configure(new NetconsoleLoggerOptions(), _watcher, LogQueueKind.Locked));
        _lockFreeLogger = _lockFree.CreateLogger("Shop.Orders");
        _lockedLogger = _locked.CreateLogger("Shop.Orders");
        _threads = new LoggingThreads(threads, RecordsPerBatch);
    }

    /// <summary>Logs one batch through one provider; returns wall-clock and CPU nanoseconds, and bytes the logging threads allocated, per record.</summary>
    public (double Wall, double Cpu, double Bytes) Batch(bool lockFree) => _threads.Batch(lockFree ? _lockFreeLogger : _lockedLogger);

    /// <summary>Records the provider dropped because its queue was full.</summary>
    public long Dropped(bool lockFree) => (lockFree ? _lockFree : _locked).GetStatistics().RecordsDroppedQueueFull;

    public void Dispose()
    {
        _threads.Dispose();
        _lockFree.Dispose();
        _locked.Dispose();
        _watcher.Dispose();
    }
}
