using System.Runtime.InteropServices;

namespace Netconsole.Logging;

/// <summary>
/// The bounded queue between the logging threads (many producers) and the sender thread (the
/// one consumer): lock-free on both sides, after Dmitry Vyukov's bounded MPMC ring, in segments.
/// </summary>
/// <remarks>
/// <para>
/// Every entry gets a position (consecutive, counted from <see cref="_start"/>). A producer claims
/// the next position with one compare-and-swap on the segment's tail word, copies its filled
/// entry into the slot (the slot holds a record's fields inline, see <see cref="LogSlot"/>), and
/// publishes the slot through its sequence number. The consumer copies the slot into its own
/// entry and frees the slot at once, so an entry being sent does not take a place in the queue.
/// There is no pool and no object per record: slots follow one another in memory as positions
/// do, so a long queue is walked sequentially by both sides and no pointer is chased to a cold
/// object (handing entry objects around instead made a logging thread wait on memory a lap old).
/// Positions of one producer thread are claimed in program order, so its entries leave in the
/// order it logged them.
/// </para>
/// <para>
/// The limit (<see cref="NetconsoleLoggerOptions.MaxQueueLength"/>) is checked at each offer
/// against the consumer's head, so a new limit applies to the next offer. Storage grows on
/// demand: the first segment has <see cref="InitialCapacity"/> slots; when a segment is full but
/// the limit allows more, it is frozen (no position is claimed in it any more) and a segment
/// twice as large continues the same positions; the consumer moves on once it has taken the
/// frozen segment's last entry. An idle consumer can swap a large empty segment for a small one
/// (<see cref="TryShrink"/>), so a burst does not pin its memory for ever.
/// </para>
/// <para>
/// The tail word packs the low 32 bits of the tail position (positions compare by wrapping
/// difference), a frozen bit, a closed bit, and the records dropped since the last claimed
/// position. A drop is counted by a compare-and-swap on the same word that proves the queue was
/// full, so each drop is counted exactly once and lands between the same two entries in every
/// view: the next entry carries the count (<see cref="LogEntry.DroppedBefore"/>), or, when none
/// comes, the consumer collects it (<see cref="TakeResult.Drops"/>).
/// </para>
/// </remarks>
internal sealed class LogQueue
{
    /// <summary>Slots of the first segment, and of one that replaces a large idle one.</summary>
    internal const int InitialCapacity = 32;

    /// <summary>The largest segment; a longer queue chains segments of this size.</summary>
    internal const int MaxSegmentCapacity = 1 << 20;

    /// <summary>Dictionary pairs a slot holds without an array of its own.</summary>
    internal const int InlinePairs = 4;

    /// <summary>A message or string value longer than this (in chars) is let go by its slot as soon as it is taken.</summary>
    internal const int LargeMessage = 16 * 1024;

    /// <summary>The largest limit honoured (positions compare by 32-bit wrapping difference).</summary>
    internal const int MaxLimit = 1 << 30;

    private const ulong PositionMask = 0xFFFF_FFFFUL;
    private const ulong FrozenBit = 1UL << 32;
    private const ulong ClosedBit = 1UL << 33;
    private const int DropShift = 34;
    private const ulong DropUnit = 1UL << DropShift;
    private const ulong MaxDropsInWord = (1UL << (64 - DropShift)) - 1;

    private readonly object _resizeLock = new();
    private readonly long _start;
    private Segment _tailSegment; // producers' segment; replaced under _resizeLock
    private PaddedLong _head; // 64-bit position of the next entry to take; the consumer (and Abandon) moves it
    private PaddedLong _headSeen; // the head as producers last read it (never ahead of the real one)
    private ConsumerSide _consumer; // the consumer's own, apart from what producers read
    private long _overflowDrops; // drops beyond what the tail word can count (a billion between two entries)

    /// <summary>Creates an empty queue.</summary>
    /// <param name="start">The first position (tests start near the 32-bit wrap).</param>
    public LogQueue(long start = 0)
    {
        _start = start;
        _head.Value = _headSeen.Value = start;
        _tailSegment = _consumer.HeadSegment = new Segment(InitialCapacity, (uint)start, (uint)start);
        _consumer.Current = new LogEntry();
    }

    /// <summary>The process-death watchdog's ring, written for each record queued; null without <see cref="NetconsoleLoggerOptions.CaptureProcessDeath"/>. Set once, before any record is logged.</summary>
    internal ProcessDeath.ProcessDeathWatch? DeathWatch { get; set; }

    /// <summary>Entries claimed and not yet taken (a snapshot).</summary>
    public int Count
    {
        get
        {
            long head = Head;
            return Math.Max(0, (int)(TailPosition() - (uint)head));
        }
    }

    /// <summary>Entries ever accepted (a snapshot).</summary>
    public long Enqueued => TailPosition64() - _start;

    /// <summary>Slots in the segment producers use now (tests watch it grow and shrink).</summary>
    public int Capacity => Volatile.Read(ref _tailSegment).Slots.Length;

    /// <summary>The 64-bit position the next claimed entry will get: everything before it was accepted.</summary>
    public long TailPosition64()
    {
        long head = Head;
        return head + Math.Max(0, (int)(TailPosition() - (uint)head));
    }

    /// <summary>
    /// Queues <paramref name="entry"/> when there is room under <paramref name="limit"/>; when there
    /// is not, drops it (counted) or returns <see cref="OfferResult.Full"/>. Never blocks, never
    /// throws; takes a lock only while a segment is being replaced.
    /// </summary>
    /// <param name="entry">The filled entry (copied; it stays the caller's).</param>
    /// <param name="limit">The most entries waiting (clamped to 1..<see cref="MaxLimit"/>).</param>
    /// <param name="dropWhenFull">Whether a full queue drops the entry (else <see cref="OfferResult.Full"/>).</param>
    /// <returns>What happened.</returns>
    public OfferResult Offer(LogEntry entry, int limit, bool dropWhenFull)
    {
        limit = Math.Clamp(limit, 1, MaxLimit);
        Segment segment = Volatile.Read(ref _tailSegment);
        SpinWait spin = default;
        while (true)
        {
            ulong word = Volatile.Read(ref segment.Tail.Value);
            if ((word & ClosedBit) != 0)
            {
                return OfferResult.Closed;
            }

            if ((word & FrozenBit) != 0)
            {
                segment = NextOf(segment);
                continue;
            }

            uint position = (uint)word;
            // The head as last seen by a producer is enough while it shows room (the real one is
            // only ever further on): the consumer's own cache line is read only near the limit.
            bool full = (int)(position - (uint)Volatile.Read(ref _headSeen.Value)) >= limit
                && (int)(position - RefreshHeadSeen()) >= limit;
            ref LogSlot slot = ref segment.Slots[position & segment.Mask];
            int lap = full ? 0 : (int)(Volatile.Read(ref slot.Sequence) - position);
            if (lap < 0)
            {
                // The slot still holds the entry one lap back: the segment is full. A larger limit
                // gets a larger segment; otherwise the queue is full at this very word.
                if (segment.Slots.Length < limit)
                {
                    segment = Grow(segment);
                    continue;
                }

                // With the limit within the segment, a slot a lap back is still taken only in the
                // instant between the consumer moving its head and freeing the slot.
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (full)
            {
                if (!dropWhenFull)
                {
                    return OfferResult.Full;
                }

                if ((word >> DropShift) == MaxDropsInWord)
                {
                    Interlocked.Increment(ref _overflowDrops);
                    return OfferResult.Dropped;
                }

                if (Interlocked.CompareExchange(ref segment.Tail.Value, word + DropUnit, word) == word)
                {
                    return OfferResult.Dropped;
                }

                continue;
            }

            if (lap > 0 || Interlocked.CompareExchange(ref segment.Tail.Value, (uint)(position + 1), word) != word)
            {
                continue; // another producer took this position (or a drop was counted): look again
            }

            // The position is ours: it is published whatever happens (the consumer waits for it).
            long dropped = (long)(word >> DropShift);
            if (dropped == (long)MaxDropsInWord)
            {
                dropped += Interlocked.Exchange(ref _overflowDrops, 0);
            }

            try
            {
                slot.Store(entry, segment.Pairs, position & segment.Mask);
            }
            catch
            {
                slot.Level = LogEntry.Broken; // out of memory for its pairs: the consumer skips it
                throw;
            }
            finally
            {
                slot.DroppedBefore = dropped;
                Volatile.Write(ref slot.Sequence, position + 1);
            }

            // The process-death ring's slot for this position: plain memory writes, after the
            // queue's publication so the sender never waits for them (ProcessDeath/DeathRing.cs).
            DeathWatch?.RecordQueued(position, entry);
            return OfferResult.Enqueued;
        }
    }

    /// <summary>Whether an offer under <paramref name="limit"/> would find the queue full now.</summary>
    public bool IsFull(int limit) => Count >= Math.Clamp(limit, 1, MaxLimit);

    /// <summary>
    /// Whether the consumer has something to do: a claimed position not yet taken (maybe not yet
    /// published), or drops to announce. Read after a full fence, it pairs with the producers'
    /// compare-and-swap on the tail word: a sleeping consumer is never missed.
    /// </summary>
    public bool HasWork()
    {
        long head = Head;
        ulong word = TailWord(out _);
        return (uint)word != (uint)head || (word >> DropShift) != 0 || Volatile.Read(ref _overflowDrops) != 0;
    }

    /// <summary>
    /// Consumer only: takes the entry at the head (copied into the consumer's own entry), or
    /// collects pending drops when the queue is empty. Waits only for a producer that has claimed
    /// the head position and is publishing it (a few instructions).
    /// </summary>
    /// <param name="entry">The entry taken (the consumer's own, valid until the next take): clear it once sent, so it holds no reference to the record's objects.</param>
    /// <param name="position">The entry's 64-bit position.</param>
    /// <param name="dropped">Records dropped just before the entry, or the pending drops for <see cref="TakeResult.Drops"/>.</param>
    /// <returns>What was found.</returns>
    public TakeResult TryTake(out LogEntry? entry, out long position, out long dropped)
    {
        entry = null;
        dropped = 0;
        Segment segment = _consumer.HeadSegment!;
        SpinWait spin = default;
        while (true)
        {
            long head = Volatile.Read(ref _head.Value);
            position = head;
            if ((head & AbandonedBit) != 0)
            {
                return TakeResult.Abandoned;
            }

            uint low = (uint)head;
            ref LogSlot slot = ref segment.Slots[low & segment.Mask];
            if (Volatile.Read(ref slot.Sequence) == low + 1)
            {
                if (Interlocked.CompareExchange(ref _head.Value, head + 1, head) != head)
                {
                    return TakeResult.Abandoned;
                }

                entry = _consumer.Current!;
                slot.Load(entry, segment.Pairs, low & segment.Mask);
                dropped = slot.DroppedBefore;

                // The slot is overwritten by the next record in it. Only an exception (its stack,
                // its data) is let go now: writing the rest would make the producer fetch lines
                // this thread had changed instead of lines it merely read.
                if (slot.Exception is not null)
                {
                    slot.Exception = null;
                }

                slot.ReleaseLarge(segment.Pairs, low & segment.Mask); // nor a large message or value

                Volatile.Write(ref slot.Sequence, low + (uint)segment.Slots.Length);
                return TakeResult.Taken;
            }

            ulong word = Volatile.Read(ref segment.Tail.Value);
            if ((uint)word != low)
            {
                // Claimed, not yet published: the producer is a few instructions away from it.
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if ((word & FrozenBit) != 0)
            {
                _consumer.HeadSegment = segment = NextOf(segment);
                continue;
            }

            ulong drops = word >> DropShift;
            if (drops != 0 || Volatile.Read(ref _overflowDrops) != 0)
            {
                if (drops != 0 && Interlocked.CompareExchange(ref segment.Tail.Value, word & ~(MaxDropsInWord << DropShift), word) != word)
                {
                    continue;
                }

                dropped = (long)drops + Interlocked.Exchange(ref _overflowDrops, 0);
                if (dropped == 0)
                {
                    continue;
                }

                return TakeResult.Drops;
            }

            return (word & ClosedBit) != 0 ? TakeResult.Drained : TakeResult.Empty;
        }
    }

    /// <summary>
    /// Collects the drops not yet carried by an entry (for a record sent outside the queue, which
    /// announces them first). Any thread.
    /// </summary>
    /// <returns>The number of drops collected.</returns>
    public long TakeDrops()
    {
        while (true)
        {
            ulong word = TailWord(out Segment segment);
            ulong drops = word >> DropShift;
            if (drops == 0)
            {
                return Interlocked.Exchange(ref _overflowDrops, 0);
            }

            if (Interlocked.CompareExchange(ref segment.Tail.Value, word & ~(MaxDropsInWord << DropShift), word) == word)
            {
                return (long)drops + Interlocked.Exchange(ref _overflowDrops, 0);
            }
        }
    }

    /// <summary>Refuses every later offer (<see cref="OfferResult.Closed"/>); what is queued can still be taken.</summary>
    public void Close()
    {
        lock (_resizeLock)
        {
            Interlocked.Or(ref _tailSegment.Tail.Value, ClosedBit);
        }
    }

    /// <summary>
    /// After <see cref="Close"/>: gives up on every entry not yet taken, so the consumer takes no
    /// more (<see cref="TakeResult.Abandoned"/>). An entry the consumer took before stays its own.
    /// </summary>
    /// <returns>The number of entries given up.</returns>
    public long Abandon()
    {
        while (true)
        {
            long head = Volatile.Read(ref _head.Value);
            if ((head & AbandonedBit) != 0)
            {
                return 0;
            }

            long end = head + Math.Max(0, (int)(TailPosition() - (uint)head));

            // The head jumps past the last claimed position, marked so that no take matches it.
            if (Interlocked.CompareExchange(ref _head.Value, end | AbandonedBit, head) == head)
            {
                return end - head;
            }
        }
    }

    /// <summary>
    /// Consumer only, when idle: replaces a segment larger than <see cref="InitialCapacity"/> by a
    /// small one when the queue is empty, so the memory of a burst is given back.
    /// </summary>
    /// <returns>Whether the segment was replaced.</returns>
    public bool TryShrink()
    {
        lock (_resizeLock)
        {
            Segment segment = _tailSegment;
            ulong word = Volatile.Read(ref segment.Tail.Value);
            if (segment.Slots.Length <= InitialCapacity || (word & ClosedBit) != 0 || (uint)word != (uint)Head)
            {
                return false;
            }

            Replace(segment, InitialCapacity);
            return true;
        }
    }

    // The head of an abandoned queue carries this bit: no take matches it any more, and the
    // position under it (the end) still counts right (Close came first: no producer gets further).
    private const long AbandonedBit = 1L << 62;

    private long Head => Volatile.Read(ref _head.Value) & ~AbandonedBit;

    // Reads the real head for producers and remembers it (a racing older value may win the write:
    // it is still a head the consumer has passed, so it errs only towards "full", then is read again).
    private uint RefreshHeadSeen()
    {
        long head = Volatile.Read(ref _head.Value);
        Volatile.Write(ref _headSeen.Value, head);
        return (uint)head;
    }

    private Segment NextOf(Segment segment)
    {
        Segment? next = Volatile.Read(ref segment.Next);
        if (next is null)
        {
            // Frozen and not yet linked: the thread replacing it holds the lock until it is.
            lock (_resizeLock)
            {
                next = segment.Next!;
            }
        }

        return next;
    }

    private Segment Grow(Segment segment)
    {
        lock (_resizeLock)
        {
            if (_tailSegment == segment && (Volatile.Read(ref segment.Tail.Value) & (FrozenBit | ClosedBit)) == 0)
            {
                Replace(segment, Math.Min(segment.Slots.Length * 2, MaxSegmentCapacity));
            }

            return _tailSegment;
        }
    }

    // Caller holds _resizeLock and segment is the tail segment, not closed.
    private void Replace(Segment segment, int capacity)
    {
        ulong word = Interlocked.Or(ref segment.Tail.Value, FrozenBit);
        var next = new Segment(capacity, (uint)word, word & ~FrozenBit); // the drops move along
        Volatile.Write(ref segment.Next, next);
        Volatile.Write(ref _tailSegment, next);
    }

    // The current tail word, following frozen segments to the live one.
    private ulong TailWord(out Segment segment)
    {
        segment = Volatile.Read(ref _tailSegment);
        while (true)
        {
            ulong word = Volatile.Read(ref segment.Tail.Value);
            if ((word & FrozenBit) == 0 || Volatile.Read(ref segment.Next) is not { } next)
            {
                return word;
            }

            segment = next;
        }
    }

    private uint TailPosition() => (uint)(TailWord(out _) & PositionMask);

    // A word alone on its cache lines: producers hammer the tail, the consumer the head.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct PaddedWord
    {
        [FieldOffset(64)]
        public ulong Value;
    }

    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct ConsumerSide
    {
        [FieldOffset(64)]
        public Segment? HeadSegment;

        [FieldOffset(72)]
        public LogEntry? Current;
    }

    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct PaddedLong
    {
        [FieldOffset(64)]
        public long Value;
    }

    private sealed class Segment
    {
        public readonly LogSlot[] Slots;
        public readonly KeyValuePair<string, object?>[] Pairs; // InlinePairs per slot, at the slot's index
        public readonly uint Mask;
        public PaddedWord Tail;
        public Segment? Next;

        public Segment(int capacity, uint start, ulong word)
        {
            Slots = new LogSlot[capacity];
            Pairs = LogSlot.NewPairs(capacity);
            Mask = (uint)capacity - 1;
            for (uint i = 0; i < (uint)capacity; i++)
            {
                Slots[(start + i) & Mask].Sequence = start + i;
            }

            Tail.Value = word;
        }
    }
}
