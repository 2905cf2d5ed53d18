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

    /// <summary>Datagrams received from the socket (all sockets together).</summary>
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

    /// <summary>The reassembler's counters of all senders together (of every socket's reassembler, with several <see cref="NetconsoleReceiverOptions.ReceiveSockets"/>): malformed, lost, duplicate, incomplete records and more.</summary>
    public ReassemblerStatistics Reassembler { get; }

    /// <summary>
    /// The reassemblers of several receive sockets as one: every counter and every "now" summed
    /// (counters stop at <see cref="long.MaxValue"/>). A sender is tracked by one socket only, so
    /// nothing is counted twice.
    /// </summary>
    internal static ReassemblerStatistics Sum(IReadOnlyList<ReassemblerStatistics> parts)
    {
        var total = new Counters();
        int senders = 0;
        long evicted = 0;
        int inFlight = 0;
        int groups = 0;
        long buffered = 0;
        foreach (ReassemblerStatistics part in parts)
        {
            var counters = new Counters
            {
                Datagrams = part.DatagramsReceived,
                Records = part.RecordsReceived,
                Fragments = part.FragmentsReceived,
                Malformed = part.DatagramsMalformed,
                Duplicates = part.DuplicatesIgnored,
                LostRecords = part.RecordsLost,
                OutOfOrderRecords = part.RecordsOutOfOrder,
                IncompleteRecords = part.RecordsIncomplete,
                MissingBytes = part.BytesMissing,
                DroppedRecords = part.RecordsDropped,
                Restarts = part.Restarts,
                OversizedGroups = part.GroupsClosedEarly,
                DictionaryEntriesDropped = part.DictionaryEntriesDropped,
                Resumed = part.SendersResumed,
            };
            counters.AddTo(total);
            senders += part.SendersTracked;
            evicted = Counters.Add(evicted, (ulong)part.SendersEvicted);
            inFlight += part.RecordsInFlight;
            groups += part.GroupsHeld;
            buffered += part.BytesBuffered;
        }

        return new ReassemblerStatistics(total, senders, evicted, inFlight, groups, buffered);
    }

    /// <summary>The counters on one line, for a log or a console.</summary>
    /// <returns>For example <c>received 20 datagrams, 12 records (queued 0 in 0 bytes, dropped unread 0), socket errors 0; reassembler: records 12, ...</c>.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"received {DatagramsReceived} datagrams, {RecordsReceived} records (queued {RecordsQueued} in {BytesQueued} bytes, dropped unread {RecordsDroppedUnread}), socket errors {SocketErrors}; reassembler: {Reassembler}");
}
