namespace Netconsole.Logging;

/// <summary>
/// The plain alternative to <see cref="LogQueue"/>: one lock around a ring of the same inline
/// slots (<see cref="LogSlot"/>), with the same contract (<see cref="ILogQueue"/>): positions,
/// limits, exact drop counting, close and abandon, growing and shrinking.
/// </summary>
/// <remarks>
/// Kept beside the lock-free queue so the two can be measured in the same run (issue 11: the
/// lock-free queue stays only if it wins by a margin that can be shown). Everything a producer or
/// the consumer does happens under the lock, copying the record in or out included: a slot is
/// never read while it is written. The ring grows by doubling (copying the waiting slots in
/// order) when it is full and the limit allows more, and an idle consumer can swap a grown empty
/// ring for a small one, as <see cref="LogQueue"/> does with its segments.
/// </remarks>
internal sealed class LockedLogQueue : ILogQueue
{
    private readonly object _lock = new();
    private readonly long _start;
    private readonly LogEntry _current = new(); // the consumer's own entry, filled by each take
    private LogSlot[] _slots;
    private KeyValuePair<string, object?>[] _pairs;
    private long _head; // position of the next entry to take
    private long _tail; // position the next entry will get
    private long _drops; // dropped since the last entry queued
    private bool _closed;
    private bool _abandoned;

    /// <summary>Creates an empty queue.</summary>
    /// <param name="start">The first position (as <see cref="LogQueue"/>'s, for the same tests).</param>
    public LockedLogQueue(long start = 0)
    {
        _start = _head = _tail = start;
        _slots = new LogSlot[LogQueue.InitialCapacity];
        _pairs = LogSlot.NewPairs(LogQueue.InitialCapacity);
    }

    /// <inheritdoc/>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return (int)(_tail - _head);
            }
        }
    }

    /// <inheritdoc/>
    public long Enqueued => TailPosition64() - _start;

    /// <inheritdoc/>
    public int Capacity => Volatile.Read(ref _slots).Length;

    /// <inheritdoc/>
    public long TailPosition64()
    {
        lock (_lock)
        {
            return _tail;
        }
    }

    /// <inheritdoc/>
    public OfferResult Offer(LogEntry entry, int limit, bool dropWhenFull)
    {
        limit = Math.Clamp(limit, 1, LogQueue.MaxLimit);
        lock (_lock)
        {
            if (_closed)
            {
                return OfferResult.Closed;
            }

            long count = _tail - _head;
            if (count >= limit)
            {
                if (!dropWhenFull)
                {
                    return OfferResult.Full;
                }

                _drops++;
                return OfferResult.Dropped;
            }

            if (count == _slots.Length)
            {
                Resize(_slots.Length * 2);
            }

            uint index = (uint)(_tail & (_slots.Length - 1));
            ref LogSlot slot = ref _slots[index];
            try
            {
                slot.Store(entry, _pairs, index);
            }
            catch
            {
                slot.Level = LogEntry.Broken; // out of memory for its pairs: the consumer skips it
                throw;
            }
            finally
            {
                // The position is taken whatever happens, and carries the drops before it.
                slot.DroppedBefore = _drops;
                _drops = 0;
                _tail++;
            }

            return OfferResult.Enqueued;
        }
    }

    /// <inheritdoc/>
    public bool IsFull(int limit) => Count >= Math.Clamp(limit, 1, LogQueue.MaxLimit);

    /// <inheritdoc/>
    /// <remarks>Under the lock: a producer's offer either came before (seen here) or comes after, and then sees the consumer's announcement made before.</remarks>
    public bool HasWork()
    {
        lock (_lock)
        {
            return _tail != _head || _drops != 0;
        }
    }

    /// <inheritdoc/>
    public TakeResult TryTake(out LogEntry? entry, out long position, out long dropped)
    {
        entry = null;
        dropped = 0;
        lock (_lock)
        {
            position = _head;
            if (_abandoned)
            {
                return TakeResult.Abandoned;
            }

            if (_head != _tail)
            {
                uint index = (uint)(_head & (_slots.Length - 1));
                ref LogSlot slot = ref _slots[index];
                entry = _current;
                slot.Load(entry, _pairs, index);
                dropped = slot.DroppedBefore;

                // As in LogQueue: only an exception (its stack, its data) is let go now; the rest
                // is overwritten by the next record in the slot.
                slot.Exception = null;
                _head++;
                return TakeResult.Taken;
            }

            if (_drops != 0)
            {
                dropped = _drops;
                _drops = 0;
                return TakeResult.Drops;
            }

            return _closed ? TakeResult.Drained : TakeResult.Empty;
        }
    }

    /// <inheritdoc/>
    public void Recycle(LogEntry entry) => entry.Clear();

    /// <inheritdoc/>
    public long TakeDrops()
    {
        lock (_lock)
        {
            long drops = _drops;
            _drops = 0;
            return drops;
        }
    }

    /// <inheritdoc/>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
        }
    }

    /// <inheritdoc/>
    public long Abandon()
    {
        lock (_lock)
        {
            if (_abandoned)
            {
                return 0;
            }

            long left = _tail - _head;
            _head = _tail;
            _abandoned = true;
            return left;
        }
    }

    /// <inheritdoc/>
    public bool TryShrink()
    {
        lock (_lock)
        {
            if (_slots.Length <= LogQueue.InitialCapacity || _closed || _head != _tail)
            {
                return false;
            }

            Resize(LogQueue.InitialCapacity);
            return true;
        }
    }

    // Caller holds the lock; capacity is a power of two that holds every waiting entry. The
    // waiting slots keep their positions (each at its position's index in the new ring).
    private void Resize(int capacity)
    {
        capacity = Math.Min(capacity, LogQueue.MaxLimit);
        var slots = new LogSlot[capacity];
        KeyValuePair<string, object?>[] pairs = LogSlot.NewPairs(capacity);
        int oldMask = _slots.Length - 1;
        for (long position = _head; position < _tail; position++)
        {
            int from = (int)(position & oldMask);
            int to = (int)(position & (capacity - 1));
            slots[to] = _slots[from];
            Array.Copy(_pairs, from * LogQueue.InlinePairs, pairs, to * LogQueue.InlinePairs, LogQueue.InlinePairs);
        }

        _pairs = pairs;
        Volatile.Write(ref _slots, slots);
    }
}
