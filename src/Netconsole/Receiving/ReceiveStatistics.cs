using System.Net;

namespace Netconsole.Receiving;

/// <summary>Counters of a <see cref="RecordReassembler"/>, for one sender or all: a snapshot, not live.</summary>
public abstract class ReceiveStatistics
{
    private protected ReceiveStatistics(Counters counters)
    {
        Datagrams = counters.Datagrams;
        Records = counters.Records;
        Fragments = counters.Fragments;
        Malformed = counters.Malformed;
        Duplicates = counters.Duplicates;
        LostRecords = counters.LostRecords;
        OutOfOrderRecords = counters.OutOfOrderRecords;
        IncompleteRecords = counters.IncompleteRecords;
        MissingBytes = counters.MissingBytes;
        DroppedRecords = counters.DroppedRecords;
        Restarts = counters.Restarts;
        OversizedGroups = counters.OversizedGroups;
    }

    /// <summary>Datagrams added.</summary>
    public long Datagrams { get; }

    /// <summary>Records delivered (a continued group counts once; legacy text included).</summary>
    public long Records { get; }

    /// <summary>Datagrams that were <c>ncfrag</c> fragments.</summary>
    public long Fragments { get; }

    /// <summary>Malformed datagrams: a broken extended header, or a fragment that contradicts what was received for its record.</summary>
    public long Malformed { get; }

    /// <summary>Duplicate datagrams and records, ignored.</summary>
    public long Duplicates { get; }

    /// <summary>
    /// Sequence numbers skipped and not (yet) seen: 1, 2, 5 makes 2. A late arrival within the
    /// reordering window takes its number back off. A record given up as incomplete counts here
    /// too once a later sequence number has arrived.
    /// </summary>
    public long LostRecords { get; }

    /// <summary>Records that arrived after a higher sequence number (within the reordering window) and were delivered.</summary>
    public long OutOfOrderRecords { get; }

    /// <summary>Records given up because fragments were still missing at the timeout (or at <see cref="RecordReassembler.Flush"/>).</summary>
    public long IncompleteRecords { get; }

    /// <summary>The data bytes the <see cref="IncompleteRecords"/> were missing.</summary>
    public long MissingBytes { get; }

    /// <summary>Incomplete records dropped by a limit (in-flight records per sender, sender eviction).</summary>
    public long DroppedRecords { get; }

    /// <summary>Times a sender's sequence numbers started over (it restarted), resetting the gap tracking.</summary>
    public long Restarts { get; }

    /// <summary>Continued groups closed early because the next part would exceed <see cref="RecordReassemblerOptions.MaxGroupBytes"/>.</summary>
    public long OversizedGroups { get; }
}

/// <summary>One sender's counters and current state.</summary>
public sealed class SenderStatistics : ReceiveStatistics
{
    internal SenderStatistics(IPEndPoint sender, Counters counters, int inFlightRecords, int heldGroupParts)
        : base(counters)
    {
        Sender = sender;
        InFlightRecords = inFlightRecords;
        HeldGroupParts = heldGroupParts;
    }

    /// <summary>The sender.</summary>
    public IPEndPoint Sender { get; }

    /// <summary>Records waiting for fragments now.</summary>
    public int InFlightRecords { get; }

    /// <summary>Parts of the continued group held now (0 when none is open).</summary>
    public int HeldGroupParts { get; }
}

/// <summary>The counters of all senders together (including evicted ones) and the reassembler's current state.</summary>
public sealed class ReassemblerStatistics : ReceiveStatistics
{
    internal ReassemblerStatistics(Counters counters, int senders, long evictedSenders, int inFlightRecords, int heldGroups, long bufferedBytes)
        : base(counters)
    {
        Senders = senders;
        EvictedSenders = evictedSenders;
        InFlightRecords = inFlightRecords;
        HeldGroups = heldGroups;
        BufferedBytes = bufferedBytes;
    }

    /// <summary>Senders tracked now.</summary>
    public int Senders { get; }

    /// <summary>Senders evicted so far (by <see cref="RecordReassemblerOptions.MaxSenders"/> or <see cref="RecordReassemblerOptions.MaxBufferedBytes"/>).</summary>
    public long EvictedSenders { get; }

    /// <summary>Records waiting for fragments now, all senders together.</summary>
    public int InFlightRecords { get; }

    /// <summary>Continued groups held now.</summary>
    public int HeldGroups { get; }

    /// <summary>Bytes held now for fragments and continued groups.</summary>
    public long BufferedBytes { get; }
}

/// <summary>The mutable counters behind the snapshots.</summary>
internal sealed class Counters
{
    public long Datagrams;
    public long Records;
    public long Fragments;
    public long Malformed;
    public long Duplicates;
    public long LostRecords;
    public long OutOfOrderRecords;
    public long IncompleteRecords;
    public long MissingBytes;
    public long DroppedRecords;
    public long Restarts;
    public long OversizedGroups;

    public void AddTo(Counters total)
    {
        total.Datagrams += Datagrams;
        total.Records += Records;
        total.Fragments += Fragments;
        total.Malformed += Malformed;
        total.Duplicates += Duplicates;
        total.LostRecords += LostRecords;
        total.OutOfOrderRecords += OutOfOrderRecords;
        total.IncompleteRecords += IncompleteRecords;
        total.MissingBytes += MissingBytes;
        total.DroppedRecords += DroppedRecords;
        total.Restarts += Restarts;
        total.OversizedGroups += OversizedGroups;
    }
}
