using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Netconsole.Benchmarks.EndToEnd;
using Netconsole.Devices;
using Netconsole.Logging;

namespace Netconsole.Benchmarks;

/// <summary>Two providers (lock-free and locked queue, as in <see cref="LoggerCallBenchmarks"/>) and persistent logging threads that log one batch on request.</summary>
internal sealed class InterleavedLoggers : IDisposable
{
    public const int RecordsPerBatch = 2000;

    private readonly ManualDeviceWatcher _watcher = new();
    private readonly NetconsoleLoggerProvider _lockFree;
    private readonly NetconsoleLoggerProvider _locked;
    private readonly ILogger _lockFreeLogger;
    private readonly ILogger _lockedLogger;
    private readonly Barrier _barrier;
    private readonly long[] _cpu;
    private readonly long[] _bytes;
    private readonly List<Thread> _workers = [];
    private ILogger? _current;

    public InterleavedLoggers(int threads)
    {
        _lockFree = new NetconsoleLoggerProvider(LoggerCallBenchmarks.Configure(new NetconsoleLoggerOptions(), _watcher, LogQueueKind.LockFree));
        _locked = new NetconsoleLoggerProvider(LoggerCallBenchmarks.Configure(new NetconsoleLoggerOptions(), _watcher, LogQueueKind.Locked));
        _lockFreeLogger = _lockFree.CreateLogger("Shop.Orders");
        _lockedLogger = _locked.CreateLogger("Shop.Orders");
        _barrier = new Barrier(threads + 1);
        _cpu = new long[threads];
        _bytes = new long[threads];
        for (int i = 0; i < threads; i++)
        {
            int index = i;
            var worker = new Thread(() => Work(index, RecordsPerBatch / threads)) { IsBackground = true, Name = "bench-logger-" + i };
            worker.Start();
            _workers.Add(worker);
        }
    }

    /// <summary>Logs one batch through one provider; returns wall-clock and CPU nanoseconds, and bytes the logging threads allocated, per record.</summary>
    public (double Wall, double Cpu, double Bytes) Batch(bool lockFree)
    {
        _current = lockFree ? _lockFreeLogger : _lockedLogger;
        long start = Stopwatch.GetTimestamp();
        _barrier.SignalAndWait();
        _barrier.SignalAndWait();
        double wall = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        return (wall / RecordsPerBatch, (double)_cpu.Sum() / RecordsPerBatch, (double)_bytes.Sum() / RecordsPerBatch);
    }

    /// <summary>Records the provider dropped because its queue was full.</summary>
    public long Dropped(bool lockFree) => (lockFree ? _lockFree : _locked).GetStatistics().RecordsDroppedQueueFull;

    public void Dispose()
    {
        _current = null;
        _barrier.SignalAndWait();
        _workers.ForEach(w => w.Join());
        _barrier.Dispose();
        _lockFree.Dispose();
        _locked.Dispose();
        _watcher.Dispose();
    }

    private void Work(int index, int records)
    {
        while (true)
        {
            _barrier.SignalAndWait();
            ILogger? logger = _current;
            if (logger is null)
            {
                return;
            }

            long bytes = GC.GetAllocatedBytesForCurrentThread();
            long cpu = ThreadClock.CurrentThreadCpuNanoseconds();
            for (int i = records; i > 0; i--)
            {
                logger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");
            }

            _cpu[index] = ThreadClock.CurrentThreadCpuNanoseconds() - cpu;
            _bytes[index] = GC.GetAllocatedBytesForCurrentThread() - bytes;
            _barrier.SignalAndWait();
        }
    }
}
