using System.Globalization;

namespace Netconsole.Receiving;

/// <summary>Counters of a <see cref="NetconsoleReceiver"/>: a snapshot, not live.</summary>
public sealed class NetconsoleReceiverStatistics
{
    internal NetconsoleReceiverStatistics(long datagrams, long records, long unreadDropped, long socketErrors, int queued, long queuedBytes, ReassemblerStatistics reassembler)
    {
        BytesQueued = queuedBytes;
        DatagramsReceived = datagrams;
        RecordsReceived = records;
        RecordsDroppedUnread = unreadDropped;
        SocketErrors = socketErrors;
        RecordsQueued = queued;
        Reassembler = reassembler;
    }

    /// <summary>Datagrams received from the socket.</summary>
    public long DatagramsReceived { get; }

    /// <summary>Records reassembled and queued for reading (read, waiting, or dropped unread).</summary>
    public long RecordsReceived { get; }

    /// <summary>Records dropped unread because the queue was full (<see cref="NetconsoleReceiverOptions.Capacity"/>) or over its memory budget (<see cref="NetconsoleReceiverOptions.MaxQueuedBytes"/>): the reader was too slow.</summary>
    public long RecordsDroppedUnread { get; }

    /// <summary>Errors the socket reported while receiving (the loop carried on).</summary>
    public long SocketErrors { get; }

    /// <summary>Records waiting to be read now.</summary>
    public int RecordsQueued { get; }

    /// <summary>The memory those records hold, decoded, as <see cref="NetconsoleReceiverOptions.MaxQueuedBytes"/> counts it.</summary>
    public long BytesQueued { get; }

    /// <summary>The reassembler's counters of all senders together: malformed, lost, duplicate, incomplete records and more.</summary>
    public ReassemblerStatistics Reassembler { get; }

    /// <summary>The counters on one line, for a log or a console.</summary>
    /// <returns>For example <c>received 20 datagrams, 12 records (queued 0 in 0 bytes, dropped unread 0), socket errors 0; reassembler: records 12, ...</c>.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"received {DatagramsReceived} datagrams, {RecordsReceived} records (queued {RecordsQueued} in {BytesQueued} bytes, dropped unread {RecordsDroppedUnread}), socket errors {SocketErrors}; reassembler: {Reassembler}");
}
