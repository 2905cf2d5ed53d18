namespace Netconsole.Targets;

public sealed partial class NetconsoleTargetOptions
{
    /// <summary>The default of <see cref="MaxDatagramBurst"/>: 50 datagrams.</summary>
    /// <remarks>
    /// Each datagram costs a receiver's socket buffer its payload plus the kernel's per-packet
    /// overhead, 1 to 4 KiB for a datagram of at most 1000 bytes depending on the network driver:
    /// 50 of them fit in what netconsd gets by default (<c>net.core.rmem_default</c>, 208 KiB on
    /// most systems), so a burst arriving while the receiver is busy for a moment is not dropped.
    /// </remarks>
    public const int DefaultMaxDatagramBurst = 50;

    /// <summary>The highest <see cref="MaxDatagramsPerSecond"/>: a million datagrams a second, beyond any link netconsole is used on.</summary>
    internal const int MaxPacingRate = 1_000_000;

    /// <summary>The highest <see cref="MaxDatagramBurst"/>.</summary>
    internal const int MaxPacingBurst = 1_000_000;

    private int _maxDatagramsPerSecond;
    private int _maxDatagramBurst = DefaultMaxDatagramBurst;

    /// <summary>
    /// Pacing: at most this many datagrams a second to this target, on average, with bursts of up to
    /// <see cref="MaxDatagramBurst"/>; 0 for no limit. The default is 0 (no limit).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Receivers lose datagrams when a burst overflows their socket buffer (netconsd keeps the
    /// system's default, <c>net.core.rmem_default</c>). Pacing spreads a burst out at the sender: a
    /// token bucket that holds <see cref="MaxDatagramBurst"/> tokens and gains this many a second.
    /// </para>
    /// <para>
    /// The unit is the datagram, because that is what fills a receiver's buffer: an ordinary record is
    /// one datagram; a record sent as <c>ncfrag</c> fragments, or as a continued group, takes one
    /// token per datagram. A record is never split by the wait: it waits for one token and goes
    /// out whole (netconsd stops waiting for a record's missing fragments 200 ms after its first
    /// one), and the records after it wait until all its datagrams are paid for.
    /// </para>
    /// <para>
    /// Over the limit, the thread that sends waits for a token: the caller of
    /// <see cref="TargetManager.Send"/> or <see cref="NetconsoleTarget.TrySend"/>, or the logging
    /// provider's sender thread, whose queue then fills and applies its full-queue rule. A wait ends
    /// early, and the record is dropped as not sent, when the target is disabled, deactivated or its
    /// manager disposed. Waits are about a millisecond at the finest: above 1000 datagrams a second,
    /// give a burst of at least a thousandth of the rate, or the rate reached is lower.
    /// </para>
    /// </remarks>
    /// <exception cref="NetconsoleConfigurationException">The value is negative or above 1,000,000.</exception>
    public int MaxDatagramsPerSecond
    {
        get => _maxDatagramsPerSecond;
        set => _maxDatagramsPerSecond = CheckRange(value, 0, MaxPacingRate, "a pacing rate is 0 (no limit) to 1000000 datagrams a second", 1000, nameof(MaxDatagramsPerSecond));
    }

    /// <summary>
    /// Pacing: how many datagrams may go out at once after a quiet time, when
    /// <see cref="MaxDatagramsPerSecond"/> is set (ignored otherwise). The default is
    /// <see cref="DefaultMaxDatagramBurst"/> (50). See <see cref="MaxDatagramsPerSecond"/>.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The value is below 1 or above 1,000,000.</exception>
    public int MaxDatagramBurst
    {
        get => _maxDatagramBurst;
        set => _maxDatagramBurst = CheckRange(value, 1, MaxPacingBurst, "a pacing burst is 1 to 1000000 datagrams", DefaultMaxDatagramBurst, nameof(MaxDatagramBurst));
    }
}
