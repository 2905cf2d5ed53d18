namespace Netconsole.Logging;

/// <summary>What <see cref="ILogQueue.Offer"/> did with an entry.</summary>
internal enum OfferResult
{
    /// <summary>Queued: copied into the slot's own entry; the caller's entry is the caller's again.</summary>
    Enqueued,

    /// <summary>The queue was full: dropped and counted in the drops the next queued entry carries.</summary>
    Dropped,

    /// <summary>The queue was full and the caller asked not to drop: the entry is still the caller's.</summary>
    Full,

    /// <summary>The queue is closed (the provider is being disposed): the entry is still the caller's.</summary>
    Closed,
}

/// <summary>What <see cref="ILogQueue.TryTake"/> found.</summary>
internal enum TakeResult
{
    /// <summary>An entry (and the drops just before it, maybe 0).</summary>
    Taken,

    /// <summary>No entry, but drops since the last entry: announce them.</summary>
    Drops,

    /// <summary>Nothing to do now.</summary>
    Empty,

    /// <summary>Closed and drained: nothing will ever come.</summary>
    Drained,

    /// <summary>The queue was abandoned (<see cref="ILogQueue.Abandon"/>): take nothing more.</summary>
    Abandoned,
}

/// <summary>Which queue a provider hands its records over with (internal: the two are measured against each other).</summary>
internal enum LogQueueKind
{
    /// <summary><see cref="LogQueue"/>: lock-free on both sides (the default).</summary>
    LockFree,

    /// <summary><see cref="LockedLogQueue"/>: one lock around a ring of the same slots.</summary>
    Locked,
}

/// <summary>
/// The bounded queue between the logging threads (many producers) and the sender thread (the
/// one consumer). Entries are copied in and out of slots that hold a record inline (<see cref="LogSlot"/>),
/// so both sides reuse their own <see cref="LogEntry"/>. Every entry gets a 64-bit position,
/// consecutive from the queue's start; one producer's entries leave in the order it offered them.
/// </summary>
/// <remarks>
/// Drops are counted exactly once and keep their place: the next entry queued after them carries
/// the count (<see cref="LogEntry.DroppedBefore"/>); when none comes, the consumer collects it
/// (<see cref="TakeResult.Drops"/>) or a record sent outside the queue does (<see cref="TakeDrops"/>).
/// </remarks>
internal interface ILogQueue
{
    /// <summary>Entries offered and not yet taken (a snapshot).</summary>
    int Count { get; }

    /// <summary>Entries ever accepted (a snapshot).</summary>
    long Enqueued { get; }

    /// <summary>Slots of the storage producers use now (tests watch it grow and shrink).</summary>
    int Capacity { get; }

    /// <summary>The 64-bit position the next entry will get: everything before it was accepted.</summary>
    /// <returns>The position.</returns>
    long TailPosition64();

    /// <summary>
    /// Queues <paramref name="entry"/> when fewer than <paramref name="limit"/> entries wait; when
    /// not, drops it (counted) or returns <see cref="OfferResult.Full"/>. Never blocks for long, never
    /// throws (except out of memory copying the entry's pairs: the slot is then marked
    /// <see cref="LogEntry.Broken"/> and skipped by the consumer).
    /// </summary>
    /// <param name="entry">The filled entry (copied; it stays the caller's).</param>
    /// <param name="limit">The most entries waiting (clamped to 1..<see cref="LogQueue.MaxLimit"/>).</param>
    /// <param name="dropWhenFull">Whether a full queue drops the entry (else <see cref="OfferResult.Full"/>).</param>
    /// <returns>What happened.</returns>
    OfferResult Offer(LogEntry entry, int limit, bool dropWhenFull);

    /// <summary>Whether an offer under <paramref name="limit"/> would find the queue full now.</summary>
    /// <param name="limit">The limit.</param>
    /// <returns>Whether it is full.</returns>
    bool IsFull(int limit);

    /// <summary>
    /// Whether the consumer has something to do: an entry offered and not yet taken, or drops to
    /// announce. Called after a full fence (the consumer announcing that it sleeps), it pairs with
    /// <see cref="Offer"/>: a producer that then reads the announcement as not made has its entry seen here.
    /// </summary>
    /// <returns>Whether there is work.</returns>
    bool HasWork();

    /// <summary>
    /// Consumer only: takes the entry at the head (copied into the consumer's own entry), or
    /// collects pending drops when the queue is empty.
    /// </summary>
    /// <param name="entry">The entry taken (the consumer's own, valid until the next take): <see cref="Recycle"/> it once sent.</param>
    /// <param name="position">The entry's 64-bit position.</param>
    /// <param name="dropped">Records dropped just before the entry, or the pending drops for <see cref="TakeResult.Drops"/>.</param>
    /// <returns>What was found.</returns>
    TakeResult TryTake(out LogEntry? entry, out long position, out long dropped);

    /// <summary>Consumer only: clears a taken entry once sent, so it holds no reference to the record's objects.</summary>
    /// <param name="entry">The entry.</param>
    void Recycle(LogEntry entry);

    /// <summary>Collects the drops not yet carried by an entry, for a record sent outside the queue (which announces them first). Any thread.</summary>
    /// <returns>The number of drops collected.</returns>
    long TakeDrops();

    /// <summary>Refuses every later offer (<see cref="OfferResult.Closed"/>); what is queued can still be taken.</summary>
    void Close();

    /// <summary>
    /// After <see cref="Close"/>: gives up on every entry not yet taken, so the consumer takes no
    /// more (<see cref="TakeResult.Abandoned"/>). An entry the consumer took before stays its own.
    /// </summary>
    /// <returns>The number of entries given up (0 when called again).</returns>
    long Abandon();

    /// <summary>Consumer only, when idle: replaces storage larger than <see cref="LogQueue.InitialCapacity"/> by a small one when the queue is empty.</summary>
    /// <returns>Whether the storage was replaced.</returns>
    bool TryShrink();
}

/// <summary>Creates the queue of a <see cref="LogQueueKind"/>.</summary>
internal static class LogQueues
{
    public static ILogQueue Create(LogQueueKind kind, long start = 0) => kind == LogQueueKind.Locked ? new LockedLogQueue(start) : new LogQueue(start);
}
