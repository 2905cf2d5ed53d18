namespace Netconsole.Receiving;

/// <summary>
/// One sender's sequence numbers: gaps, late arrivals, duplicates and restarts, over a window
/// of the last <see cref="Window"/> numbers below the highest seen.
/// </summary>
/// <remarks>
/// A number above the highest is new (the numbers skipped are counted lost). A number inside
/// the window not seen yet is a late arrival (no longer lost). A number inside the window
/// already seen is a duplicate when its timestamp matches the one seen, and a restart when it
/// does not (a sender that started over reuses numbers with new times). A number below the
/// window is a restart too: a restarted sender goes back to small numbers, while reordering on
/// the way is never that deep. A restart forgets everything and starts over from that number.
/// <para>
/// A number above the highest by more than the sender could have used since is a restart too,
/// not a loss: more than one record per microsecond, by the sender's timestamps and by the
/// receiver's clock (the smaller), beyond a burst allowance of <see cref="BurstAllowance"/>. A
/// sender that numbers its records from its clock, as this library's logging provider does,
/// jumps ahead by the time it was gone when it restarts; a hostile sender alternating 0 and
/// 2^64-1 (with any timestamps: the receiver's clock is not the sender's to set) must not make
/// billions of "lost" records. All arithmetic is unsigned and cannot overflow.
/// </para>
/// </remarks>
internal sealed class SequenceTracker
{
    /// <summary>How far below the highest sequence number a late record is still taken as reordering, 64.</summary>
    public const int Window = 64;

    /// <summary>How many numbers beyond one per microsecond of timestamps a gap may span and still count as lost, 65,536: a burst logged faster than that and lost whole.</summary>
    public const ulong BurstAllowance = 65_536;

    private readonly ulong[] _sequences = new ulong[Window];
    private readonly ulong[] _timestamps = new ulong[Window];
    private ulong _valid;
    private bool _started;
    private ulong _highest;
    private ulong _highestTimestamp;
    private ulong _highestReceived; // the receiver's clock, in microseconds, when the highest arrived
    private ulong _start;

    public enum Outcome
    {
        /// <summary>Above the highest seen (or the first): the gap below it was counted lost.</summary>
        New,

        /// <summary>Late within the window, above the first number seen: it had been counted lost.</summary>
        Late,

        /// <summary>Late within the window, below the first number seen: it had never been counted lost.</summary>
        LateBeforeStart,

        /// <summary>Seen already, same timestamp.</summary>
        Duplicate,

        /// <summary>The sender started over.</summary>
        Restart,
    }

    /// <summary>Where a sender's numbers stand, kept when its state is evicted: enough to count its next gap.</summary>
    public readonly record struct Position(ulong Highest, ulong HighestTimestamp, ulong HighestReceived);

    /// <summary>Where the numbers stand, or null before the first.</summary>
    public Position? GetPosition() => _started ? new Position(_highest, _highestTimestamp, _highestReceived) : null;

    /// <summary>Goes on from a kept position, as if its highest record had just been seen (the window of late arrivals is not kept).</summary>
    public void Resume(Position position) => Reset(position.Highest, position.HighestTimestamp, position.HighestReceived);

    /// <summary>True when this number was seen with this timestamp (a duplicate), without recording anything.</summary>
    public bool IsDuplicate(ulong sequence, ulong timestamp) =>
        InWindow(sequence) && Seen(sequence, out int slot) && _timestamps[slot] == timestamp;

    /// <summary>Records a complete record's number; <paramref name="gap"/> is how many numbers it skipped.</summary>
    /// <param name="sequence">The record's sequence number.</param>
    /// <param name="timestamp">The record's timestamp (the sender's microseconds).</param>
    /// <param name="received">When it was received, in microseconds of the receiver's monotonic clock.</param>
    /// <param name="gap">The numbers skipped (counted lost).</param>
    public Outcome Accept(ulong sequence, ulong timestamp, ulong received, out ulong gap)
    {
        gap = 0;
        if (!_started)
        {
            Reset(sequence, timestamp, received);
            return Outcome.New;
        }

        if (sequence > _highest)
        {
            ulong skipped = sequence - _highest - 1;
            if (skipped > MostPlausibleGap(timestamp, received))
            {
                Reset(sequence, timestamp, received);
                return Outcome.Restart;
            }

            gap = skipped;
            _highest = sequence;
            _highestTimestamp = timestamp;
            _highestReceived = received;
            Mark(sequence, timestamp);
            return Outcome.New;
        }

        if (!InWindow(sequence))
        {
            Reset(sequence, timestamp, received);
            return Outcome.Restart;
        }

        if (Seen(sequence, out int slot))
        {
            if (_timestamps[slot] == timestamp)
            {
                return Outcome.Duplicate;
            }

            Reset(sequence, timestamp, received);
            return Outcome.Restart;
        }

        Mark(sequence, timestamp);
        return sequence > _start ? Outcome.Late : Outcome.LateBeforeStart;
    }

    // The most numbers a sender could have used between its highest record and this one: one per
    // microsecond that passed by its timestamps and by the receiver's clock (the smaller), plus a
    // burst allowance. Saturating: no overflow whatever arrives.
    private ulong MostPlausibleGap(ulong timestamp, ulong received)
    {
        ulong bySender = timestamp > _highestTimestamp ? timestamp - _highestTimestamp : 0;
        ulong byReceiver = received > _highestReceived ? received - _highestReceived : 0;
        ulong elapsed = Math.Min(bySender, byReceiver);
        return elapsed > ulong.MaxValue - BurstAllowance ? ulong.MaxValue : elapsed + BurstAllowance;
    }

    private bool InWindow(ulong sequence) => _started && sequence <= _highest && _highest - sequence < Window;

    private bool Seen(ulong sequence, out int slot)
    {
        slot = (int)(sequence % Window);
        return ((_valid >> slot) & 1) != 0 && _sequences[slot] == sequence;
    }

    private void Mark(ulong sequence, ulong timestamp)
    {
        int slot = (int)(sequence % Window);
        _sequences[slot] = sequence;
        _timestamps[slot] = timestamp;
        _valid |= 1UL << slot;
    }

    private void Reset(ulong sequence, ulong timestamp, ulong received)
    {
        _valid = 0;
        _started = true;
        _highest = sequence;
        _highestTimestamp = timestamp;
        _highestReceived = received;
        _start = sequence;
        Mark(sequence, timestamp);
    }
}
