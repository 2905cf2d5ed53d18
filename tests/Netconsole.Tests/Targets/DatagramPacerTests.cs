using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>
/// The token bucket behind a target's pacing, on a clock the test moves: a full bucket lets a
/// burst go at once, then one datagram per interval; a record pays for all its datagrams; waits
/// are exact and rounded up, and rounding never adds up to drift.
/// </summary>
public class DatagramPacerTests
{
    private readonly ManualClock _clock = new(frequency: 1_000_000_000);

    private static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    [Fact]
    public void A_full_bucket_lets_a_burst_go_at_once_then_one_datagram_per_interval()
    {
        var pacer = new DatagramPacer(datagramsPerSecond: 10, burst: 3, _clock);

        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(Ms(100), "the bucket is empty: the next token comes in a tenth of a second");
        pacer.TryTake().Should().Be(Ms(100), "asking again takes nothing");

        _clock.Advance(Ms(99));
        pacer.TryTake().Should().Be(Ms(1));
        _clock.Advance(Ms(1));
        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(Ms(100));
    }

    [Fact]
    public void A_quiet_time_fills_the_bucket_up_to_the_burst_only()
    {
        var pacer = new DatagramPacer(datagramsPerSecond: 10, burst: 3, _clock);
        pacer.TryTake();

        _clock.Advance(TimeSpan.FromHours(1));

        Enumerable.Range(0, 3).Select(_ => pacer.TryTake()).ToArray().Should().AllBeEquivalentTo(TimeSpan.Zero);
        pacer.TryTake().Should().Be(Ms(100), "an hour of silence is worth the burst, not 36000 datagrams");
    }

    [Fact]
    public void A_record_of_several_datagrams_goes_whole_and_the_next_one_waits_until_all_are_paid_for()
    {
        var pacer = new DatagramPacer(datagramsPerSecond: 10, burst: 1, _clock);

        pacer.TryTake().Should().Be(TimeSpan.Zero, "a record waits for one token only");
        pacer.Charge(4);

        pacer.TryTake().Should().Be(Ms(500), "five datagrams went out: the bucket owes four more tokens than it had");
    }

    [Fact]
    public void A_record_larger_than_the_burst_is_not_refused()
    {
        var pacer = new DatagramPacer(datagramsPerSecond: 1000, burst: 5, _clock);

        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.Charge(99);

        pacer.TryTake().Should().Be(Ms(96), "as if the 100 datagrams had gone at the pace (5 at once, then one a millisecond until 95 ms): the next one goes at 96 ms");
    }

    // A sender wakes a little after the time it was told (here: the rounding to the tick). With a
    // burst of 2 the bucket has room for that lateness, so the pace holds exactly; with a burst of
    // 1 a late wake is time lost, as in any token bucket that is full.
    [Fact]
    public void Waits_are_rounded_up_to_the_tick_and_never_drift()
    {
        var pacer = new DatagramPacer(datagramsPerSecond: 3, burst: 2, _clock);
        long start = _clock.GetTimestamp();
        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(TimeSpan.Zero);

        for (int i = 0; i < 3000; i++)
        {
            TimeSpan wait = pacer.TryTake();
            wait.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromTicks(3_333_334), "at most a third of a second, rounded up to the next 100 ns tick");
            _clock.Advance(wait);
            pacer.TryTake().Should().Be(TimeSpan.Zero, "after the wait it said, the token is there");
        }

        long elapsed = _clock.GetTimestamp() - start;
        elapsed.Should().BeInRange(1_000_000_000_000, 1_000_000_000_100,
            "3000 datagrams after the burst, at 3 a second, take 1000 s (nanoseconds here): the rounding of each wait does not add up");
    }

    [Fact]
    public void A_coarse_clock_gives_the_same_schedule()
    {
        var clock = new ManualClock(frequency: 1000);
        var pacer = new DatagramPacer(datagramsPerSecond: 400, burst: 1, clock);

        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(TimeSpan.FromTicks(25_000), "2.5 ms, although the clock counts whole milliseconds");
        clock.Advance(Ms(2));
        pacer.TryTake().Should().Be(Ms(0.5));
        clock.Advance(Ms(1));
        pacer.TryTake().Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void The_options_ask_for_a_pacer_only_with_a_rate()
    {
        var options = new NetconsoleTargetOptions();
        DatagramPacer.For(options, _clock).Should().BeNull("no limit is the default");

        options.MaxDatagramsPerSecond = 5;
        options.MaxDatagramBurst = 2;
        DatagramPacer pacer = DatagramPacer.For(options, _clock)!;

        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(TimeSpan.Zero);
        pacer.TryTake().Should().Be(Ms(200));
    }
}

/// <summary>A clock tests move by hand, at a frequency they choose.</summary>
internal sealed class ManualClock(long frequency) : TimeProvider
{
    private long _ticks = 5 * frequency;

    public override long TimestampFrequency => frequency;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) =>
        Interlocked.Add(ref _ticks, (long)Math.Round(by.Ticks * (decimal)frequency / TimeSpan.TicksPerSecond, MidpointRounding.AwayFromZero));
}
