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

    private string? _spoolDirectory;

    /// <summary>
    /// Replay buffer: a directory where what waits in the buffer is also written, so that records
    /// a crash would lose (the process killed while its target could not send) are sent by the
    /// next process of this target. The default is <see langword="null"/>: no spool. Needs the
    /// replay buffer. A relative path is made absolute when set; the directory is created when
    /// the first record waits.
    /// </summary>
    /// <remarks>
    /// <para>
    /// While records wait, the target keeps one file there (named after the target's
    /// <see cref="Name"/> and the process id), locked by the process; a record is appended to it
    /// when it starts waiting, marked sent when it goes, and the file is deleted when nothing
    /// waits. A process killed while appending leaves a record cut short, which the next process
    /// recognises (CRC) and leaves out: a record arrives whole or not at all. Records are written,
    /// not synced: they survive the death of the process, not a power loss.
    /// </para>
    /// <para>
    /// When a target with a spool directory first sends (or waits for its device), it takes the
    /// files of its own name left there by processes that are gone, puts their records first in
    /// its buffer and deletes the files. Those records keep their sequence numbers, timestamps and
    /// flags, and (in the extended format) gain the dictionary line
    /// <c>replayed_from_pid=PID</c>; a signed record is signed again when the target has the key
    /// it was signed with, else sent as it was, without the line. They count in
    /// <see cref="TargetStatistics.RecordsFromSpool"/>. Delivery is at least once: a process
    /// killed between sending a record and marking it sent sends it again next time.
    /// </para>
    /// <para>
    /// The target's name identifies its spool: give targets of one application the same names
    /// from run to run (the default names, cmdline0, cmdline1, ..., follow their order), and
    /// give different applications different directories or names. Several processes of one
    /// application may share the directory: each keeps its own file. A target disabled or
    /// removed by the operator drops what waits and deletes its file; a disposed
    /// <see cref="TargetManager"/> leaves the file for the next process. Failures to write the
    /// spool never reach the application: they are counted in
    /// <see cref="TargetStatistics.SpoolErrors"/>, and the records stay in memory.
    /// </para>
    /// </remarks>
    /// <exception cref="NetconsoleConfigurationException">The value is not a usable path.</exception>
    public string? SpoolDirectory
    {
        get => _spoolDirectory;
        set
        {
            if (string.IsNullOrEmpty(value))
            {
                _spoolDirectory = null;
                return;
            }

            try
            {
                _spoolDirectory = Path.GetFullPath(value);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw NetconsoleConfigurationException.ForValue(value, $"a spool directory must be a path ({e.Message})", "/var/spool/myapp/netconsole", nameof(SpoolDirectory));
            }
        }
    }
}
