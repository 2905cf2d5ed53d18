namespace Netconsole.Logging;

/// <summary>What <see cref="LogQueue.Offer"/> did with an entry.</summary>
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

/// <summary>What <see cref="LogQueue.TryTake"/> found.</summary>
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

    /// <summary>The queue was abandoned (<see cref="LogQueue.Abandon"/>): take nothing more.</summary>
    Abandoned,
}
