using System.Diagnostics;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// Brackets one measured run on the calling (application) thread: wall-clock marks, the
/// calling thread's allocations, the whole process's allocations and per-thread CPU time.
/// Everything that allocates (reading /proc) happens outside the allocation window.
/// </summary>
internal sealed class Measurement
{
    private readonly int _appThread;
    private readonly int _libraryThread;
    private readonly int _receiverThread;
    private readonly ThreadClock.CpuTime _appCpu;
    private readonly ThreadClock.CpuTime _libraryCpu;
    private readonly ThreadClock.CpuTime _receiverCpu;
    private readonly ThreadClock.CpuTime _processCpu;
    private readonly long _threadBytes;
    private readonly long _totalBytes;

    private Measurement(int appThread, int libraryThread, int receiverThread)
    {
        _appThread = appThread;
        _libraryThread = libraryThread;
        _receiverThread = receiverThread;
        _appCpu = ThreadClock.Read(appThread);
        _libraryCpu = ThreadClock.Read(libraryThread);
        _receiverCpu = ThreadClock.Read(receiverThread);
        _processCpu = ThreadClock.ReadProcess();
        _totalBytes = GC.GetTotalAllocatedBytes(precise: true);
        _threadBytes = GC.GetAllocatedBytesForCurrentThread();
        Start = Stopwatch.GetTimestamp();
    }

    public long Start { get; }

    public long LoopEnd { get; private set; }

    public long Drained { get; private set; }

    /// <summary>Bytes the calling thread allocated between the start and the end of its loop.</summary>
    public long ThreadBytes { get; private set; }

    /// <summary>Bytes the whole process allocated between the start and the drain.</summary>
    public long TotalBytes { get; private set; }

    public ThreadClock.CpuTime AppCpu { get; private set; }

    public ThreadClock.CpuTime LibraryCpu { get; private set; }

    public ThreadClock.CpuTime ReceiverCpu { get; private set; }

    public ThreadClock.CpuTime ProcessCpu { get; private set; }

    /// <summary>Starts a run; call it on the application thread right before the first record.</summary>
    /// <param name="libraryThread">The library's own sender thread (0: none, or not identifiable).</param>
    public static Measurement Begin(int appThread, int libraryThread, int receiverThread)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return new Measurement(appThread, libraryThread, receiverThread);
    }

    /// <summary>The application's loop is done (for a send loop, that is also the drain).</summary>
    public void EndLoop()
    {
        LoopEnd = Stopwatch.GetTimestamp();
        ThreadBytes = GC.GetAllocatedBytesForCurrentThread() - _threadBytes;
    }

    /// <summary>Everything was handed to the kernel (the provider's Flush returned).</summary>
    public void EndDrain()
    {
        Drained = Stopwatch.GetTimestamp();
        TotalBytes = GC.GetTotalAllocatedBytes(precise: true) - _totalBytes;
    }

    /// <summary>Reads CPU times once the receiver is done too.</summary>
    public void Finish()
    {
        if (Drained == 0)
        {
            EndDrain();
        }

        AppCpu = ThreadClock.Read(_appThread) - _appCpu;
        LibraryCpu = ThreadClock.Read(_libraryThread) - _libraryCpu;
        ReceiverCpu = ThreadClock.Read(_receiverThread) - _receiverCpu;
        ProcessCpu = ThreadClock.ReadProcess() - _processCpu;
    }
}

/// <summary>One path's result in one round.</summary>
internal sealed record PathResult
{
    public required string Path { get; init; }

    public required int Round { get; init; }

    /// <summary>Records logged or frames/payloads sent by the application thread.</summary>
    public required long Records { get; init; }

    /// <summary>Datagrams the sender side handed to the kernel.</summary>
    public required long Datagrams { get; init; }

    /// <summary>Records dropped and counted on the sender side (queue full, transmit errors, ENOBUFS).</summary>
    public required long SenderDrops { get; init; }

    /// <summary>Seconds from the first record until the sender side drained (loop end for send loops, Flush for loggers).</summary>
    public required double DrainSeconds { get; init; }

    /// <summary>Seconds from the first record until the receiver saw its last datagram.</summary>
    public required double ReceivedSeconds { get; init; }

    /// <summary>Seconds of the application thread's loop alone.</summary>
    public required double LoopSeconds { get; init; }

    public required long Received { get; init; }

    public required long Duplicates { get; init; }

    public required long Malformed { get; init; }

    public required double PayloadBytes { get; init; }

    public required Measurement Measured { get; init; }

    /// <summary>Transmit ring rows: frames the kernel marked TP_STATUS_WRONG_FORMAT (counted in <see cref="SenderDrops"/> too).</summary>
    public long WrongFormat { get; init; }

    /// <summary>Records sent (not dropped on the sender side) that never arrived.</summary>
    public long LostAtReceiver => Records - SenderDrops - Received;

    public double RecordsPerSecond => Records / DrainSeconds;

    public double DatagramsPerSecond => Datagrams / DrainSeconds;

    public double ReceivedPerSecond => Received / ReceivedSeconds;

    public double ThreadBytesPerRecord => (double)Measured.ThreadBytes / Records;

    public double ProcessBytesPerRecord => (double)Measured.TotalBytes / Records;

    /// <summary>Process bytes not allocated by the application thread: the library's sender thread and the runtime.</summary>
    public double BackgroundBytesPerRecord => (double)(Measured.TotalBytes - Measured.ThreadBytes) / Records;
}
