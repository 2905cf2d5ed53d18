using System.Globalization;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// Options of <see cref="NetconsoleLoggerProvider"/>, bound from the <c>Logging:Netconsole</c>
/// configuration section by <c>AddNetconsole()</c>. Setters reject values that are wrong on their own.
/// </summary>
/// <remarks>
/// <para>
/// Live reload (through <c>IOptionsMonitor</c>): <see cref="Facility"/>, <see cref="QueueFullMode"/>,
/// <see cref="MaxQueueLength"/>, <see cref="IncludeScopes"/>, <see cref="MaxDictionaryValueBytes"/>,
/// <see cref="DisposeTimeout"/>, <see cref="CaptureUnhandledExceptions"/> and
/// <see cref="CrashFlushTimeout"/> take effect on the next record. The targets (<see cref="Targets"/>, <see cref="TargetOptions"/>) and
/// <see cref="ManagerOptions"/> are read once, when the provider is created: changing them needs a
/// restart (use <see cref="NetconsoleLoggerProvider.Manager"/> to change targets at run time).
/// A reload with an invalid value is ignored (the previous options stay in force).
/// </para>
/// </remarks>
public sealed class NetconsoleLoggerOptions
{
    /// <summary>The default of <see cref="MaxDictionaryValueBytes"/>, 256 bytes.</summary>
    internal const int DefaultMaxDictionaryValueBytes = 256;

    /// <summary>The smallest cap on a dictionary value other than 0 (no cap), 64 bytes: room for the marker and the value's start.</summary>
    internal const int SmallestMaxDictionaryValueBytes = 64;

    /// <summary>The largest cap on a dictionary value, 8191 bytes: the most a record holds at netconsd.</summary>
    internal const int LargestMaxDictionaryValueBytes = 8191;

    private int _facility = NetconsoleTargetOptions.DefaultFacility;
    private NetconsoleQueueFullMode _queueFullMode = NetconsoleQueueFullMode.DropWrite;
    private int _maxQueueLength = 10_000;
    private int _maxDictionaryValueBytes = DefaultMaxDictionaryValueBytes;
    private TimeSpan _disposeTimeout = TimeSpan.FromSeconds(5);
    private TimeSpan _crashFlushTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Targets in the kernel's <c>netconsole=</c> syntax, for example <c>+@/lo,@::1/</c> (see
    /// <see cref="NetconsoleTargetOptions.Parse"/>); an entry may hold several separated by <c>;</c>
    /// (<see cref="NetconsoleTargetOptions.ParseMany"/>). The default is empty. Configuration:
    /// <c>"Targets": [ "+@/lo,@::1/" ]</c>. Read once, at construction.
    /// </summary>
    public IList<string> Targets { get; } = new List<string>();

    /// <summary>Targets as option objects, added after <see cref="Targets"/>. The default is empty. Read once, at construction.</summary>
    public IList<NetconsoleTargetOptions> TargetOptions { get; } = new List<NetconsoleTargetOptions>();

    /// <summary>
    /// The syslog facility of every record the provider sends, 0 (kern) to 23 (local7). The
    /// default is 1 (user). It is carried by each record, so it takes precedence over
    /// <see cref="NetconsoleTargetOptions.Facility"/> (the kernel syntax has no facility; that
    /// option applies to records sent through <see cref="TargetManager.Send"/> without their own).
    /// Live.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0-23.</exception>
    public int Facility
    {
        get => _facility;
        set => _facility = value is >= 0 and <= 23
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A facility is 0 (kern) to 23 (local7).");
    }

    /// <summary>
    /// What happens to a record logged while the queue holds <see cref="MaxQueueLength"/> records.
    /// The default is <see cref="NetconsoleQueueFullMode.DropWrite"/>: logging never blocks the
    /// application; drops are counted and announced to the targets in drop notices (at most one
    /// per 100 ms while the queue stays busy). Live.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined mode.</exception>
    public NetconsoleQueueFullMode QueueFullMode
    {
        get => _queueFullMode;
        set => _queueFullMode = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The queue-full mode is Wait or DropWrite.");
    }

    /// <summary>
    /// The most records waiting for the sender thread, at least 1 (values above 2^30 count as
    /// 2^30). The default is 10 000 records. Live: a new value applies to the next record logged.
    /// A larger one lets more records wait at once (the queue's storage grows as records arrive,
    /// from 32 slots up, whatever the value it started with, and shrinks back once the sender has
    /// been idle for 5 seconds) and frees logging threads waiting for room; a smaller one keeps the records
    /// already queued and refuses new ones (per <see cref="QueueFullMode"/>) until fewer than the new
    /// value are waiting.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxQueueLength
    {
        get => _maxQueueLength;
        set => _maxQueueLength = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The queue holds at least 1 record.");
    }

    /// <summary>
    /// How long disposing the provider waits for the queue to drain before giving up on what is
    /// left (counted in <see cref="NetconsoleLoggerStatistics.RecordsDroppedDisposed"/>); also how
    /// long a process that exits without disposing it (returning from <c>Main</c>,
    /// <see cref="Environment.Exit"/>, SIGTERM) waits, in <see cref="AppDomain.ProcessExit"/>, for
    /// the records queued to be handed to the targets. Zero or more. The default is 5 seconds. Live.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan DisposeTimeout
    {
        get => _disposeTimeout;
        set => _disposeTimeout = NotNegative(value);
    }

    /// <summary>
    /// Whether extended targets get the logger's scopes as <c>SCOPE=</c> dictionary lines (and the
    /// key/value pairs of structured scopes). The default is <see langword="true"/>. Live.
    /// </summary>
    public bool IncludeScopes { get; set; } = true;

    /// <summary>
    /// The most bytes (UTF-8, before escaping) of one dictionary value taken from a log call: each
    /// value of the structured state and of the scopes (<c>SCOPE=</c> texts and their pairs), on
    /// extended targets. A longer value is cut between characters and ends with the marker
    /// <c>[+N bytes]</c>, N being the bytes left out; the kept text and the marker together take
    /// at most this many bytes. Each value cut is counted in
    /// <see cref="NetconsoleLoggerStatistics.DictionaryValuesTruncated"/>. The message text is never
    /// cut (it already shows the value whole), nor are <c>CATEGORY=</c>, <c>EVENT_ID=</c> and
    /// <c>EVENT_NAME=</c>. The default is 256: a log call with a large argument stays one record
    /// at netconsd (8191 bytes per record) instead of carrying the argument twice and becoming a
    /// continued group. 0 turns the cap off; otherwise 64 to 8191. Live.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is neither 0 nor 64 to 8191.</exception>
    public int MaxDictionaryValueBytes
    {
        get => _maxDictionaryValueBytes;
        set => _maxDictionaryValueBytes = value is 0 or (>= SmallestMaxDictionaryValueBytes and <= LargestMaxDictionaryValueBytes)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A dictionary value cap is 0 (no cap) or 64 to 8191 bytes.");
    }

    /// <summary>
    /// Whether the provider reports crashes: an unhandled exception (<see cref="AppDomain.UnhandledException"/>)
    /// is sent at level 0 (emerg) and an unobserved task exception
    /// (<see cref="TaskScheduler.UnobservedTaskException"/>) at level 3 (err), each after draining
    /// the queue, within <see cref="CrashFlushTimeout"/>. The default is <see langword="false"/>. Live.
    /// </summary>
    public bool CaptureUnhandledExceptions { get; set; }

    /// <summary>
    /// The longest a crash report waits for the queue to drain (and for a send in progress)
    /// before sending the crash record. Zero or more. The default is 2 seconds. Live.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan CrashFlushTimeout
    {
        get => _crashFlushTimeout;
        set => _crashFlushTimeout = NotNegative(value);
    }

    /// <summary>
    /// Creates the options of the provider's <see cref="TargetManager"/> (device watcher, transport
    /// factory, clock), for tests and embedders. The default is <see langword="null"/>: the manager's
    /// defaults (the platform's device watcher, libpcap). Called once, at construction.
    /// </summary>
    public Func<TargetManagerOptions>? ManagerOptions { get; set; }

    /// <summary>
    /// The sequence number before the provider's first record, or <see langword="null"/> (the
    /// default) for the monotonic clock when the provider is created. Tests fix it so sequence
    /// numbers are exact. Read once, at construction.
    /// </summary>
    internal ulong? SequenceBase { get; set; }

    /// <summary>
    /// The clock of the interval between drop notices (at most one per 100 ms, see
    /// <see cref="NetconsoleLoggerProcessor.DropNoticeInterval"/>), or <see langword="null"/> (the
    /// default) for <see cref="TimeProvider.System"/>. Tests move a manual clock so coalescing is
    /// exact. Read once, at construction.
    /// </summary>
    internal TimeProvider? DropNoticeClock { get; set; }

    /// <summary>The first configuration error found while binding (kept here so a reload never throws on a watcher thread).</summary>
    internal NetconsoleConfigurationException? ConfigurationError { get; set; }

    /// <summary>
    /// The targets to add, in order: each <see cref="Targets"/> entry parsed (named
    /// <c>cmdline0</c>, <c>cmdline1</c> ... across all entries), then <see cref="TargetOptions"/> validated.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">An entry is invalid; the message names it (for example <c>NetconsoleLoggerOptions.Targets[1]</c>) and why.</exception>
    internal List<NetconsoleTargetOptions> ResolveTargets()
    {
        var targets = new List<NetconsoleTargetOptions>();
        int commandLineTargets = 0;
        for (int i = 0; i < Targets.Count; i++)
        {
            string? value = Targets[i];
            try
            {
                // Each entry is parsed on its own, so number the cmdlineN names across all entries.
                foreach (NetconsoleTargetOptions target in NetconsoleTargetOptions.ParseMany(value ?? string.Empty))
                {
                    target.Name = string.Create(CultureInfo.InvariantCulture, $"{NetconsoleTargetOptions.CommandLineNamePrefix}{commandLineTargets++}");
                    targets.Add(target);
                }
            }
            catch (NetconsoleConfigurationException e)
            {
                throw new NetconsoleConfigurationException($"Invalid netconsole logging option {nameof(NetconsoleLoggerOptions)}.{nameof(NetconsoleLoggerOptions.Targets)}[{i}]: {e.Message}", e);
            }
        }

        for (int i = 0; i < TargetOptions.Count; i++)
        {
            NetconsoleTargetOptions target = TargetOptions[i]
                ?? throw new NetconsoleConfigurationException($"Invalid netconsole logging option {nameof(NetconsoleLoggerOptions)}.{nameof(NetconsoleLoggerOptions.TargetOptions)}[{i}]: the entry is null.");
            try
            {
                target.Validate();
            }
            catch (NetconsoleConfigurationException e)
            {
                throw new NetconsoleConfigurationException($"Invalid netconsole logging option {nameof(NetconsoleLoggerOptions)}.{nameof(NetconsoleLoggerOptions.TargetOptions)}[{i}]: {e.Message}", e);
            }

            targets.Add(target);
        }

        return targets;
    }

    private static TimeSpan NotNegative(TimeSpan value) => value >= TimeSpan.Zero
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "A time limit is zero or more.");
}
