using System.Globalization;

namespace Netconsole.Targets;

public sealed partial class NetconsoleTargetOptions
{
    /// <summary>The default of <see cref="ReplayBufferMaxRecords"/>: 10,000 records.</summary>
    public const int DefaultReplayBufferMaxRecords = 10_000;

    /// <summary>The default of <see cref="ReplayBufferMaxBytes"/>: 4 MiB.</summary>
    public const int DefaultReplayBufferMaxBytes = 4 * 1024 * 1024;

    /// <summary>The highest <see cref="ReplayBufferMaxRecords"/>.</summary>
    internal const int MaxReplayRecords = 10_000_000;

    /// <summary>The highest <see cref="ReplayBufferMaxBytes"/>: 1 GiB.</summary>
    internal const int MaxReplayBytes = 1024 * 1024 * 1024;

    /// <summary>The highest <see cref="ReplayBufferMaxAge"/>: a day.</summary>
    internal static readonly TimeSpan MaxReplayAge = TimeSpan.FromDays(1);

    /// <summary>The default of <see cref="ReplayBufferMaxAge"/>: 10 minutes.</summary>
    public static TimeSpan DefaultReplayBufferMaxAge { get; } = TimeSpan.FromMinutes(10);

    private int _replayBufferMaxRecords = DefaultReplayBufferMaxRecords;
    private int _replayBufferMaxBytes = DefaultReplayBufferMaxBytes;
    private TimeSpan _replayBufferMaxAge = DefaultReplayBufferMaxAge;

    /// <summary>True when the replay buffer is on: every limit above 0.</summary>
    internal bool ReplayBufferEnabled => _replayBufferMaxRecords > 0 && _replayBufferMaxBytes > 0 && _replayBufferMaxAge > TimeSpan.Zero;

    /// <summary>
    /// Replay buffer: at most this many records wait while the target cannot send; 0 turns the
    /// buffer off (records are then dropped at once, as the kernel does). The default is
    /// <see cref="DefaultReplayBufferMaxRecords"/> (10,000 records).
    /// </summary>
    /// <remarks>
    /// <para>
    /// While the target is deactivated (its device gone, without carrier, its transport lost) or
    /// its device refuses frames (set down, a transmit error), a record offered to it is formatted
    /// at once (its sequence number and timestamp are fixed then) and waits in the buffer instead
    /// of being dropped. When the target can send again, the buffered records go out first, in
    /// order, paced (<see cref="MaxDatagramsPerSecond"/> when set, else 5,000 datagrams a second
    /// in bursts of <see cref="DefaultMaxDatagramBurst"/>), through the new session's frame
    /// template; records offered meanwhile queue behind them.
    /// </para>
    /// <para>
    /// Beyond <see cref="ReplayBufferMaxRecords"/> or <see cref="ReplayBufferMaxBytes"/> the oldest
    /// record is dropped, counted as <see cref="TargetDropReason.ReplayBufferFull"/>; a record that
    /// waited longer than <see cref="ReplayBufferMaxAge"/> is dropped as
    /// <see cref="TargetDropReason.ReplayExpired"/>. The receiver sees those as a gap. A disabled
    /// target buffers nothing: the operator's disable drops what is buffered (counted as
    /// <see cref="TargetDropReason.Disabled"/>).
    /// </para>
    /// <para>
    /// <see cref="TargetManager.Reconfigure"/> keeps what waits within the new limits (the oldest
    /// beyond them dropped as <see cref="TargetDropReason.ReplayBufferFull"/>, all of it when the
    /// buffer is turned off); records already buffered keep the format they were offered in.
    /// Expiry is checked when the buffer is next used (a record is offered, or the replay runs).
    /// </para>
    /// </remarks>
    /// <exception cref="NetconsoleConfigurationException">The value is negative or above 10,000,000.</exception>
    public int ReplayBufferMaxRecords
    {
        get => _replayBufferMaxRecords;
        set => _replayBufferMaxRecords = CheckRange(value, 0, MaxReplayRecords, "a replay buffer holds 0 (off) to 10000000 records", DefaultReplayBufferMaxRecords, nameof(ReplayBufferMaxRecords));
    }

    /// <summary>
    /// Replay buffer: at most this many bytes of formatted datagrams wait (each datagram counts
    /// its payload and 2 bytes); 0 turns the buffer off. The default is
    /// <see cref="DefaultReplayBufferMaxBytes"/> (4 MiB). See <see cref="ReplayBufferMaxRecords"/>.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The value is negative or above 1 GiB (1073741824).</exception>
    public int ReplayBufferMaxBytes
    {
        get => _replayBufferMaxBytes;
        set => _replayBufferMaxBytes = CheckRange(value, 0, MaxReplayBytes, "a replay buffer holds 0 (off) to 1073741824 bytes", DefaultReplayBufferMaxBytes, nameof(ReplayBufferMaxBytes));
    }

    /// <summary>
    /// Replay buffer: a record that waited longer than this is dropped rather than replayed (a
    /// receiver would print it long after the fact); <see cref="TimeSpan.Zero"/> turns the buffer
    /// off. The default is <see cref="DefaultReplayBufferMaxAge"/> (10 minutes). See
    /// <see cref="ReplayBufferMaxRecords"/>.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The value is negative or above a day.</exception>
    public TimeSpan ReplayBufferMaxAge
    {
        get => _replayBufferMaxAge;
        set => _replayBufferMaxAge = value >= TimeSpan.Zero && value <= MaxReplayAge
            ? value
            : throw NetconsoleConfigurationException.ForValue(
                value.ToString("c", CultureInfo.InvariantCulture),
                "a replay buffer's age limit is 00:00:00 (off) to 1.00:00:00 (a day)",
                "00:10:00",
                nameof(ReplayBufferMaxAge));
    }
}
