using System.Globalization;

namespace Netconsole.Logging;

/// <summary>
/// A snapshot of what a <see cref="NetconsoleLoggerProvider"/> did with the records it was given,
/// counted since it was created. Every record logged is counted exactly once: enqueued, or dropped
/// (queue full, or disposal); every record handed to the targets exactly once: delivered (at least
/// one target sent it) or undelivered (none did). Per-target counts (sent, dropped by reason,
/// transmit errors) are on <see cref="NetconsoleLoggerProvider.Manager"/>'s targets.
/// </summary>
/// <remarks>
/// "Delivered" means handed to the network by a target (the frames were injected on its device),
/// or kept in a target's replay buffer while it could not send (it goes out when the target can
/// again, or the target counts it dropped: see <see cref="Netconsole.Targets.TargetStatistics"/>).
/// UDP has no acknowledgement, so whether the receiver got them is only known at the receiver
/// (its sequence numbers show gaps).
/// </remarks>
public sealed class NetconsoleLoggerStatistics
{
    internal NetconsoleLoggerStatistics(long recordsEnqueued, long recordsDelivered, long recordsUndelivered, long recordsDroppedQueueFull, long recordsDroppedDisposed, long errors, int recordsQueued, long dictionaryValuesTruncated)
    {
        DictionaryValuesTruncated = dictionaryValuesTruncated;
        RecordsEnqueued = recordsEnqueued;
        RecordsDelivered = recordsDelivered;
        RecordsUndelivered = recordsUndelivered;
        RecordsDroppedQueueFull = recordsDroppedQueueFull;
        RecordsDroppedDisposed = recordsDroppedDisposed;
        Errors = errors;
        RecordsQueued = recordsQueued;
    }

    /// <summary>Records accepted into the queue for the sender thread.</summary>
    public long RecordsEnqueued { get; }

    /// <summary>
    /// Records handed to the targets (from the queue and through <see cref="NetconsoleLoggerProvider.SendNow"/>,
    /// not counting drop notices) that at least one target sent, or kept in its replay buffer.
    /// </summary>
    public long RecordsDelivered { get; }

    /// <summary>
    /// Records handed to the targets that no target sent nor kept for replay: there was no target,
    /// none was enabled (nor deactivated with a replay buffer), or each dropped the record (the targets' statistics say why). Not 0 means records are being
    /// lost; the provider's diagnostics (category <c>Netconsole.Diagnostics</c>) say what state the
    /// targets are in.
    /// </summary>
    public long RecordsUndelivered { get; }

    /// <summary>Records dropped because the queue held <see cref="NetconsoleLoggerOptions.MaxQueueLength"/> records (<see cref="NetconsoleQueueFullMode.DropWrite"/>); each drop is announced by a notice record.</summary>
    public long RecordsDroppedQueueFull { get; }

    /// <summary>Records logged after disposal began, or still queued when <see cref="NetconsoleLoggerOptions.DisposeTimeout"/> ran out.</summary>
    public long RecordsDroppedDisposed { get; }

    /// <summary>All records dropped by the provider: <see cref="RecordsDroppedQueueFull"/> + <see cref="RecordsDroppedDisposed"/> (per-target drops not included).</summary>
    public long RecordsDropped => RecordsDroppedQueueFull + RecordsDroppedDisposed;

    /// <summary>Exceptions caught on the logging path (a throwing formatter or scope, a failing send, a record sent at once that could not wait for a send in progress), never rethrown.</summary>
    public long Errors { get; }

    /// <summary>Records waiting in the queue for the sender thread when the snapshot was taken.</summary>
    public int RecordsQueued { get; }

    /// <summary>
    /// Dictionary values cut to <see cref="NetconsoleLoggerOptions.MaxDictionaryValueBytes"/> (and
    /// marked <c>[+N bytes]</c>): one per value cut, in records handed to the targets, whatever the
    /// number of targets. The records themselves are sent.
    /// </summary>
    public long DictionaryValuesTruncated { get; }

    /// <summary>A one-line summary, for example <c>enqueued 15, delivered 15, undelivered 0, dropped 3 (queue full 3, disposed 0), queued 0, errors 0, dictionary values truncated 0</c>.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"enqueued {RecordsEnqueued}, delivered {RecordsDelivered}, undelivered {RecordsUndelivered}, dropped {RecordsDropped} (queue full {RecordsDroppedQueueFull}, disposed {RecordsDroppedDisposed}), queued {RecordsQueued}, errors {Errors}, dictionary values truncated {DictionaryValuesTruncated}");
}
