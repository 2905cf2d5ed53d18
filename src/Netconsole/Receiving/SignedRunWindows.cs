namespace Netconsole.Receiving;

/// <summary>
/// Which verified records a receiver has taken, per signed run (a key id and the run of one
/// sender's formatter): the highest sequence number and which of the <see cref="Width"/> below it
/// came, the sliding window of IPsec's anti-replay check. A copy of a record taken, or a record
/// older than the window, is a replay, whatever socket or source address it comes from: the
/// signature does not cover the source address, so keying the check by sender would let a copy
/// sent from another address (or after a flood evicted the sender) through. Shared by the
/// reassemblers of every socket of a receiver. Thread-safe.
/// </summary>
/// <remarks>
/// Runs are only ever recorded for verified records, so their number is that of the signing
/// formatters heard (a process start each), not anything a sender without the key can grow.
/// Beyond <c>maxRuns</c>, the run least recently advanced is forgotten: a replay of one of its
/// records would be taken again.
/// </remarks>
internal sealed class SignedRunWindows(int maxRuns)
{
    /// <summary>How far below a run's highest number a record not yet seen is still taken (reordering).</summary>
    internal const int Width = 64;

    /// <summary>Runs remembered by default.</summary>
    internal const int DefaultMaxRuns = 4096;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string KeyId, string Run), Window> _runs = new();
    private readonly LinkedList<Window> _recent = new(); // most recently advanced first

    public SignedRunWindows()
        : this(DefaultMaxRuns)
    {
    }

    /// <summary>Runs remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _runs.Count;
            }
        }
    }

    /// <summary>
    /// True when <paramref name="sequence"/> is new for its run, which now counts as taken; false
    /// for a record taken before, or older than the window (a replay).
    /// </summary>
    public bool TryTake(string keyId, string run, ulong sequence)
    {
        lock (_lock)
        {
            if (!_runs.TryGetValue((keyId, run), out Window? window))
            {
                if (_runs.Count >= maxRuns)
                {
                    Window oldest = _recent.Last!.Value;
                    _recent.RemoveLast();
                    _runs.Remove(oldest.Key);
                }

                window = new Window((keyId, run), sequence);
                _runs.Add(window.Key, window);
                _recent.AddFirst(window.Node);
                return true;
            }

            if (sequence > window.Highest)
            {
                ulong ahead = sequence - window.Highest;
                window.Seen = ahead >= Width ? 1UL : (window.Seen << (int)ahead) | 1UL;
                window.Highest = sequence;
                if (_recent.First != window.Node)
                {
                    _recent.Remove(window.Node);
                    _recent.AddFirst(window.Node);
                }

                return true;
            }

            ulong behind = window.Highest - sequence;
            if (behind >= Width)
            {
                return false;
            }

            ulong bit = 1UL << (int)behind;
            if ((window.Seen & bit) != 0)
            {
                return false;
            }

            window.Seen |= bit;
            return true;
        }
    }

    // One run: bit i of Seen is Highest - i.
    private sealed class Window
    {
        public Window((string KeyId, string Run) key, ulong highest)
        {
            Key = key;
            Highest = highest;
            Seen = 1;
            Node = new LinkedListNode<Window>(this);
        }

        public (string KeyId, string Run) Key { get; }

        public LinkedListNode<Window> Node { get; }

        public ulong Highest { get; set; }

        public ulong Seen { get; set; }
    }
}
