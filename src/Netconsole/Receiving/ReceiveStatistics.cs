using System.Globalization;
using System.Net;

namespace Netconsole.Receiving;

/// <summary>Counters of a <see cref="RecordReassembler"/>, for one sender or all: a snapshot, not live.</summary>
public abstract class ReceiveStatistics
{
    private protected ReceiveStatistics(Counters counters)
    {
        DatagramsReceived = counters.Datagrams;
        RecordsReceived = counters.Records;
        FragmentsReceived = counters.Fragments;
        DatagramsMalformed = counters.Malformed;
        DuplicatesIgnored = counters.Duplicates;
        RecordsLost = counters.LostRecords;
        RecordsOutOfOrder = counters.OutOfOrderRecords;
        RecordsIncomplete = counters.IncompleteRecords;
        BytesMissing = counters.MissingBytes;
        RecordsDropped = counters.DroppedRecords;
        Restarts = counters.Restarts;
        GroupsClosedEarly = counters.OversizedGroups;
        DictionaryEntriesDropped = counters.DictionaryEntriesDropped;
        SendersResumed = counters.Resumed;
        RecordsVerified = counters.Verified;
        SignaturesInvalid = counters.SignaturesInvalid;
        SignaturesWithUnknownKey = counters.UnknownKeys;
        ReplaysRejected = counters.Replays;
        RecordsRejectedUnverified = counters.RejectedUnverified;
    }

    /// <summary>Records delivered whose signature verified (<see cref="RecordSignature.Verified"/>).</summary>
    public long RecordsVerified { get; }

    /// <summary>Signed records (or group parts) whose signature did not match (<see cref="RecordSignature.Invalid"/>).</summary>
    public long SignaturesInvalid { get; }

    /// <summary>Signed records (or group parts) whose key id the keyring does not hold (<see cref="RecordSignature.UnknownKey"/>).</summary>
    public long SignaturesWithUnknownKey { get; }

    /// <summary>Verified records not delivered because they replay one already taken (same key, run and sequence number, or 64 or more below the run's highest), from whatever source address.</summary>
    public long ReplaysRejected { get; }

    /// <summary>Records not delivered because <see cref="RecordReassemblerOptions.RequireVerifiedRecords"/> is on and they were not verified.</summary>
    public long RecordsRejectedUnverified { get; }

    /// <summary>Datagrams added.</summary>
    public long DatagramsReceived { get; }

    /// <summary>Records delivered (a continued group counts once; basic-format text included).</summary>
    public long RecordsReceived { get; }

    /// <summary>Datagrams that were <c>ncfrag</c> fragments.</summary>
    public long FragmentsReceived { get; }

    /// <summary>Malformed datagrams: a broken extended header, or a fragment that contradicts what was received for its record.</summary>
    public long DatagramsMalformed { get; }

    /// <summary>Duplicate datagrams and records, ignored.</summary>
    public long DuplicatesIgnored { get; }

    /// <summary>
    /// Sequence numbers skipped and not (yet) seen: 1, 2, 5 makes 2. A late arrival within the
    /// reordering window takes its number back off. A record given up as incomplete counts here
    /// too once a later sequence number has arrived.
    /// </summary>
    public long RecordsLost { get; }

    /// <summary>Records that arrived after a higher sequence number (within the reordering window) and were delivered.</summary>
    public long RecordsOutOfOrder { get; }

    /// <summary>Records given up because fragments were still missing at the timeout (or at <see cref="RecordReassembler.Flush"/>).</summary>
    public long RecordsIncomplete { get; }

    /// <summary>The data bytes the <see cref="RecordsIncomplete"/> were missing.</summary>
    public long BytesMissing { get; }

    /// <summary>Incomplete records dropped by a limit (in-flight records per sender, sender eviction).</summary>
    public long RecordsDropped { get; }

    /// <summary>
    /// Times a sender's sequence numbers started over, resetting the gap tracking: a number gone
    /// back (a restarted sender), or gone further ahead than the sender could have used in the
    /// time its timestamps say passed (a restarted sender that numbers from its clock, as this
    /// library's provider does, or a hostile one). Its gap is not counted in <see cref="RecordsLost"/>:
    /// what was lost across a restart cannot be known.
    /// </summary>
    public long Restarts { get; }

    /// <summary>Continued groups closed early because the next part would exceed <see cref="RecordReassemblerOptions.MaxGroupBytes"/>.</summary>
    public long GroupsClosedEarly { get; }

    /// <summary>
    /// Times a sender was heard again after its state was evicted and its sequence position had
    /// been kept, so the numbers it skipped meanwhile were counted in <see cref="RecordsLost"/>.
    /// Positions are kept for the last 4 x <see cref="RecordReassemblerOptions.MaxSenders"/>
    /// senders evicted; one heard again after that starts afresh, and what it lost meanwhile is
    /// not known (see <see cref="ReassemblerStatistics.SendersEvicted"/>).
    /// </summary>
    public long SendersResumed { get; }

    /// <summary>Dictionary entries left out of records beyond <see cref="RecordReassemblerOptions.MaxDictionaryEntries"/> (the records were delivered).</summary>
    public long DictionaryEntriesDropped { get; }

    /// <summary>The counters on one line, for a log or a console.</summary>
    /// <returns>For example <c>records 12, datagrams 20 (fragments 10, malformed 0, duplicates 0), lost 1, out of order 0, incomplete 0 (0 bytes missing), dropped 0, restarts 0, groups closed early 0, dictionary entries dropped 0, senders resumed 0, verified 0, signatures invalid 0, unknown keys 0, replays rejected 0, unverified rejected 0</c>.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"records {RecordsReceived}, datagrams {DatagramsReceived} (fragments {FragmentsReceived}, malformed {DatagramsMalformed}, duplicates {DuplicatesIgnored}), lost {RecordsLost}, out of order {RecordsOutOfOrder}, incomplete {RecordsIncomplete} ({BytesMissing} bytes missing), dropped {RecordsDropped}, restarts {Restarts}, groups closed early {GroupsClosedEarly}, dictionary entries dropped {DictionaryEntriesDropped}, senders resumed {SendersResumed}, verified {RecordsVerified}, signatures invalid {SignaturesInvalid}, unknown keys {SignaturesWithUnknownKey}, replays rejected {ReplaysRejected}, unverified rejected {RecordsRejectedUnverified}");
}

/// <summary>One sender's counters and current state.</summary>
public sealed class SenderStatistics : ReceiveStatistics
{
    internal SenderStatistics(IPEndPoint sender, Counters counters, int inFlightRecords, int heldGroupParts)
        : base(counters)
    {
        Sender = sender;
        RecordsInFlight = inFlightRecords;
        GroupPartsHeld = heldGroupParts;
    }

    /// <summary>The sender.</summary>
    public IPEndPoint Sender { get; }

    /// <summary>Records waiting for fragments now.</summary>
    public int RecordsInFlight { get; }

    /// <summary>Parts of the continued group held now (0 when none is open).</summary>
    public int GroupPartsHeld { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Sender}: {base.ToString()}; now {RecordsInFlight} records in flight, {GroupPartsHeld} group parts held");
}

/// <summary>The counters of all senders together (including evicted ones) and the reassembler's current state.</summary>
public sealed class ReassemblerStatistics : ReceiveStatistics
{
    internal ReassemblerStatistics(Counters counters, int senders, long evictedSenders, int inFlightRecords, int heldGroups, long bufferedBytes)
        : base(counters)
    {
        SendersTracked = senders;
        SendersEvicted = evictedSenders;
        RecordsInFlight = inFlightRecords;
        GroupsHeld = heldGroups;
        BytesBuffered = bufferedBytes;
    }

    /// <summary>Senders tracked now.</summary>
    public int SendersTracked { get; }

    /// <summary>Senders evicted so far (by <see cref="RecordReassemblerOptions.MaxSenders"/> or <see cref="RecordReassemblerOptions.MaxBufferedBytes"/>).</summary>
    public long SendersEvicted { get; }

    /// <summary>Records waiting for fragments now, all senders together.</summary>
    public int RecordsInFlight { get; }

    /// <summary>Continued groups held now.</summary>
    public int GroupsHeld { get; }

    /// <summary>Bytes held now for fragments and continued groups.</summary>
    public long BytesBuffered { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{base.ToString()}; now {SendersTracked} senders ({SendersEvicted} evicted so far), {RecordsInFlight} records in flight, {GroupsHeld} groups held, {BytesBuffered} bytes buffered");
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
    public long DictionaryEntriesDropped;
    public long Resumed;
    public long Verified;
    public long SignaturesInvalid;
    public long UnknownKeys;
    public long Replays;
    public long RejectedUnverified;

    /// <summary><paramref name="count"/> + <paramref name="more"/>, stopping at <see cref="long.MaxValue"/>: a counter never wraps negative, whatever a sender does.</summary>
    public static long Add(long count, ulong more) =>
        more >= (ulong)(long.MaxValue - Math.Max(count, 0)) ? long.MaxValue : count + (long)more;

    public void AddTo(Counters total)
    {
        total.Datagrams = Add(total.Datagrams, (ulong)Datagrams);
        total.Records = Add(total.Records, (ulong)Records);
        total.Fragments = Add(total.Fragments, (ulong)Fragments);
        total.Malformed = Add(total.Malformed, (ulong)Malformed);
        total.Duplicates = Add(total.Duplicates, (ulong)Duplicates);
        total.LostRecords = Add(total.LostRecords, (ulong)Math.Max(LostRecords, 0));
        total.OutOfOrderRecords = Add(total.OutOfOrderRecords, (ulong)OutOfOrderRecords);
        total.IncompleteRecords = Add(total.IncompleteRecords, (ulong)IncompleteRecords);
        total.MissingBytes = Add(total.MissingBytes, (ulong)MissingBytes);
        total.DroppedRecords = Add(total.DroppedRecords, (ulong)DroppedRecords);
        total.Restarts = Add(total.Restarts, (ulong)Restarts);
        total.OversizedGroups = Add(total.OversizedGroups, (ulong)OversizedGroups);
        total.DictionaryEntriesDropped = Add(total.DictionaryEntriesDropped, (ulong)DictionaryEntriesDropped);
        total.Resumed = Add(total.Resumed, (ulong)Resumed);
        total.Verified = Add(total.Verified, (ulong)Verified);
        total.SignaturesInvalid = Add(total.SignaturesInvalid, (ulong)SignaturesInvalid);
        total.UnknownKeys = Add(total.UnknownKeys, (ulong)UnknownKeys);
        total.Replays = Add(total.Replays, (ulong)Replays);
        total.RejectedUnverified = Add(total.RejectedUnverified, (ulong)RejectedUnverified);
    }
}
