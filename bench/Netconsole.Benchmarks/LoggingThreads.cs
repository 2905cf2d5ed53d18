using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Netconsole.Benchmarks.EndToEnd;

namespace Netconsole.Benchmarks;

/// <summary>
/// Persistent logging threads for the several-threads benchmarks: on each <see cref="Batch"/>
/// every thread logs its share of the batch (the two-argument call of <see cref="LoggerCallBenchmarks"/>)
/// through the logger given, and the batch returns when the last thread is done.
/// </summary>
internal sealed class LoggingThreads : IDisposable
{
    private readonly int _recordsPerBatch;
    private readonly Barrier _barrier;
    private readonly long[] _cpu;
    private readonly long[] _bytes;
    private readonly List<Thread> _workers = [];
    private ILogger? _current; // the logger of this batch; null tells the threads to stop

    public LoggingThreads(int threads, int recordsPerBatch)
    {
        _recordsPerBatch = recordsPerBatch;
        _barrier = new Barrier(threads + 1);
        _cpu = new long[threads];
        _bytes = new long[threads];
        for (int i = 0; i < threads; i++)
        {
            int index = i;
            var worker = new Thread(() => Work(index, recordsPerBatch / threads)) { IsBackground = true, Name = "bench-logger-" + i };
            worker.Start();
            _workers.Add(worker);
        }
    }

    /// <summary>Logs one batch; returns wall-clock and CPU nanoseconds, and bytes the logging threads allocated, per record.</summary>
    public (double Wall, double Cpu, double Bytes) Batch(ILogger logger)
    {
        _current = logger;
        long start = Stopwatch.GetTimestamp();
        _barrier.SignalAndWait(); // go
        _barrier.SignalAndWait(); // every thread has logged its share
        double wall = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        return (wall / _recordsPerBatch, (double)_cpu.Sum() / _recordsPerBatch, (double)_bytes.Sum() / _recordsPerBatch);
    }

    public void Dispose()
    {
        _current = null;
        _barrier.SignalAndWait();
        _workers.ForEach(w => w.Join());
        _barrier.Dispose();
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
