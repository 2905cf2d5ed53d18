using System.Collections;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// What the provider says about itself: target state changes and configuration problems, to the
/// operator, through three channels at once: the application's other logger providers (category
/// <see cref="Category"/>, never sent back into netconsole), the <see cref="NetconsoleLoggingEventSource"/>,
/// and standard error when nothing else would show a problem (<see cref="NetconsoleStandardErrorMode"/>).
/// </summary>
/// <remarks>
/// <para>
/// Reports are queued and written off the thread that made them (the resume worker, a configuration
/// watcher, the caller of <see cref="TargetManager.Enable"/>), one at a time, in order, so a slow
/// logger never holds up a resume.
/// </para>
/// <para>
/// The logger factory is not known while the provider is created: the provider is created by it.
/// So reports made then (the first setup of every target, configuration warnings) wait until the
/// factory is resolved, on a thread-pool thread started once the provider exists (dependency
/// injection gives out a singleton only once its creation is over, so that thread waits for it
/// rather than creating a second one). Without dependency injection there is no factory: standard
/// error only. <see cref="Drain"/> (disposal, process exit) writes what is still queued on the
/// caller's thread, within a time limit, so a short-lived app still shows its problems.
/// </para>
/// </remarks>
internal sealed class NetconsoleDiagnostics
{
    /// <summary>The logging category of the provider's diagnostics.</summary>
    internal const string Category = "Netconsole.Diagnostics";

    internal const int TargetEnabledId = 1;
    internal const int TargetDeactivatedId = 2;
    internal const int TargetSetupFailedId = 3;
    internal const int TargetDisabledId = 4;
    internal const int ConfigurationWarningId = 5;
    internal const int ConfigurationRejectedId = 6;
    internal const int DisposalIncompleteId = 7;
    internal const int WatchdogNotStartedId = 8;

    /// <summary>Reports queued at most; beyond, they are counted and said in one line.</summary>
    internal const int MaxPending = 1000;

    private const string StandardErrorPrefix = "netconsole: ";

    private readonly object _pendingLock = new();
    private readonly Queue<Diagnostic> _pending = new();
    private readonly object _writeLock = new();
    private readonly HashSet<string> _problemsOnStandardError = new(StringComparer.Ordinal);
    private readonly Func<ILoggerFactory?>? _loggerFactory;
    private readonly Func<TextWriter> _standardError;
    private readonly TaskCompletionSource _resolved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ILogger? _logger;
    private long _overflow;
    private int _scheduled;
    private volatile bool _open;
    private volatile NetconsoleStandardErrorMode _mode;

    /// <summary>Creates the reporter; nothing is written before <see cref="Open"/>.</summary>
    /// <param name="loggerFactory">Gives the application's logger factory once it exists; null without dependency injection (standard error only).</param>
    /// <param name="mode">When to write to standard error.</param>
    /// <param name="standardError">The standard error writer (tests give their own); null for <see cref="Console.Error"/>.</param>
    public NetconsoleDiagnostics(Func<ILoggerFactory?>? loggerFactory, NetconsoleStandardErrorMode mode, Func<TextWriter>? standardError = null)
    {
        _loggerFactory = loggerFactory;
        _mode = mode;
        _standardError = standardError ?? (static () => Console.Error);
    }

    /// <summary>When to write to standard error (live).</summary>
    public NetconsoleStandardErrorMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>Reports a target's state change (<see cref="TargetManager.StateChanged"/>).</summary>
    /// <param name="e">The change.</param>
    public void TargetStateChanged(TargetStateChangedEventArgs e)
    {
        if (e.NewState == e.OldState && e.NewState != TargetState.Deactivated)
        {
            return;
        }

        string spec = e.Target.Options.ToString();
        string cause = e.Cause.ToString();
        string reason = OneLine(e.Reason);
        (int id, LogLevel level, string message) = e.NewState switch
        {
            TargetState.Enabled => (TargetEnabledId, LogLevel.Information, $"Target {e.Target.Name} ({spec}) is sending: {reason}."),
            TargetState.Deactivated when !ResolvesByItself(e.Cause) =>
                (TargetSetupFailedId, LogLevel.Error, $"Target {e.Target.Name} ({spec}) is not sending: {reason}. {Hint(e.Target, e.Cause)}"),
            TargetState.Deactivated => (TargetDeactivatedId, LogLevel.Warning, $"Target {e.Target.Name} ({spec}) is not sending: {reason}. {Hint(e.Target, e.Cause)}"),
            _ => (TargetDisabledId, e.Cause == TargetStateCause.DisabledByOperator ? LogLevel.Information : LogLevel.Debug, $"Target {e.Target.Name} ({spec}) is disabled: {reason}."),
        };

        NetconsoleLoggingEventSource events = NetconsoleLoggingEventSource.Log;
        if (events.IsEnabled())
        {
            switch (id)
            {
                case TargetEnabledId: events.TargetEnabled(e.Target.Name, spec, cause, e.Reason); break;
                case TargetSetupFailedId: events.TargetSetupFailed(e.Target.Name, spec, cause, e.Reason); break;
                case TargetDeactivatedId: events.TargetDeactivated(e.Target.Name, spec, cause, e.Reason); break;
                default: events.TargetDisabled(e.Target.Name, spec, cause, e.Reason); break;
            }
        }

        Enqueue(new Diagnostic(level, new EventId(id, EventName(id)), message, e.Target.Name, e.NewState.ToString(), cause, e.Reason));
    }

    /// <summary>Reports a configuration problem that did not stop the provider.</summary>
    /// <param name="message">A complete sentence naming the key and what to do.</param>
    public void ConfigurationWarning(string message)
    {
        NetconsoleLoggingEventSource.Log.ConfigurationWarning(message);
        Enqueue(new Diagnostic(LogLevel.Warning, new EventId(ConfigurationWarningId, EventName(ConfigurationWarningId)), message, null, null, null, null));
    }

    /// <summary>Reports a reloaded configuration that was invalid, so not applied.</summary>
    /// <param name="error">Why.</param>
    public void ConfigurationRejected(NetconsoleConfigurationException error)
    {
        string message = $"The reloaded configuration was not applied: {error.Message} The options in force stay as they were.";
        NetconsoleLoggingEventSource.Log.ConfigurationRejected(message);
        Enqueue(new Diagnostic(LogLevel.Error, new EventId(ConfigurationRejectedId, EventName(ConfigurationRejectedId)), message, null, null, null, null));
    }

    /// <summary>Reports a disposal that stopped waiting for the targets at its time limit.</summary>
    /// <param name="targets">How many targets still had a transport open, or being opened.</param>
    /// <param name="waited">The time limit.</param>
    public void DisposalIncomplete(int targets, TimeSpan waited)
    {
        string message = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"Disposal stopped waiting after {waited.TotalSeconds:0.###} s (DisposeTimeout): {targets} target{(targets == 1 ? "" : "s")} still had a transport open or being opened (a device open or close that blocks holds it up); each is closed when that call returns, and sends nothing until then.");
        NetconsoleLoggingEventSource.Log.DisposalIncomplete(message);
        Enqueue(new Diagnostic(LogLevel.Warning, new EventId(DisposalIncompleteId, EventName(DisposalIncompleteId)), message, null, null, null, null));
    }

    /// <summary>Reports that <see cref="NetconsoleLoggerOptions.CaptureProcessDeath"/> is on and its watchdog could not be started (the application goes on without it).</summary>
    /// <param name="message">A complete sentence saying why and what follows.</param>
    public void WatchdogNotStarted(string message)
    {
        NetconsoleLoggingEventSource.Log.WatchdogNotStarted(message);
        Enqueue(new Diagnostic(LogLevel.Warning, new EventId(WatchdogNotStartedId, EventName(WatchdogNotStartedId)), message, null, null, null, null));
    }

    /// <summary>
    /// The provider exists: reports may be written from now on. With a logger factory to wait for,
    /// a thread-pool thread resolves it and writes what is queued; without, what is queued is
    /// written now.
    /// </summary>
    public void Open()
    {
        _open = true;
        if (_loggerFactory is null)
        {
            _resolved.TrySetResult();
            Write();
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            static self =>
            {
                self.Resolve();
                self.Write();
            },
            this,
            preferLocal: false);
    }

    /// <summary>
    /// Writes what is queued on the calling thread (disposal, process exit). Waits at most
    /// <paramref name="timeout"/> for the logger factory and for a write in progress; without the
    /// factory by then, the rest goes to standard error (per <see cref="Mode"/>).
    /// </summary>
    /// <param name="timeout">The longest to wait.</param>
    public void Drain(TimeSpan timeout)
    {
        _open = true;
        if (!_resolved.Task.Wait(timeout))
        {
            _resolved.TrySetResult(); // no factory in time: standard error from here on
        }

        bool entered = false;
        try
        {
            Monitor.TryEnter(_writeLock, timeout, ref entered);
            if (entered)
            {
                WriteQueued();
            }
        }
        finally
        {
            if (entered)
            {
                Monitor.Exit(_writeLock);
            }
        }
    }

    // A report is one line (a log line, a line of standard error): a reason may quote a multi-line
    // exception message (the runtime's list of library paths it tried). Its own full stop is left
    // out, since the report ends the sentence.
    private static string OneLine(string reason)
    {
        string line = string.Join(' ', reason.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.TrimEnd('.');
    }

    // Whether a deactivated target's cause can go away without anyone changing the host: a device
    // appears or comes up, a route or an address is added. The others need a person.
    private static bool ResolvesByItself(TargetStateCause cause) => cause is TargetStateCause.DeviceUnregistered
        or TargetStateCause.TransportLost or TargetStateCause.NoSuchDevice or TargetStateCause.DeviceDown
        or TargetStateCause.NoRoute or TargetStateCause.NoLocalAddress or TargetStateCause.NoCarrier;

    private static string Hint(NetconsoleTarget target, TargetStateCause cause)
    {
        // With a replay buffer (the default), records wait instead of being dropped.
        NetconsoleTargetOptions options = target.Options;
        string fate = options.ReplayBufferMaxRecords > 0 && options.ReplayBufferMaxBytes > 0 && options.ReplayBufferMaxAge > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"Records to it wait in its replay buffer (at most {options.ReplayBufferMaxRecords} record{(options.ReplayBufferMaxRecords == 1 ? "" : "s")}, {Size(options.ReplayBufferMaxBytes)} and {Age(options.ReplayBufferMaxAge)}; beyond, the oldest are dropped and counted)")
            : "Records to it are dropped (and counted)";
        string then = options.ReplayBufferMaxRecords > 0 ? "it then resumes by itself and sends them first." : "it then resumes by itself.";
        return cause switch
        {
            TargetStateCause.DeviceDown => $"{fate} until the device comes up; {then}",
            TargetStateCause.NoCarrier => $"{fate} until the carrier returns; {then}",
            TargetStateCause.NoRoute or TargetStateCause.NoLocalAddress => $"{fate}; it is set up again every second.",
            TargetStateCause.RouteLookupUnsupported => $"{fate}; it is not set up again by itself: name its device in the target.",
            _ when ResolvesByItself(cause) => $"{fate} until its device appears; {then}",
            _ => $"{fate}; it is set up again when its device changes, but the cause above needs fixing first.",
        };
    }

    // 4194304 as "4 MiB", 65536 as "64 KiB", others in bytes.
    private static string Size(int bytes) => bytes switch
    {
        _ when bytes % (1024 * 1024) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB"),
        _ when bytes % 1024 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };

    // 00:10:00 as "10 minutes", 00:00:30 as "30 s", others as the configuration writes them.
    private static string Age(TimeSpan age) => age switch
    {
        _ when age.Ticks % TimeSpan.TicksPerMinute == 0 => string.Create(CultureInfo.InvariantCulture, $"{(long)age.TotalMinutes} minute{(age.TotalMinutes == 1 ? "" : "s")}"),
        _ when age.Ticks % TimeSpan.TicksPerSecond == 0 => string.Create(CultureInfo.InvariantCulture, $"{(long)age.TotalSeconds} s"),
        _ => age.ToString("c", CultureInfo.InvariantCulture),
    };

    private static string EventName(int id) => id switch
    {
        TargetEnabledId => "TargetEnabled",
        TargetDeactivatedId => "TargetDeactivated",
        TargetSetupFailedId => "TargetSetupFailed",
        TargetDisabledId => "TargetDisabled",
        ConfigurationWarningId => "ConfigurationWarning",
        DisposalIncompleteId => "DisposalIncomplete",
        WatchdogNotStartedId => "WatchdogNotStarted",
        _ => "ConfigurationRejected",
    };

    private void Enqueue(Diagnostic diagnostic)
    {
        lock (_pendingLock)
        {
            if (_pending.Count >= MaxPending)
            {
                _overflow++;
                return;
            }

            _pending.Enqueue(diagnostic);
        }

        if (_open && _resolved.Task.IsCompleted && Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.Write(), this, preferLocal: false);
        }
    }

    private void Resolve()
    {
        try
        {
            _logger = _loggerFactory?.Invoke()?.CreateLogger(Category);
        }
        catch (Exception)
        {
            // The container is gone, or the factory failed: standard error it is.
            _logger = null;
        }
        finally
        {
            _resolved.TrySetResult();
        }
    }

    private void Write()
    {
        lock (_writeLock)
        {
            Volatile.Write(ref _scheduled, 0);
            WriteQueued();
        }
    }

    // Caller holds the write lock.
    private void WriteQueued()
    {
        while (true)
        {
            Diagnostic? next;
            long overflow;
            lock (_pendingLock)
            {
                overflow = _overflow;
                _overflow = 0;
                _pending.TryDequeue(out next);
            }

            if (overflow > 0)
            {
                WriteOne(new Diagnostic(LogLevel.Warning, new EventId(ConfigurationWarningId, EventName(ConfigurationWarningId)), $"{overflow} netconsole diagnostics were left out: more than {MaxPending} were waiting to be written.", null, null, null, null));
            }

            if (next is null)
            {
                return;
            }

            WriteOne(next);
        }
    }

    private void WriteOne(Diagnostic diagnostic)
    {
        bool shown = false;
        if (Volatile.Read(ref _logger) is { } logger)
        {
            try
            {
                if (logger.IsEnabled(diagnostic.Level))
                {
                    logger.Log(diagnostic.Level, diagnostic.EventId, diagnostic, null, static (d, _) => d.Message);
                    shown = true;
                }
            }
            catch (Exception)
            {
                // Another provider failed: never into the application; standard error may still show it.
            }
        }

        if (ShouldWriteToStandardError(diagnostic, shown))
        {
            try
            {
                TextWriter error = _standardError();
                error.WriteLine(StandardErrorPrefix + diagnostic.Message);
                error.Flush();
            }
            catch (Exception)
            {
                // Standard error closed: nothing more to do.
            }
        }
    }

    // Auto: a problem nobody else showed, and the recovery of a target whose problem went there.
    private bool ShouldWriteToStandardError(Diagnostic diagnostic, bool shown)
    {
        NetconsoleStandardErrorMode mode = _mode;
        if (mode == NetconsoleStandardErrorMode.Never || diagnostic.Level < LogLevel.Information)
        {
            return false;
        }

        if (mode == NetconsoleStandardErrorMode.Always)
        {
            return true;
        }

        if (shown)
        {
            return false;
        }

        if (diagnostic.Level >= LogLevel.Warning)
        {
            if (diagnostic.Target is { } problem)
            {
                _problemsOnStandardError.Add(problem);
            }

            return true;
        }

        return diagnostic.Target is { } target && _problemsOnStandardError.Remove(target);
    }

    /// <summary>One report: its message, and for structured loggers its parts as key/value pairs.</summary>
    private sealed class Diagnostic(LogLevel level, EventId eventId, string message, string? target, string? state, string? cause, string? reason)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public LogLevel Level { get; } = level;

        public EventId EventId { get; } = eventId;

        public string Message { get; } = message;

        public string? Target { get; } = target;

        public int Count => Target is null ? 0 : 4;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 when Target is not null => new("Target", Target),
            1 when Target is not null => new("State", state),
            2 when Target is not null => new("Cause", cause),
            3 when Target is not null => new("Reason", reason),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }
}
