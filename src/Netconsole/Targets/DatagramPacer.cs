namespace Netconsole.Targets;

/// <summary>
/// A target's pacing (<see cref="NetconsoleTargetOptions.MaxDatagramsPerSecond"/>): a token bucket
/// of <c>burst</c> tokens that gains <c>rate</c> tokens a second, one token per datagram. A record
/// takes one token to start (<see cref="TryTake"/>) and pays for its other datagrams once it is
/// formatted (<see cref="Charge"/>), which may leave the bucket in debt: the next record then waits
/// until the debt is paid. Safe to use from several threads.
/// </summary>
/// <remarks>
/// Kept as the time the next datagram is due (the generic cell rate algorithm), in the clock's
/// ticks multiplied by the rate, so every step is exact integer arithmetic: no rounding drift,
/// and waits a test can predict to the tick.
/// </remarks>
internal sealed class DatagramPacer
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _clock;
    private readonly long _rate;
    private readonly Int128 _interval;   // one datagram's time: the clock's frequency (ticks x rate)
    private readonly Int128 _tolerance;  // how far ahead of now the due time may run: burst - 1 intervals
    private Int128 _due;                 // when the next datagram is due, ticks x rate; at or before now: the bucket is full

    public DatagramPacer(int datagramsPerSecond, int burst, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(datagramsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _clock = clock;
        _rate = datagramsPerSecond;
        _interval = clock.TimestampFrequency;
        _tolerance = (burst - 1) * _interval;
        _due = Int128.MinValue;
    }

    /// <summary>The pacer the options ask for, or <see langword="null"/> when they set no limit.</summary>
    public static DatagramPacer? For(NetconsoleTargetOptions options, TimeProvider clock) =>
        options.MaxDatagramsPerSecond > 0 ? new DatagramPacer(options.MaxDatagramsPerSecond, options.MaxDatagramBurst, clock) : null;

    /// <summary>Takes the token of a record's first datagram when there is one.</summary>
    /// <returns><see cref="TimeSpan.Zero"/> when the token was taken; otherwise how long until there is one (nothing taken).</returns>
    public TimeSpan TryTake()
    {
        lock (_lock)
        {
            Int128 now = (Int128)_clock.GetTimestamp() * _rate;
            Int128 due = _due > now ? _due : now;
            Int128 ahead = due - now;
            if (ahead <= _tolerance)
            {
                _due = due + _interval;
                return TimeSpan.Zero;
            }

            // Rounded up, so that after the wait the token is there.
            Int128 divisor = _rate * (Int128)_clock.TimestampFrequency;
            Int128 ticks = (((ahead - _tolerance) * TimeSpan.TicksPerSecond) + divisor - 1) / divisor;
            return TimeSpan.FromTicks(ticks > long.MaxValue ? long.MaxValue : (long)ticks);
        }
    }

    /// <summary>Pays for <paramref name="datagrams"/> more datagrams of the record whose first one <see cref="TryTake"/> let go.</summary>
    public void Charge(int datagrams)
    {
        if (datagrams <= 0)
        {
            return;
        }

        lock (_lock)
        {
            _due += datagrams * _interval;
        }
    }
}
