using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// An <see cref="ILoggerProvider"/> that sends log records to netconsole targets: one
/// <see cref="TargetManager"/> (targets resume by themselves when their device comes back), one
/// bounded queue and one background sender thread named <c>netconsole-logger</c>.
/// </summary>
/// <remarks>
/// <para>
/// Records: the level maps to syslog (Critical 2, Error 3, Warning 4, Information 6, Debug and
/// Trace 7) with <see cref="NetconsoleLoggerOptions.Facility"/>. The text is the formatted
/// message, followed by a newline and <see cref="Exception.ToString"/> when there is an
/// exception, so a receiver gets the whole exception in one record (a long one becomes a
/// continued group that reassembles whole). Extended targets also get dictionary lines, in this
/// order: <c>CATEGORY=</c>, <c>EVENT_ID=</c> (when not 0), <c>EVENT_NAME=</c> (when set), then
/// for each scope, outermost first, <c>SCOPE=</c> (its text) followed by its key/value pairs when
/// it is structured; a key/value scope whose text is only its type's name (a dictionary) gives
/// its pairs alone (<see cref="NetconsoleLoggerOptions.IncludeScopes"/>), then the structured
/// state's key/value pairs. Keys are the template's names as written (not upper-cased);
/// <c>{OriginalFormat}</c> is left out (the text already carries the rendered message). Values
/// are formatted with the invariant culture; null is <c>(null)</c>; a value longer than
/// <see cref="NetconsoleLoggerOptions.MaxDictionaryValueBytes"/> (256 bytes by default) is cut
/// and marked <c>[+N bytes]</c>, so a large argument does not make a record twice its size.
/// </para>
/// <para>
/// Sequence numbers: one counter per provider, one number per record (logged, sent at once, or
/// a drop notice; the manager adds each target's skew for continued groups). The counter starts
/// from the monotonic clock in microseconds (<see cref="NetconsoleRecord.GetTimestampMicroseconds"/>,
/// the clock of the timestamps) read when the provider is created: the first record gets that
/// value + 1. So a process that restarts continues above the numbers of its previous run, and a
/// receiver that discards numbers it has just seen (netconsd takes a number up to 512 behind the
/// newest, from the same source address within 5 seconds, for a duplicate) keeps the new run's
/// records. A run would need more than one record per microsecond of its life to reach the next
/// run's numbers. The limit: two processes (or providers) sending from the same source address at
/// the same time interleave their numbers, and netconsd, which keys senders by source address
/// only, drops records of both as duplicates; give each its own source address. Timestamps are
/// <see cref="System.Diagnostics.Stopwatch"/> microseconds taken on the logging thread, which
/// also gives the task name (its thread name, else its managed thread id) and the CPU.
/// </para>
/// <para>
/// The queue holds at most <see cref="NetconsoleLoggerOptions.MaxQueueLength"/> records; see
/// <see cref="NetconsoleQueueFullMode"/>. Dropped records are announced by warning-level
/// records <c>netconsole: N records dropped (queue full), T since start</c> (category
/// <c>Netconsole.Logging</c>): N records dropped since the previous notice, T announced since the
/// provider was created (the sum of every N so far, so a receiver that misses a notice sees T
/// jump). Notices are coalesced: at most one per 100 ms while the queue stays busy (the first at
/// once), so an overload does not add a record per gap between queued records to the flood; the
/// drops not yet announced go out at once when the queue empties, before <see cref="Flush"/>
/// returns true, while disposal drains the queue and before a record sent by
/// <see cref="SendNow"/>. A notice comes after the drops it announces, not necessarily right
/// where they happened. <see cref="NetconsoleLoggerStatistics.RecordsDroppedQueueFull"/> counts
/// each drop when it happens; the notices add up to it once announced. Nothing on the logging
/// path ever throws into the application. Metrics: meter <c>Netconsole</c>.
/// </para>
/// <para>
/// Cost on the logging thread: the message is formatted there (once); the record is handed to
/// the sender thread without a lock (in <see cref="NetconsoleQueueFullMode.DropWrite"/> mode, or
/// while there is room) and, in steady state, without an allocation: the provider reuses its
/// records. Dictionary values whose text cannot change (strings, numbers, enums, dates, times,
/// GUIDs, and Microsoft.Extensions.Logging's structured scopes made of them) are kept by
/// reference and rendered by the sender thread; other values are rendered when logged, since
/// they may change afterwards. The sender thread allocates nothing per record in steady state,
/// except an exception's text, the text of a dictionary value not seen recently, and drop notices.
/// </para>
/// </remarks>
// Split as Microsoft.Extensions.Logging.Console splits it: this class holds the options (and
// their reload), the loggers, the targets, the metrics, the crash and process-exit subscriptions;
// NetconsoleLoggerProcessor holds the queue and the sender thread (Flush, Wait-mode back-pressure,
// coalesced drop notices, the drain on disposal); LogRecordWriter turns an entry into a
// NetconsoleRecord and owns the buffers that takes; NetconsoleDiagnostics says what the provider
// cannot do (target states, configuration problems) to the operator.
[ProviderAlias("Netconsole")]
public sealed class NetconsoleLoggerProvider : ILoggerProvider, ISupportExternalScope, IAsyncDisposable
{
    /// <summary>The name of the meter the provider publishes its metrics on.</summary>
    public const string MeterName = "Netconsole";

    internal const string CrashCategory = "Netconsole.Crash";
    internal const int EmergencyLevel = 0;

    // How long disposal and process exit wait to write the diagnostics still queued.
    private static readonly TimeSpan DiagnosticsDrainTimeout = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, NetconsoleLogger> _loggers = new(StringComparer.Ordinal);
    private readonly NetconsoleLoggerProcessor _processor;
    private readonly LogRecordWriter _writer;
    private readonly NetconsoleLoggerMetrics _metrics;
    private readonly NetconsoleDiagnostics _diagnostics;
    private readonly IDisposable? _onChange;
    private readonly object _crashSubscriptionLock = new();
    private bool _crashSubscribed;
    private IExternalScopeProvider? _scopeProvider;
    private readonly NetconsoleLoggerOptions _initialOptions; // whose targets are in force
    private readonly HashSet<string> _warningsReported = new(StringComparer.Ordinal); // under itself
    private volatile NetconsoleLoggerOptions _options;
    private long _reloadFailures;
    private int _disposed;
    private readonly TimeSpan _managerDisposeTimeout; // its own limit: the provider gives it at most that
    private ProcessDeath.ProcessDeathWatch? _deathWatch; // with CaptureProcessDeath, on Linux, once its watchdog is ready

    /// <summary>Creates the provider from monitored options (dependency injection), with live reload.</summary>
    /// <param name="options">The options monitor.</param>
    /// <exception cref="NetconsoleConfigurationException">The configuration is invalid; the message names the key and the reason.</exception>
    /// <remarks>Its diagnostics go to standard error only (per <see cref="NetconsoleLoggerOptions.DiagnosticsToStandardError"/>): it has no logger factory to write them to. <c>AddNetconsole()</c> gives it the application's.</remarks>
    public NetconsoleLoggerProvider(IOptionsMonitor<NetconsoleLoggerOptions> options)
        : this(options, loggerFactory: null)
    {
    }

    /// <summary>Creates the provider from options, without dependency injection (no reload).</summary>
    /// <param name="options">The options: read now; the targets are added and enabled.</param>
    /// <exception cref="NetconsoleConfigurationException">An option or target is invalid; the message names which and why.</exception>
    /// <remarks>Its diagnostics (a target that cannot send, and why) go to standard error, per <see cref="NetconsoleLoggerOptions.DiagnosticsToStandardError"/>.</remarks>
    public NetconsoleLoggerProvider(NetconsoleLoggerOptions options)
        : this(options, loggerFactory: null)
    {
    }

    /// <summary>Creates the provider for <c>AddNetconsole()</c>: monitored options, and the application's logger factory for its diagnostics.</summary>
    internal NetconsoleLoggerProvider(IOptionsMonitor<NetconsoleLoggerOptions> options, Func<ILoggerFactory?>? loggerFactory)
        : this((options ?? throw new ArgumentNullException(nameof(options))).CurrentValue, loggerFactory)
    {
        _onChange = options.OnChange(OnOptionsChanged);
    }

    private NetconsoleLoggerProvider(NetconsoleLoggerOptions options, Func<ILoggerFactory?>? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ConfigurationError is { } error)
        {
            throw error;
        }

        var warnings = new List<string>(options.ConfigurationWarnings);
        List<NetconsoleTargetOptions> targets = options.ResolveTargets(warnings);
        _options = _initialOptions = options;
        foreach (NetconsoleTargetOptions target in targets)
        {
            WantsDictionary |= target.Extended;
        }

        _diagnostics = new NetconsoleDiagnostics(loggerFactory, options.DiagnosticsToStandardError, options.StandardError);
        ReportWarnings(warnings);
        if (targets.Count == 0)
        {
            _diagnostics.ConfigurationWarning(
                $"No netconsole targets are configured ({NetconsoleLoggerConfigureOptions.SectionPath}:Targets and NetconsoleLoggerOptions.Targets are empty): no record is sent. "
                + "Add one, for example \"Targets\": [ \"+@eth1,6666@192.0.2.1/\" ].");
        }

        TargetManagerOptions managerOptions = options.ManagerOptions?.Invoke() ?? new TargetManagerOptions();
        _managerDisposeTimeout = managerOptions.DisposeTimeout;
        Manager = new TargetManager(managerOptions);
        Manager.StateChanged += OnTargetStateChanged;
        try
        {
            for (int i = 0; i < targets.Count; i++)
            {
                NetconsoleTarget target;
                try
                {
                    target = Manager.Add(targets[i]);
                }
                catch (ArgumentException e) when (e is not NetconsoleConfigurationException)
                {
                    throw new NetconsoleConfigurationException($"Invalid netconsole logging target {targets[i]}: {e.Message}", e);
                }

                // A target that cannot be set up now stays Deactivated and resumes with its device.
                Manager.Enable(target.Name);
            }
        }
        catch
        {
            Manager.Dispose();
            throw;
        }

        _writer = new LogRecordWriter(Manager, WantsDictionary, options.SequenceBase ?? NetconsoleRecord.GetTimestampMicroseconds())
        {
            Facility = options.Facility,
            MaxDictionaryValueBytes = options.MaxDictionaryValueBytes,
        };
        _processor = new NetconsoleLoggerProcessor(new LogQueue(), _writer, options, DisposeManager);
        _metrics = new NetconsoleLoggerMetrics(Manager, _processor);
        if (options.CaptureProcessDeath)
        {
            StartDeathWatch(options);
        }

        UpdateCrashSubscription(options.CaptureUnhandledExceptions);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        _diagnostics.Open();
    }

    /// <summary>The provider's targets: add, enable, disable them, watch their states and statistics.</summary>
    public TargetManager Manager { get; }

    internal IExternalScopeProvider? ScopeProvider => Volatile.Read(ref _scopeProvider);

    internal bool IncludeScopes => _options.IncludeScopes;

    /// <summary>Whether some target is extended, so dictionaries are worth capturing.</summary>
    internal bool WantsDictionary { get; }

    /// <summary>The options in force (after the last valid reload).</summary>
    internal NetconsoleLoggerOptions CurrentOptions => _options;

    /// <summary>Reloads refused (invalid options) or that failed.</summary>
    internal long ReloadFailures => Interlocked.Read(ref _reloadFailures);

    /// <summary>The queue and the sender thread (tests look inside).</summary>
    internal NetconsoleLoggerProcessor Processor => _processor;

    /// <summary>The queue itself (tests look at its storage).</summary>
    internal LogQueue Queue => _processor.Queue;

    /// <summary>This provider's meter (tests tell providers apart by it).</summary>
    internal Meter Meter => _metrics.Meter;

    /// <summary>The process-death watchdog's application side, or null (tests look at its process).</summary>
    internal ProcessDeath.ProcessDeathWatch? DeathWatch => _deathWatch;

    /// <summary>What the provider says about itself (tests drain it).</summary>
    internal NetconsoleDiagnostics Diagnostics => _diagnostics;

    /// <inheritdoc/>
    /// <remarks>The category <c>Netconsole.Diagnostics</c> (the provider's own reports, for the application's other providers) gets a logger that sends nothing: a report about netconsole never goes back into it.</remarks>
    public ILogger CreateLogger(string categoryName)
    {
        ArgumentNullException.ThrowIfNull(categoryName);
        if (string.Equals(categoryName, NetconsoleDiagnostics.Category, StringComparison.Ordinal))
        {
            return Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        }

        return _loggers.GetOrAdd(categoryName, static (name, provider) => new NetconsoleLogger(name, provider, provider._processor), this);
    }

    /// <inheritdoc/>
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => Volatile.Write(ref _scopeProvider, scopeProvider);

    /// <summary>
    /// Waits until every record queued before the call has been handed to the targets (and the
    /// drops counted before the call announced). Returns at once, false, on the sender thread itself.
    /// </summary>
    /// <param name="timeout">The longest to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns>True when all of it was handed over within the time.</returns>
    public bool Flush(TimeSpan timeout) => _processor.Flush(timeout);

    /// <summary>A snapshot of the provider's counters and of the records queued.</summary>
    /// <returns>The statistics.</returns>
    public NetconsoleLoggerStatistics GetStatistics() => _processor.GetStatistics();

    /// <summary>
    /// Sends one record now, on the calling thread, bypassing the queue: for crash handlers and
    /// last words. Waits (at most <see cref="NetconsoleLoggerOptions.CrashFlushTimeout"/>) for a
    /// send in progress on the sender thread so the two never interleave (past that limit the
    /// record is not sent and counted in <see cref="NetconsoleLoggerStatistics.Errors"/>); call
    /// <see cref="Flush"/> first to send what is queued before it. Never throws; does nothing once disposed.
    /// </summary>
    /// <param name="level">The level (mapped as for logged records).</param>
    /// <param name="message">The text.</param>
    /// <param name="exception">An exception to append to the text, or <see langword="null"/>.</param>
    /// <param name="category">The <c>CATEGORY=</c> of extended targets; <see langword="null"/> for <c>Netconsole.Logging</c>.</param>
    public void SendNow(LogLevel level, string message, Exception? exception = null, string? category = null)
    {
        if (level != LogLevel.None && Volatile.Read(ref _disposed) == 0)
        {
            _processor.SendNow(NetconsoleLogger.ToSyslogLevel(level), message, exception, category, _options.CrashFlushTimeout);
        }
    }

    /// <summary>Drains the queue, then sends the crash record, all within <see cref="NetconsoleLoggerOptions.CrashFlushTimeout"/>.</summary>
    internal void ReportCrash(int syslogLevel, string message, object? exception)
    {
        try
        {
            TimeSpan budget = _options.CrashFlushTimeout;
            long start = Stopwatch.GetTimestamp();
            Flush(budget);
            TimeSpan left = budget - Stopwatch.GetElapsedTime(start);
            if (Volatile.Read(ref _disposed) == 0)
            {
                _processor.SendNow(syslogLevel, message, exception, CrashCategory, left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
        }
        catch (Exception)
        {
            _processor.CountError();
        }
    }

    /// <summary>
    /// Stops accepting records, lets the sender thread drain the queue for at most
    /// <see cref="NetconsoleLoggerOptions.DisposeTimeout"/>, counts what is left as dropped
    /// (<see cref="NetconsoleLoggerStatistics.RecordsDroppedDisposed"/>), lets enabled targets
    /// replay what waits in their replay buffers within what is left of that time, as long as the
    /// replay goes on (a replay that sent nothing for a second, its device down, is not waited for;
    /// what a target still holds is dropped, counted in its statistics as <see cref="TargetDropReason.Disabled"/>), then disposes the
    /// <see cref="Manager"/> within what is left (and at most its <see cref="TargetManagerOptions.DisposeTimeout"/>):
    /// a device open that blocks is not waited for past it, and a warning (<c>Disposal stopped
    /// waiting ...</c>, event id 7) says how many targets were left to be closed when that call
    /// returns. When the sender is stuck in a send past the time limit, the sender disposes the
    /// manager once that send returns. Last, the provider's own diagnostics still queued are
    /// written, waiting at most 1 s more for a write in progress. So disposal returns within
    /// <see cref="NetconsoleLoggerOptions.DisposeTimeout"/> plus at most that second. Never
    /// throws; calling it again does nothing. Logging afterwards is ignored (and counted).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        bool managerLeftToSender = false;
        long started = Stopwatch.GetTimestamp();
        try
        {
            _onChange?.Dispose();
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            UpdateCrashSubscription(false);
            managerLeftToSender = _processor.Complete(_options.DisposeTimeout);
            _deathWatch?.Stop(); // a clean end: the watchdog goes without a word
            if (!managerLeftToSender)
            {
                WaitForReplays(Left(started));
            }

            _metrics.Dispose();
        }
        catch (Exception)
        {
            _processor.CountError();
        }
        finally
        {
            if (!managerLeftToSender)
            {
                DisposeManager(Left(started));
            }

            try
            {
                // Its own limit, not what is left: a short-lived app must still show its problems
                // (this one included), and the write is quick unless a write or the logger factory
                // is still on its way.
                _diagnostics.Drain(DiagnosticsDrainTimeout);
            }
            catch (Exception)
            {
                _processor.CountError();
            }
        }
    }

    // What is left of DisposeTimeout since disposal started; zero or more.
    private TimeSpan Left(long started)
    {
        TimeSpan left = _options.DisposeTimeout - Stopwatch.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>As <see cref="Dispose"/>, on a thread-pool thread so the caller's thread is not blocked while the queue drains.</summary>
    /// <returns>A task that completes when disposal has finished.</returns>
    public ValueTask DisposeAsync() => Volatile.Read(ref _disposed) != 0
        ? ValueTask.CompletedTask
        : new ValueTask(Task.Run(Dispose));

    private void OnOptionsChanged(NetconsoleLoggerOptions options, string? name)
    {
        try
        {
            if (options.ConfigurationError is { } error)
            {
                Interlocked.Increment(ref _reloadFailures);
                _diagnostics.ConfigurationRejected(error);
                return;
            }

            // Targets and manager options are structural: they need a restart.
            _options = options;
            _writer.Facility = options.Facility;
            _writer.MaxDictionaryValueBytes = options.MaxDictionaryValueBytes;
            _processor.Options = options; // a longer queue or DropWrite frees waiting logging threads
            _diagnostics.Mode = options.DiagnosticsToStandardError;
            UpdateCrashSubscription(options.CaptureUnhandledExceptions);
            var warnings = new List<string>(options.ConfigurationWarnings);
            if (NetconsoleLoggerOptions.TargetsChangeNotApplied(_initialOptions, options) is { } notApplied)
            {
                warnings.Add(notApplied);
            }

            ReportWarnings(warnings);
        }
        catch (Exception)
        {
            // Runs on a configuration watcher's thread: never throw there.
            Interlocked.Increment(ref _reloadFailures);
        }
    }

    // Each distinct warning once per provider: a reload that changes something else does not repeat them.
    private void ReportWarnings(List<string> warnings)
    {
        foreach (string warning in warnings)
        {
            bool first;
            lock (_warningsReported)
            {
                first = _warningsReported.Add(warning);
            }

            if (first)
            {
                _diagnostics.ConfigurationWarning(warning);
            }
        }
    }

    // Disposal, within what is left of DisposeTimeout: enabled targets send what waits in their
    // replay buffers (the manager's disposal drops it, counted). A target that cannot send now
    // is not waited for, nor a replay that made no progress for a second (an enabled target whose
    // device is set down replays nothing until it comes up: a process exiting then should not
    // wait the whole DisposeTimeout).
    private void WaitForReplays(TimeSpan left)
    {
        long now = Stopwatch.GetTimestamp();
        long deadline = now + (long)(Math.Max(0, left.TotalSeconds) * Stopwatch.Frequency);
        long lastProgress = now;
        long replayed = -1;
        while ((now = Stopwatch.GetTimestamp()) < deadline && now - lastProgress < Stopwatch.Frequency)
        {
            long waiting = 0;
            long replayedNow = 0;
            foreach (NetconsoleTarget target in Manager.Targets)
            {
                TargetStatistics statistics = target.GetStatistics();
                replayedNow += statistics.RecordsReplayed;
                waiting += statistics.State == TargetState.Enabled ? statistics.RecordsBuffered : 0;
            }

            if (waiting == 0)
            {
                return;
            }

            if (replayedNow != replayed)
            {
                replayed = replayedNow;
                lastProgress = now;
            }

            Thread.Sleep(10);
        }
    }

    // The sender's disposal of the manager (after a send that outlived DisposeTimeout): the manager's own limit.
    private void DisposeManager() => DisposeManager(_managerDisposeTimeout);

    private void DisposeManager(TimeSpan limit)
    {
        try
        {
            TimeSpan own = _managerDisposeTimeout;
            TimeSpan timeout = own != Timeout.InfiniteTimeSpan && own < limit ? own : limit;
            if (Manager.Dispose(timeout) is > 0 and int notClosed)
            {
                _diagnostics.DisposalIncomplete(notClosed, timeout);
            }
        }
        catch (Exception)
        {
            _processor.CountError();
        }
    }

    // CaptureProcessDeath: the watchdog starts now (the constructor waits until it is ready), before
    // any record is logged, so every record queued is in its ring. A failure is a diagnostic.
    private void StartDeathWatch(NetconsoleLoggerOptions options)
    {
        if (!OperatingSystem.IsLinux())
        {
            _diagnostics.WatchdogNotStarted("CaptureProcessDeath is supported on Linux only (it needs pidfd and /dev/shm); process deaths are not reported on this platform.");
            return;
        }

        _deathWatch = ProcessDeath.ProcessDeathWatch.TryStart(Manager, options.Facility, WantsDictionary, options.CrashFlushTimeout, out string? failure);
        if (_deathWatch is null)
        {
            _diagnostics.WatchdogNotStarted(failure ?? "CaptureProcessDeath: the watchdog could not be started; process deaths are not reported.");
            return;
        }

        _deathWatch.Sent(0, _writer.NextSequence);
        _processor.Queue.DeathWatch = _deathWatch;
    }

    private void UpdateCrashSubscription(bool subscribe)
    {
        lock (_crashSubscriptionLock)
        {
            if (subscribe == _crashSubscribed || (subscribe && Volatile.Read(ref _disposed) != 0))
            {
                return;
            }

            if (subscribe)
            {
                AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
                TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
            }
            else
            {
                AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
                TaskScheduler.UnobservedTaskException -= OnUnobservedTaskException;
            }

            _crashSubscribed = subscribe;
        }
    }

    // The process is exiting (Main returned, Environment.Exit, SIGTERM) and the provider was not
    // disposed: the sender thread is a background thread and would die with records still queued.
    // Hand them to the targets first, within DisposeTimeout. Not a disposal: a handler running
    // after this one may still log, and the host may still dispose the provider properly.
    private void OnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                Flush(_options.DisposeTimeout);
                _deathWatch?.Stop(); // a clean end: the watchdog goes without a word
                _diagnostics.Drain(DiagnosticsDrainTimeout);
            }
        }
        catch (Exception)
        {
            _processor.CountError();
        }
    }

    private void OnTargetStateChanged(object? sender, TargetStateChangedEventArgs e)
    {
        try
        {
            _diagnostics.TargetStateChanged(e);
        }
        catch (Exception)
        {
            _processor?.CountError(); // null while the constructor enables the targets
        }
    }

    private void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e) =>
        ReportCrash(
            EmergencyLevel,
            e.IsTerminating ? "Unhandled exception: the process is terminating" : "Unhandled exception",
            e.ExceptionObject);

    // Reported, not observed: the application's own policy for unobserved exceptions stays as it is.
    private void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs e) =>
        ReportCrash(3, "Unobserved task exception", e.Exception);
}
