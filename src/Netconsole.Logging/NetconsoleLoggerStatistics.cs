namespace Netconsole.Logging;

/// <summary>
/// A snapshot of what a <see cref="NetconsoleLoggerProvider"/> did with the records it was given.
/// Per-target counts (sent, dropped by reason, transmit errors) are on
/// <see cref="NetconsoleLoggerProvider.Manager"/>'s targets.
/// </summary>
public sealed class NetconsoleLoggerStatistics
{
    internal NetconsoleLoggerStatistics(long enqueued, long sent, long droppedQueueFull, long droppedDisposed, long failures, int queueLength)
    {
        Enqueued = enqueued;
        Sent = sent;
        DroppedQueueFull = droppedQueueFull;
        DroppedDisposed = droppedDisposed;
        Failures = failures;
        QueueLength = queueLength;
    }

    /// <summary>Records accepted into the queue.</summary>
    public long Enqueued { get; }

    /// <summary>
    /// Records handed to the targets (from the queue and through <see cref="NetconsoleLoggerProvider.SendNow"/>),
    /// not counting drop notices.
    /// </summary>
    public long Sent { get; }

    /// <summary>Records dropped because the queue was full (<see cref="NetconsoleQueueFullMode.DropWrite"/>).</summary>
    public long DroppedQueueFull { get; }

    /// <summary>Records logged after disposal began, or still queued when the disposal time limit ran out.</summary>
    public long DroppedDisposed { get; }

    /// <summary>Exceptions caught on the logging path (a throwing formatter or scope, a failing send), never rethrown.</summary>
    public long Failures { get; }

    /// <summary>Records waiting in the queue.</summary>
    public int QueueLength { get; }

    /// <summary>All records dropped by the provider (queue full and disposal), not counting per-target drops.</summary>
    public long Dropped => DroppedQueueFull + DroppedDisposed;
}
