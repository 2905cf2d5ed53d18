using System.Globalization;
using System.Text;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Logging;

/// <summary>
/// Options of <see cref="NetconsoleLoggerProvider"/>, bound from the <c>Logging:Netconsole</c>
/// configuration section by <c>AddNetconsole()</c>. Setters reject values that are wrong on their own.
/// </summary>
/// <remarks>
/// <para>
/// Live reload (through <c>IOptionsMonitor</c>): <see cref="Facility"/>, <see cref="QueueFullMode"/>,
/// <see cref="MaxQueueLength"/>, <see cref="IncludeScopes"/>, <see cref="MaxDictionaryValueBytes"/>,
/// <see cref="DisposeTimeout"/>, <see cref="CaptureUnhandledExceptions"/>, <see cref="DiagnosticsToStandardError"/> and
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
    private NetconsoleStandardErrorMode _diagnosticsToStandardError;

    /// <summary>
    /// Targets in the kernel's <c>netconsole=</c> syntax, for example <c>+@/lo,@::1/</c> (see
    /// <see cref="NetconsoleTargetOptions.Parse"/>); an entry may hold several separated by <c>;</c>
    /// (<see cref="NetconsoleTargetOptions.ParseMany"/>). The default is empty. Configuration:
    /// <c>"Targets": [ "+@/lo,@::1/" ]</c>; the strings of <c>Logging:Netconsole:Targets</c> are
    /// added here, its objects to <see cref="TargetOptions"/>. A target that sends to the same
    /// device, address and port as one before it (here or in <see cref="TargetOptions"/>, given
    /// in code and in configuration) is left out, with a warning. Read once, at construction.
    /// </summary>
    public IList<string> Targets { get; } = new List<string>();

    /// <summary>
    /// Targets as option objects, added after <see cref="Targets"/>. The default is empty.
    /// Configuration: the objects of <c>Logging:Netconsole:Targets</c>, whose keys are the
    /// properties of <see cref="NetconsoleTargetOptions"/>, are added here. A target without a
    /// name is named <c>target0</c>, <c>target1</c>, ... Read once, at construction.
    /// </summary>
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
    /// Whether a watchdog process reports the application's death, however it happens: killed
    /// (SIGKILL, the OOM killer), a stack overflow, a native crash, <see cref="Environment.FailFast(string)"/>.
    /// When the provider is created it starts a small companion process (Netconsole.Watchdog.dll,
    /// shipped in this package, run by the application's own dotnet host) that shares a memory
    /// ring with the application: each record is written there as it is queued (memory writes
    /// only, no system call). When the application dies without shutting the provider down, the
    /// watchdog sends the records it had queued and not yet sent, in order, with their sequence
    /// numbers, then one record at level 2 (crit), category <c>Netconsole.Death</c>, naming the
    /// cause (signal number and name, exit code, core dump), and exits. On a clean end (disposal,
    /// process exit) it ends silently. Linux only (other platforms: a diagnostic, nothing else);
    /// framework-dependent applications only (Native AOT and single-file: a diagnostic). The
    /// provider's creation waits until the watchdog watches (about 0.1 to 0.2 s); a watchdog
    /// that cannot start is reported through the provider's diagnostics, never thrown. The ring
    /// keeps a record's text up to about 230 characters (cut and marked <c>[+N chars]</c>), an
    /// exception's type and message (not its stack trace), category, event id and name, thread and
    /// CPU; not scopes nor state pairs. The watchdog sets up the targets of the configuration with
    /// the manager's defaults (the platform's transport and device watcher): <see cref="ManagerOptions"/>
    /// is not passed on, nor targets added later through <see cref="NetconsoleLoggerProvider.Manager"/>.
    /// The default is <see langword="false"/>. Read once, at construction.
    /// </summary>
    public bool CaptureProcessDeath { get; set; }

    /// <summary>
    /// When the provider's diagnostics (a target that cannot send and why, a configuration
    /// problem) are written to standard error. The default is <see cref="NetconsoleStandardErrorMode.Auto"/>:
    /// problems go there when no other logger provider of the application shows the
    /// <c>Netconsole.Diagnostics</c> category, so a misconfigured app says so with no extra code.
    /// The other channels (that category, the <c>Netconsole-Logging</c> EventSource, the
    /// <c>netconsole.targets</c> metric, <see cref="NetconsoleHealthCheck"/>) do not depend on it. Live.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined mode.</exception>
    public NetconsoleStandardErrorMode DiagnosticsToStandardError
    {
        get => _diagnosticsToStandardError;
        set => _diagnosticsToStandardError = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The standard error mode is Auto, Always or Never.");
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

    /// <summary>Where standard error is for the provider's diagnostics; null for <see cref="Console.Error"/> (tests give their own).</summary>
    internal Func<TextWriter>? StandardError { get; set; }

    /// <summary>
    /// The clock of the interval between drop notices (at most one per 100 ms, see
    /// <see cref="NetconsoleLoggerProcessor.DropNoticeInterval"/>), or <see langword="null"/> (the
    /// default) for <see cref="TimeProvider.System"/>. Tests move a manual clock so coalescing is
    /// exact. Read once, at construction.
    /// </summary>
    internal TimeProvider? DropNoticeClock { get; set; }

    /// <summary>
    /// The most entries the sender takes from the queue into one run (1 to
    /// <see cref="LogRecordWriter.RunLength"/>, the default). Tests that run the sender in lock
    /// step, one record per frame, set 1. Read once, at construction.
    /// </summary>
    internal int SenderRunLength { get; set; } = LogRecordWriter.RunLength;

    /// <summary>The first configuration error found while binding (kept here so a reload never throws on a watcher thread).</summary>
    internal NetconsoleConfigurationException? ConfigurationError { get; set; }

    /// <summary>
    /// What the binder ignored, one complete sentence each, naming the full key: keys under
    /// <c>Logging:Netconsole</c> and in target objects that are not options (with the option
    /// meant when one is close). Not errors: the provider starts; its diagnostics report them.
    /// </summary>
    internal List<string> ConfigurationWarnings { get; } = [];

    /// <summary>
    /// The targets to add, in order: each <see cref="Targets"/> entry parsed (named
    /// <c>cmdline0</c>, <c>cmdline1</c> ... across all entries), then <see cref="TargetOptions"/>
    /// validated (one without a name is named <c>target0</c>, <c>target1</c> ..., skipping the
    /// names other targets have, as <see cref="TargetManager.Add"/> would). Names are given
    /// first, then a target that sends where an earlier one does (<see cref="SameDestination"/>)
    /// is left out, with a warning: so every target keeps the name its place gives it, whether
    /// or not one before it was left out.
    /// </summary>
    /// <param name="warnings">Receives a sentence for each target left out.</param>
    /// <exception cref="NetconsoleConfigurationException">
    /// An entry is invalid, or two targets sending to different places have the same name; the
    /// message names the entry (for example <c>NetconsoleLoggerOptions.Targets[1]</c>) and why.
    /// </exception>
    internal List<NetconsoleTargetOptions> ResolveTargets(ICollection<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(warnings);
        var all = new List<(NetconsoleTargetOptions Target, string Entry)>();
        int commandLineTargets = 0;
        for (int i = 0; i < Targets.Count; i++)
        {
            string? value = Targets[i];
            string entry = $"{nameof(Targets)}[{i}]";
            try
            {
                // Each entry is parsed on its own, so number the cmdlineN names across all entries.
                foreach (NetconsoleTargetOptions target in NetconsoleTargetOptions.ParseMany(value ?? string.Empty))
                {
                    target.Name = string.Create(CultureInfo.InvariantCulture, $"{NetconsoleTargetOptions.CommandLineNamePrefix}{commandLineTargets++}");
                    all.Add((target, entry));
                }
            }
            catch (NetconsoleConfigurationException e)
            {
                throw Invalid(entry, e.Message, e);
            }
        }

        for (int i = 0; i < TargetOptions.Count; i++)
        {
            string entry = $"{nameof(TargetOptions)}[{i}]";
            NetconsoleTargetOptions target = TargetOptions[i] ?? throw Invalid(entry, "the entry is null.");
            try
            {
                target.Validate();
            }
            catch (NetconsoleConfigurationException e)
            {
                throw Invalid(entry, e.Message, e);
            }

            all.Add((target, entry));
        }

        NameUnnamed(all);
        var targets = new List<NetconsoleTargetOptions>(all.Count);
        foreach ((NetconsoleTargetOptions target, string entry) in all)
        {
            if (targets.Find(t => SameDestination(t, target)) is { } earlier)
            {
                warnings.Add($"{target.Name} ({target}) sends to the same device, address and port as {earlier.Name} ({earlier}) and was left out.");
                continue;
            }

            if (targets.Find(t => string.Equals(t.Name, target.Name, StringComparison.Ordinal)) is { } namesake)
            {
                throw Invalid(entry, $"the name {target.Name} is taken by another target ({namesake}) that sends elsewhere ({target}): target names are unique.");
            }

            targets.Add(target);
        }

        return targets;
    }

    /// <summary>
    /// Whether two targets send to the same place: the same device binding (both by the same
    /// name, both by the same MAC, or both without a device), the same remote address and the
    /// same remote port. Their records would reach the receiver twice.
    /// </summary>
    internal static bool SameDestination(NetconsoleTargetOptions a, NetconsoleTargetOptions b) =>
        string.Equals(a.DeviceName, b.DeviceName, StringComparison.Ordinal)
        && (a.DeviceMac is null ? b.DeviceMac is null : a.DeviceMac.Equals(b.DeviceMac))
        && Equals(a.RemoteAddress, b.RemoteAddress)
        && a.RemotePort == b.RemotePort;

    /// <summary>
    /// Why a reload's target list cannot take effect, or <see langword="null"/> when it is the
    /// one in force: the targets are read when the provider is created.
    /// </summary>
    /// <param name="current">The options the provider was created with (whose targets are in force), not those of the last reload.</param>
    /// <param name="reloaded">The options of the reload.</param>
    /// <returns>
    /// <see langword="null"/> when both resolve (<see cref="ResolveTargets"/>) to targets that are
    /// the same, in the same order, option for option (<see cref="Describe"/>); also when the
    /// reload is invalid (<see cref="ConfigurationError"/>, or its targets do not resolve), since
    /// such a reload is refused as a whole and reported as such. Otherwise a sentence naming the
    /// targets in force and those the configuration now gives.
    /// </returns>
    internal static string? TargetsChangeNotApplied(NetconsoleLoggerOptions current, NetconsoleLoggerOptions reloaded)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(reloaded);
        if (reloaded.ConfigurationError is not null)
        {
            return null;
        }

        List<string> was;
        List<string> now;
        try
        {
            was = current.ResolveTargets(new List<string>()).ConvertAll(Describe);
            now = reloaded.ResolveTargets(new List<string>()).ConvertAll(Describe);
        }
        catch (NetconsoleConfigurationException)
        {
            return null;
        }

        return was.SequenceEqual(now, StringComparer.Ordinal)
            ? null
            : $"Logging:Netconsole:Targets changed (was: {List(was)}; now: {List(now)}); the target list is read when the provider is created: restart the application, or change targets at run time through NetconsoleLoggerProvider.Manager.";

        static string List(List<string> targets) => targets.Count == 0 ? "none" : string.Join(", ", targets);
    }

    /// <summary>
    /// A target as one line that tells it apart from any other: its name (when it has one), the kernel syntax
    /// (<see cref="NetconsoleTargetOptions.ToString"/>), then the options the syntax has no place
    /// for, when they are not their defaults; for example
    /// <c>central +@/eth1,@192.0.2.2/ release=6.4.0 userdata=region=eu-west-1 sysdata=Cpu, TaskName</c>.
    /// </summary>
    internal static string Describe(NetconsoleTargetOptions target)
    {
        var text = new StringBuilder();
        if (target.Name is not null)
        {
            text.Append(target.Name).Append(' ');
        }

        text.Append(target.ToString());
        if (target.Release is { } release)
        {
            text.Append(CultureInfo.InvariantCulture, $" release={release}");
        }

        if (target.Userdata.Count > 0)
        {
            text.Append(" userdata=").AppendJoin(',', target.Userdata.Select(entry => $"{entry.Key}={entry.Value}"));
        }

        if (target.Sysdata != SysdataFields.None)
        {
            text.Append(CultureInfo.InvariantCulture, $" sysdata={target.Sysdata}");
        }

        if (target.Facility != NetconsoleTargetOptions.DefaultFacility)
        {
            text.Append(CultureInfo.InvariantCulture, $" facility={target.Facility}");
        }

        if (target.PrintkTime)
        {
            text.Append(" printk-time");
        }

        if (target.MaxDatagramsPerSecond != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" pacing={target.MaxDatagramsPerSecond}/s burst {target.MaxDatagramBurst}");
        }

        return text.ToString();
    }

    private static NetconsoleConfigurationException Invalid(string entry, string reason, Exception? inner = null) =>
        new($"Invalid netconsole logging option {nameof(NetconsoleLoggerOptions)}.{entry}: {reason}", inner);

    /// <summary>
    /// Names the targets without one <c>target0</c>, <c>target1</c> ... in order, skipping the
    /// names other targets have (a copy is named: the caller's options stay as they are).
    /// </summary>
    private static void NameUnnamed(List<(NetconsoleTargetOptions Target, string Entry)> targets)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach ((NetconsoleTargetOptions target, _) in targets)
        {
            if (!string.IsNullOrEmpty(target.Name))
            {
                taken.Add(target.Name);
            }
        }

        int next = 0;
        for (int i = 0; i < targets.Count; i++)
        {
            if (!string.IsNullOrEmpty(targets[i].Target.Name))
            {
                continue;
            }

            string name;
            do
            {
                name = string.Create(CultureInfo.InvariantCulture, $"target{next++}");
            }
            while (!taken.Add(name));

            NetconsoleTargetOptions named = targets[i].Target.Clone();
            named.Name = name;
            targets[i] = (named, targets[i].Entry);
        }
    }

    private static TimeSpan NotNegative(TimeSpan value) => value >= TimeSpan.Zero
        ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "A time limit is zero or more.");
}
