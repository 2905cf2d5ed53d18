using System.Diagnostics;
using System.Net;
using System.Numerics;
using Netconsole.Wire;

namespace Netconsole.Receiving;

/// <summary>
/// Turns netconsole datagrams from any number of senders back into records: reassembles
/// <c>ncfrag</c> fragments, joins continued groups, tracks sequence gaps, and counts what was
/// lost, late, duplicated or malformed, within fixed memory limits. Transport-free: the caller
/// feeds (sender, datagram, receive time) and collects the records.
/// </summary>
/// <remarks>
/// <para>
/// Senders are told apart by the <see cref="IPEndPoint"/> the caller passes (address and port).
/// netconsd keys its state by source address only; to do the same, pass the address with port 0.
/// Either way, an application that shares its address with the host's kernel netconsole and
/// sends from the same port mixes two sequence streams: give it its own source port.
/// A dual-stack socket reports IPv4 senders as IPv4-mapped IPv6 addresses; map them back if the
/// same sender may also arrive on an IPv4 socket.
/// </para>
/// <para>
/// Times are the caller's monotonic clock in <see cref="Stopwatch"/> ticks
/// (<see cref="Stopwatch.GetTimestamp"/>), so tests can inject any clock. Nothing happens by
/// itself: call <see cref="Expire"/> every few tens of milliseconds to deliver continued groups
/// and give up on incomplete records once <see cref="RecordReassemblerOptions.Timeout"/> has
/// passed; <see cref="Add"/> also expires its sender's state before handling the datagram.
/// </para>
/// <para>
/// Fragments of one record (same sender and sequence number) are placed by offset, in any
/// order; an exact copy is a duplicate, a fragment whose bytes contradict bytes already
/// received, or whose header differs from the first fragment's, is malformed. The record is
/// complete when every byte of its total has arrived.
/// </para>
/// <para>
/// A <c>c</c> record opens a continued group; <c>+</c> records with the next sequence numbers
/// join it (texts concatenated, dictionaries appended in order, the group keeps the first
/// part's sequence number, timestamp and level). The group is delivered when a record from the
/// same sender arrives that is not its next <c>+</c> (basic-format text included), when the timeout
/// passes after its last part, or on <see cref="Flush"/>. A <c>+</c> record without its group
/// is delivered on its own with <see cref="RecordContinuation.Continuation"/>.
/// </para>
/// <para>
/// Sequence numbers are tracked per sender over a window of the last 64 below the highest
/// seen. A jump counts the numbers skipped as lost (10 then 13: 2 lost); one of them arriving
/// later is delivered, counted out of order and no longer lost. A number already seen with the
/// same timestamp is a duplicate and is not delivered again. A number already seen with another
/// timestamp, or more than 64 below the highest, means the sender started over (a reboot, a
/// restarted process): the record is delivered, a restart counted and the tracking reset, so a
/// restart never shows up as billions of lost records.
/// </para>
/// <para>
/// Records are delivered as they complete, not reordered by sequence number. See
/// <see cref="ReceiveStatistics"/> for what is counted and <see cref="RecordReassemblerOptions"/>
/// for the limits. Not thread-safe: use it from one receive loop.
/// </para>
/// </remarks>
public sealed class RecordReassembler
{
    private readonly long _timeoutTicks;
    private readonly int _maxSenders;
    private readonly int _maxInFlight;
    private readonly int _maxGroupBytes;
    private readonly long _maxBufferedBytes;
    private readonly int _maxDictionaryEntries;
    private readonly Dictionary<string, Wire.RecordSigningKey> _keyring = new(StringComparer.Ordinal);
    private readonly Dictionary<string, System.Security.Cryptography.IncrementalHash> _hmacs = new(StringComparer.Ordinal); // per key of the keyring, made when first used
    private readonly bool _requireVerified;
    private readonly SignedRunWindows _signedRuns;
    private readonly Dictionary<IPEndPoint, SenderState> _senders = new();
    private readonly LinkedList<SenderState> _recent = new(); // most recently heard first
    private readonly LinkedList<SenderState> _probation = new(); // senders not yet established, most recently heard first
    private readonly Dictionary<IPEndPoint, (SequenceTracker.Position Position, long Delivered)> _evictedPositions = new();
    private readonly Queue<IPEndPoint> _evictedOrder = new(); // oldest first: the first forgotten
    private readonly Counters _retired = new();
    private long _evictedSenders;
    private long _bufferedBytes;

    /// <summary>Creates a reassembler with the default limits.</summary>
    public RecordReassembler()
        : this(new RecordReassemblerOptions())
    {
    }

    /// <summary>Creates a reassembler with the limits of <paramref name="options"/>, taken as they are now.</summary>
    /// <param name="options">The limits.</param>
    public RecordReassembler(RecordReassemblerOptions options)
        : this(options, shares: 1, new SignedRunWindows())
    {
    }

    /// <summary>
    /// A reassembler of one of <paramref name="shares"/> receive sockets: <see cref="RecordReassemblerOptions.MaxBufferedBytes"/>
    /// is shared equally, and so is <paramref name="signedRuns"/>, so a copy of a signed record is a replay whichever socket it reaches.
    /// </summary>
    internal RecordReassembler(RecordReassemblerOptions options, int shares, SignedRunWindows signedRuns)
    {
        ArgumentNullException.ThrowIfNull(options);
        _signedRuns = signedRuns;
        double ticks = Math.Ceiling(options.Timeout.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        _timeoutTicks = ticks >= long.MaxValue ? long.MaxValue : (long)ticks;
        _maxSenders = options.MaxSenders;
        _maxInFlight = options.MaxInFlightRecordsPerSender;
        _maxGroupBytes = options.MaxGroupBytes;
        _maxBufferedBytes = Math.Max(RecordFormatter.MaxRecordData, options.MaxBufferedBytes / shares);
        _maxDictionaryEntries = options.MaxDictionaryEntries;
        foreach (Wire.RecordSigningKey key in options.SigningKeys)
        {
            _keyring[key.KeyId] = key; // the last of one id wins
        }

        _requireVerified = options.RequireVerifiedRecords;
    }

    /// <summary>Records a sender delivers before it is established: evicted only when no sender on probation is left.</summary>
    internal const int RecordsToEstablish = 4;

    /// <summary>Evicted senders whose sequence position is kept, per sender tracked, so one heard again resumes its gap counting.</summary>
    internal const int EvictedPositionsPerSender = 4;

    /// <summary>
    /// Handles one datagram: a complete record goes to <paramref name="output"/> (with any
    /// continued group it closes, before it), a fragment or group part is kept. Never throws
    /// for any datagram content.
    /// </summary>
    /// <param name="sender">Who sent it (see the remarks on keys).</param>
    /// <param name="datagram">The UDP payload.</param>
    /// <param name="timestamp">When it was received, in <see cref="Stopwatch"/> ticks.</param>
    /// <param name="output">Receives the records completed by this datagram.</param>
    /// <returns>Whether the datagram was used, a duplicate, or malformed.</returns>
    public ReassemblyResult Add(IPEndPoint sender, ReadOnlySpan<byte> datagram, long timestamp, ICollection<ReceivedRecord> output)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(output);

        SenderState state = Touch(sender, output);
        ExpireSender(state, timestamp, output);
        state.Counters.Datagrams++;

        ParsedDatagram parsed = DatagramParser.Parse(datagram);
        ReassemblyResult result;
        switch (parsed.Kind)
        {
            case DatagramKind.Basic:
                CloseGroup(state, output);
                Deliver(state, new ReceivedRecord(state.Sender, false, null, ReceivedRecord.BasicLevel, 0, 0, RecordContinuation.None, parsed.Data.ToArray(), [], 1, 1, timestamp), output);
                result = ReassemblyResult.Accepted;
                break;

            case DatagramKind.Extended when !parsed.IsFragment:
                if (state.Sequences.IsDuplicate(parsed.Sequence, parsed.TimestampMicroseconds))
                {
                    state.Counters.Duplicates++;
                    return ReassemblyResult.Duplicate;
                }

                SignatureCheck signature = RecordSignatureCheck.Check(parsed.SignedHeader, parsed.Data, _keyring, _hmacs);
                var dictionary = new List<KeyValuePair<string, string>>();
                byte[] text = Decode(state, parsed.Data, dictionary);
                var part = new Part(parsed.GetReleaseString(), parsed.Priority, parsed.Sequence, parsed.TimestampMicroseconds, parsed.Continuation, text, dictionary, 1, timestamp, signature);
                result = Complete(state, part, output);
                break;

            case DatagramKind.Extended:
                state.Counters.Fragments++;
                result = AddFragment(state, parsed, timestamp, output);
                break;

            default:
                state.Counters.Malformed++;
                return ReassemblyResult.Malformed;
        }

        EnforceBufferLimit(state, output);
        return result;
    }

    /// <summary>
    /// Delivers the continued groups whose last part is older than the timeout, and gives up on
    /// the records whose first fragment is (counted incomplete, with their missing bytes).
    /// </summary>
    /// <param name="timestamp">Now, in <see cref="Stopwatch"/> ticks, on the clock given to <see cref="Add"/>.</param>
    /// <param name="output">Receives the groups delivered.</param>
    public void Expire(long timestamp, ICollection<ReceivedRecord> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (SenderState state in _recent)
        {
            ExpireSender(state, timestamp, output);
        }
    }

    /// <summary>
    /// Delivers every held continued group now and gives up on every incomplete record
    /// (counted incomplete), as at the end of a capture. Sequence tracking is kept.
    /// </summary>
    /// <param name="output">Receives the groups delivered.</param>
    public void Flush(ICollection<ReceivedRecord> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (SenderState state in _recent)
        {
            foreach (InFlightRecord record in state.InFlight.Values)
            {
                CountIncomplete(state, record);
            }

            state.InFlight.Clear();
            CloseGroup(state, output);
        }
    }

    /// <summary>The counters of all senders together, including evicted ones, and the current state.</summary>
    /// <returns>A snapshot.</returns>
    public ReassemblerStatistics GetStatistics()
    {
        var total = new Counters();
        _retired.AddTo(total);
        int inFlight = 0;
        int groups = 0;
        foreach (SenderState state in _recent)
        {
            state.Counters.AddTo(total);
            inFlight += state.InFlight.Count;
            groups += state.Group is null ? 0 : 1;
        }

        return new ReassemblerStatistics(total, _senders.Count, _evictedSenders, inFlight, groups, _bufferedBytes);
    }

    /// <summary>One sender's counters and state, or <see langword="null"/> when it is not tracked (never heard, or evicted).</summary>
    /// <param name="sender">The sender, as given to <see cref="Add"/>.</param>
    /// <returns>A snapshot, or <see langword="null"/>.</returns>
    public SenderStatistics? GetSenderStatistics(IPEndPoint sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        return _senders.TryGetValue(sender, out SenderState? state) ? Snapshot(state) : null;
    }

    /// <summary>Every tracked sender's counters and state, most recently heard first.</summary>
    /// <returns>Snapshots.</returns>
    public IReadOnlyList<SenderStatistics> GetAllSenderStatistics() => _recent.Select(Snapshot).ToList();

    private static SenderStatistics Snapshot(SenderState state) =>
        new(state.Sender, state.Counters, state.InFlight.Count, state.Group?.Parts ?? 0);

    private SenderState Touch(IPEndPoint sender, ICollection<ReceivedRecord> output)
    {
        if (_senders.TryGetValue(sender, out SenderState? state))
        {
            MoveToFront(_recent, state.Node);
            if (!state.Established)
            {
                MoveToFront(_probation, state.ProbationNode);
            }

            return state;
        }

        while (_senders.Count >= _maxSenders && Victim(null) is { } victim)
        {
            Evict(victim, output);
        }

        // A copy: IPEndPoint is mutable and the caller may reuse its instance.
        state = new SenderState(new IPEndPoint(sender.Address, sender.Port));
        _senders.Add(state.Sender, state);
        _recent.AddFirst(state.Node);
        _probation.AddFirst(state.ProbationNode);
        if (_evictedPositions.Remove(state.Sender, out (SequenceTracker.Position Position, long Delivered) kept))
        {
            // Evicted earlier and heard again: its numbers go on from where they were, so what it
            // lost meanwhile is counted (the window of late arrivals is not kept), and the records
            // it delivered before count towards being established.
            state.Sequences.Resume(kept.Position);
            state.Counters.Resumed++;
            state.DeliveredBefore = kept.Delivered;
        }

        return state;
    }

    private static void MoveToFront(LinkedList<SenderState> list, LinkedListNode<SenderState> node)
    {
        if (list.First != node)
        {
            list.Remove(node);
            list.AddFirst(node);
        }
    }

    // Who goes when room is needed: the least recently heard sender still on probation (a spoofed
    // address that sent one datagram is one), else the least recently heard established one. A
    // flood of new senders evicts its own kind, not a sender with a history. Never `keep`.
    private SenderState? Victim(SenderState? keep)
    {
        for (LinkedListNode<SenderState>? node = _probation.Last; node is not null; node = node.Previous)
        {
            if (node.Value != keep)
            {
                return node.Value;
            }
        }

        for (LinkedListNode<SenderState>? node = _recent.Last; node is not null; node = node.Previous)
        {
            if (node.Value != keep)
            {
                return node.Value;
            }
        }

        return null;
    }

    private void Evict(SenderState state, ICollection<ReceivedRecord> output)
    {
        CloseGroup(state, output);
        foreach (InFlightRecord record in state.InFlight.Values)
        {
            state.Counters.DroppedRecords++;
            _bufferedBytes -= record.Cost;
        }

        state.InFlight.Clear();
        state.Counters.AddTo(_retired);
        _senders.Remove(state.Sender);
        _recent.Remove(state.Node);
        if (!state.Established)
        {
            _probation.Remove(state.ProbationNode);
        }

        _evictedSenders++;
        if (state.Sequences.GetPosition() is { } position)
        {
            // Kept (a few dozen bytes) for the senders evicted most recently, bounded.
            if (_evictedPositions.TryAdd(state.Sender, (position, state.DeliveredBefore + state.Counters.Records)))
            {
                _evictedOrder.Enqueue(state.Sender);
            }

            while (_evictedOrder.Count > EvictedPositionsPerSender * _maxSenders)
            {
                _evictedPositions.Remove(_evictedOrder.Dequeue());
            }
        }
    }

    private void EnforceBufferLimit(SenderState current, ICollection<ReceivedRecord> output)
    {
        while (_bufferedBytes > _maxBufferedBytes && Victim(current) is { } victim)
        {
            Evict(victim, output);
        }
    }

    private void ExpireSender(SenderState state, long now, ICollection<ReceivedRecord> output)
    {
        if (state.InFlight.Count > 0)
        {
            List<ulong>? expired = null;
            foreach (KeyValuePair<ulong, InFlightRecord> entry in state.InFlight)
            {
                if (now - entry.Value.FirstReceived > _timeoutTicks)
                {
                    (expired ??= []).Add(entry.Key);
                }
            }

            if (expired is not null)
            {
                foreach (ulong sequence in expired)
                {
                    CountIncomplete(state, state.InFlight[sequence]);
                    state.InFlight.Remove(sequence);
                }
            }
        }

        if (state.Group is { } group && now - group.LastReceived > _timeoutTicks)
        {
            CloseGroup(state, output);
        }
    }

    private void CountIncomplete(SenderState state, InFlightRecord record)
    {
        state.Counters.IncompleteRecords++;
        state.Counters.MissingBytes += record.Data.Length - record.Received;
        _bufferedBytes -= record.Cost;
    }

    private ReassemblyResult AddFragment(SenderState state, in ParsedDatagram parsed, long timestamp, ICollection<ReceivedRecord> output)
    {
        if (!state.InFlight.TryGetValue(parsed.Sequence, out InFlightRecord? record))
        {
            if (state.Sequences.IsDuplicate(parsed.Sequence, parsed.TimestampMicroseconds))
            {
                state.Counters.Duplicates++; // a late copy of a fragment of a record already delivered
                return ReassemblyResult.Duplicate;
            }

            if (state.InFlight.Count >= _maxInFlight)
            {
                DropOldestInFlight(state);
            }

            record = new InFlightRecord(parsed, timestamp);
            state.InFlight.Add(parsed.Sequence, record);
            _bufferedBytes += record.Cost;
        }
        else if (!record.Matches(parsed))
        {
            state.Counters.Malformed++;
            return ReassemblyResult.Malformed;
        }

        switch (record.Merge(parsed.FragmentOffset, parsed.Data))
        {
            case InFlightRecord.MergeResult.Conflict:
                state.Counters.Malformed++;
                return ReassemblyResult.Malformed;
            case InFlightRecord.MergeResult.Duplicate:
                state.Counters.Duplicates++;
                return ReassemblyResult.Duplicate;
        }

        if (record.Received < record.Data.Length)
        {
            return ReassemblyResult.Accepted;
        }

        state.InFlight.Remove(parsed.Sequence);
        _bufferedBytes -= record.Cost;
        SignatureCheck signature = RecordSignatureCheck.Check(record.SignedHeader, record.Data, _keyring, _hmacs);
        var dictionary = new List<KeyValuePair<string, string>>();
        byte[] text = Decode(state, record.Data, dictionary);
        var part = new Part(record.Release, record.Priority, parsed.Sequence, record.Timestamp, record.Continuation, text, dictionary, record.Fragments, timestamp, signature);
        return Complete(state, part, output);
    }

    // A record's data decoded, at most MaxDictionaryEntries entries kept (the rest counted).
    private byte[] Decode(SenderState state, ReadOnlySpan<byte> data, List<KeyValuePair<string, string>> dictionary)
    {
        byte[] text = DatagramParser.DecodeRecordData(data, dictionary, _maxDictionaryEntries, out int dropped);
        state.Counters.DictionaryEntriesDropped += dropped;
        return text;
    }

    private void DropOldestInFlight(SenderState state)
    {
        KeyValuePair<ulong, InFlightRecord> oldest = state.InFlight.MinBy(entry => entry.Value.FirstReceived);
        state.InFlight.Remove(oldest.Key);
        state.Counters.DroppedRecords++;
        _bufferedBytes -= oldest.Value.Cost;
    }

    // A whole record (one datagram, or all its fragments): its signature, sequence tracking, then grouping.
    private ReassemblyResult Complete(SenderState state, Part part, ICollection<ReceivedRecord> output)
    {
        switch (part.Signature.Status)
        {
            case RecordSignature.Invalid:
                state.Counters.SignaturesInvalid++;
                break;
            case RecordSignature.UnknownKey:
                state.Counters.UnknownKeys++;
                break;
            case RecordSignature.Verified when !_signedRuns.TryTake(part.Signature.KeyId!, part.Signature.Run!, part.Sequence):
                state.Counters.Replays++;
                return ReassemblyResult.Duplicate;
        }

        switch (state.Sequences.Accept(part.Sequence, part.Timestamp, Microseconds(part.Received), out ulong gap))
        {
            case SequenceTracker.Outcome.Duplicate:
                state.Counters.Duplicates++;
                return ReassemblyResult.Duplicate;
            case SequenceTracker.Outcome.Restart:
                state.Counters.Restarts++;
                break;
            case SequenceTracker.Outcome.Late:
                state.Counters.LostRecords--;
                state.Counters.OutOfOrderRecords++;
                break;
            case SequenceTracker.Outcome.LateBeforeStart:
                state.Counters.OutOfOrderRecords++;
                break;
            default:
                state.Counters.LostRecords = Counters.Add(state.Counters.LostRecords, gap);
                break;
        }

        if (state.Group is { } group)
        {
            bool next = part.Continuation == RecordContinuation.Continuation && part.Sequence == unchecked(group.LastSequence + 1);
            if (next && group.Bytes + part.Cost <= _maxGroupBytes)
            {
                group.Append(part);
                _bufferedBytes += part.Cost;
                return ReassemblyResult.Accepted;
            }

            if (next)
            {
                state.Counters.OversizedGroups++;
            }

            CloseGroup(state, output);
        }

        if (part.Continuation == RecordContinuation.First)
        {
            state.Group = new HeldGroup(part);
            _bufferedBytes += part.Cost;
            return ReassemblyResult.Accepted;
        }

        Deliver(state, part.ToRecord(state.Sender), output);
        return ReassemblyResult.Accepted;
    }

    private void CloseGroup(SenderState state, ICollection<ReceivedRecord> output)
    {
        if (state.Group is not { } group)
        {
            return;
        }

        state.Group = null;
        _bufferedBytes -= group.Bytes;
        Deliver(state, group.ToRecord(state.Sender), output);
    }

    // The caller's Stopwatch ticks in microseconds (a negative clock counts as 0).
    private static ulong Microseconds(long ticks) =>
        ticks <= 0 ? 0 : (ulong)((UInt128)(ulong)ticks * 1_000_000 / (ulong)Stopwatch.Frequency);

    private void Deliver(SenderState state, ReceivedRecord record, ICollection<ReceivedRecord> output)
    {
        if (record.Signature == RecordSignature.Verified)
        {
            state.Counters.Verified++;
        }
        else if (_requireVerified)
        {
            state.Counters.RejectedUnverified++;
            return;
        }

        state.Counters.Records++;
        if (!state.Established && state.DeliveredBefore + state.Counters.Records >= RecordsToEstablish)
        {
            state.Established = true;
            _probation.Remove(state.ProbationNode);
        }

        output.Add(record);
    }

    private sealed class SenderState
    {
        public SenderState(IPEndPoint sender)
        {
            Sender = sender;
            Node = new LinkedListNode<SenderState>(this);
            ProbationNode = new LinkedListNode<SenderState>(this);
        }

        /// <summary>Delivered <see cref="RecordsToEstablish"/> records: evicted after every sender on probation.</summary>
        public bool Established { get; set; }

        public LinkedListNode<SenderState> ProbationNode { get; }

        /// <summary>The highest verified sequence number of each signed run (key id, run) heard from this sender.</summary>

        /// <summary>Records it delivered before its state was last evicted (they count towards being established).</summary>
        public long DeliveredBefore { get; set; }

        public IPEndPoint Sender { get; }

        public LinkedListNode<SenderState> Node { get; }

        public Counters Counters { get; } = new();

        public Dictionary<ulong, InFlightRecord> InFlight { get; } = new();

        public SequenceTracker Sequences { get; } = new();

        public HeldGroup? Group { get; set; }
    }

    // One record's fragments so far: its header and a buffer of its whole data, with a bit per byte received.
    private sealed class InFlightRecord
    {
        private readonly byte[] _releaseBytes;
        private readonly ulong[] _received;

        public InFlightRecord(in ParsedDatagram first, long timestamp)
        {
            _releaseBytes = first.Release.ToArray();
            SignedHeader = first.SignedHeader.ToArray();
            Release = first.GetReleaseString();
            Priority = first.Priority;
            Timestamp = first.TimestampMicroseconds;
            Continuation = first.Continuation;
            Data = new byte[first.FragmentTotal];
            _received = new ulong[(first.FragmentTotal + 63) / 64];
            FirstReceived = timestamp;
        }

        public enum MergeResult
        {
            New,
            Duplicate,
            Conflict,
        }

        public string? Release { get; }

        public int Priority { get; }

        public ulong Timestamp { get; }

        public RecordContinuation Continuation { get; }

        public byte[] Data { get; }

        /// <summary>The header as a signature covers it (every fragment of the record repeats it).</summary>
        public byte[] SignedHeader { get; }

        /// <summary>What it holds in memory: the data buffer, its bitmap of bytes received, the object and its header copy.</summary>
        public long Cost => Data.Length + (_received.Length * 8L) + 160 + _releaseBytes.Length;

        public int Received { get; private set; }

        public int Fragments { get; private set; }

        public long FirstReceived { get; }

        // Every fragment of a record repeats the same header (the kernel writes it once per record).
        public bool Matches(in ParsedDatagram fragment) =>
            fragment.FragmentTotal == Data.Length
            && fragment.Priority == Priority
            && fragment.TimestampMicroseconds == Timestamp
            && fragment.Continuation == Continuation
            && fragment.HasRelease == (Release is not null)
            && fragment.Release.SequenceEqual(_releaseBytes)
            && fragment.SignedHeader.SequenceEqual(SignedHeader);

        public MergeResult Merge(int offset, ReadOnlySpan<byte> chunk)
        {
            // The usual cases a range at a time: a fragment not seen yet, or an exact copy.
            int already = ReceivedIn(offset, chunk.Length);
            if (already == chunk.Length) // an empty fragment too: nothing new
            {
                return chunk.SequenceEqual(Data.AsSpan(offset, chunk.Length)) ? MergeResult.Duplicate : MergeResult.Conflict;
            }

            if (already == 0)
            {
                chunk.CopyTo(Data.AsSpan(offset));
                MarkReceived(offset, chunk.Length);
                Received += chunk.Length;
                Fragments++;
                return MergeResult.New;
            }

            // Overlapping what arrived in part: byte by byte.
            bool anyNew = false;
            for (int i = 0; i < chunk.Length; i++)
            {
                int at = offset + i;
                if (!IsReceived(at))
                {
                    anyNew = true;
                }
                else if (Data[at] != chunk[i])
                {
                    return MergeResult.Conflict;
                }
            }

            if (!anyNew)
            {
                return MergeResult.Duplicate;
            }

            for (int i = 0; i < chunk.Length; i++)
            {
                int at = offset + i;
                if (!IsReceived(at))
                {
                    Data[at] = chunk[i];
                    _received[at >> 6] |= 1UL << (at & 63);
                    Received++;
                }
            }

            Fragments++;
            return MergeResult.New;
        }

        private bool IsReceived(int at) => (_received[at >> 6] & (1UL << (at & 63))) != 0;

        // How many bytes of [offset, offset + length) have arrived: the bitmap's words, masked at both ends.
        private int ReceivedIn(int offset, int length)
        {
            int count = 0;
            for (int at = offset, end = offset + length; at < end;)
            {
                int bit = at & 63;
                int bits = Math.Min(64 - bit, end - at);
                ulong mask = (bits == 64 ? ulong.MaxValue : ((1UL << bits) - 1)) << bit;
                count += BitOperations.PopCount(_received[at >> 6] & mask);
                at += bits;
            }

            return count;
        }

        private void MarkReceived(int offset, int length)
        {
            for (int at = offset, end = offset + length; at < end;)
            {
                int bit = at & 63;
                int bits = Math.Min(64 - bit, end - at);
                _received[at >> 6] |= (bits == 64 ? ulong.MaxValue : ((1UL << bits) - 1)) << bit;
                at += bits;
            }
        }
    }

    // One complete record before grouping.
    private sealed class Part(
        string? release,
        int priority,
        ulong sequence,
        ulong timestamp,
        RecordContinuation continuation,
        byte[] text,
        List<KeyValuePair<string, string>> dictionary,
        int fragments,
        long received,
        SignatureCheck signature)
    {
        public string? Release { get; } = release;

        public int Priority { get; } = priority;

        public ulong Sequence { get; } = sequence;

        public ulong Timestamp { get; } = timestamp;

        public RecordContinuation Continuation { get; } = continuation;

        public byte[] Text { get; } = text;

        public List<KeyValuePair<string, string>> Dictionary { get; } = dictionary;

        public int Fragments { get; } = fragments;

        /// <summary>What holding the part costs in memory, decoded (<see cref="ReceivedRecord.MemoryCost"/>): what a held group is charged.</summary>
        public long Cost { get; } = ReceivedRecord.MemoryCost(text.Length, dictionary);

        public long Received { get; } = received;

        public SignatureCheck Signature { get; } = signature;

        public ReceivedRecord ToRecord(IPEndPoint sender) =>
            new(sender, true, Release, Priority, Sequence, Timestamp, Continuation, Text, Dictionary, 1, Fragments, Received, Signature.Status, Signature.KeyId);
    }

    // A continued group being gathered: the first part's header, the texts and dictionaries so far.
    private sealed class HeldGroup
    {
        private readonly Part _first;
        private readonly List<byte[]> _texts = [];
        private readonly List<KeyValuePair<string, string>> _dictionary = [];
        private int _fragments;
        private RecordSignature _signature = RecordSignature.Verified;

        public HeldGroup(Part first)
        {
            _first = first;
            Append(first);
        }

        public ulong LastSequence { get; private set; }

        public long LastReceived { get; private set; }

        public int Parts { get; private set; }

        public long Bytes { get; private set; }

        public void Append(Part part)
        {
            _texts.Add(part.Text);
            _dictionary.AddRange(part.Dictionary);
            _fragments += part.Fragments;
            _signature = Weaker(_signature, part.Signature.Status);
            LastSequence = part.Sequence;
            LastReceived = part.Received;
            Parts++;
            Bytes += part.Cost;
        }

        public ReceivedRecord ToRecord(IPEndPoint sender)
        {
            var text = new byte[_texts.Sum(t => t.Length)];
            int at = 0;
            foreach (byte[] piece in _texts)
            {
                piece.CopyTo(text, at);
                at += piece.Length;
            }

            return new ReceivedRecord(sender, true, _first.Release, _first.Priority, _first.Sequence, _first.Timestamp, _first.Continuation, text, _dictionary, Parts, _fragments, LastReceived, _signature, _first.Signature.KeyId);
        }

        // A group is only as verified as its least verified part: Invalid, then UnknownKey, then NotSigned, then Verified.
        private static RecordSignature Weaker(RecordSignature a, RecordSignature b) =>
            a == RecordSignature.Invalid || b == RecordSignature.Invalid ? RecordSignature.Invalid
            : a == RecordSignature.UnknownKey || b == RecordSignature.UnknownKey ? RecordSignature.UnknownKey
            : a == RecordSignature.NotSigned || b == RecordSignature.NotSigned ? RecordSignature.NotSigned
            : RecordSignature.Verified;
    }
}
