using System.Collections.Concurrent;
using System.Globalization;
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
/// it is structured (<see cref="NetconsoleLoggerOptions.IncludeScopes"/>), then the structured
/// state's key/value pairs. Keys are the template's names as written (not upper-cased);
/// <c>{OriginalFormat}</c> is left out (the text already carries the rendered message). Values
/// are formatted with the invariant culture; null is <c>(null)</c>.
/// </para>
/// <para>
/// Sequence numbers: one counter per provider, one number per record (the manager adds each
/// target's skew for continued groups). Timestamps are <see cref="System.Diagnostics.Stopwatch"/>
/// microseconds taken on the logging thread, which also gives the task name (its thread name,
/// else its managed thread id) and the CPU.
/// </para>
/// <para>
/// The queue holds at most <see cref="NetconsoleLoggerOptions.MaxQueueLength"/> records; see
/// <see cref="NetconsoleQueueFullMode"/>. Dropped records are announced by a warning-level
/// record <c>netconsole: N records dropped (queue full)</c>, in order: the notice goes out
/// exactly where the drops happened among the queued records. Nothing on the logging path ever
/// throws into the application. Metrics: meter <c>Netconsole</c>.
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
[ProviderAlias("Netconsole")]
public sealed partial class NetconsoleLoggerProvider : ILoggerProvider, ISupportExternalScope, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, NetconsoleLogger> _loggers = new(StringComparer.Ordinal);
    private readonly IDisposable? _onChange;
    private IExternalScopeProvider? _scopeProvider;
    private volatile NetconsoleLoggerOptions _options;

    /// <summary>Creates the provider from monitored options (dependency injection), with live reload.</summary>
    /// <param name="options">The options monitor.</param>
    /// <exception cref="NetconsoleConfigurationException">The configuration is invalid; the message names the key and the reason.</exception>
    public NetconsoleLoggerProvider(IOptionsMonitor<NetconsoleLoggerOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).CurrentValue)
    {
        _onChange = options.OnChange(OnOptionsChanged);
    }

    /// <summary>Creates the provider from options, without dependency injection (no reload).</summary>
    /// <param name="options">The options: read now; the targets are added and enabled.</param>
    /// <exception cref="NetconsoleConfigurationException">An option or target is invalid; the message names which and why.</exception>
    public NetconsoleLoggerProvider(NetconsoleLoggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ConfigurationError is { } error)
        {
            throw error;
        }

        List<NetconsoleTargetOptions> targets = ResolveTargets(options);
        _options = options;
        foreach (NetconsoleTargetOptions target in targets)
        {
            WantsDictionary |= target.Extended;
        }

        Manager = new TargetManager(options.ManagerOptions?.Invoke());
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

        _thread = new Thread(RunSender) { IsBackground = true, Name = SenderThreadName };
        _thread.Start();
        _meter = CreateMeter();
        UpdateCrashSubscription(options.CaptureUnhandledExceptions);
    }

    /// <summary>The provider's targets: add, enable, disable them, watch their states and statistics.</summary>
    public TargetManager Manager { get; }

    internal IExternalScopeProvider? ScopeProvider => Volatile.Read(ref _scopeProvider);

    internal bool IncludeScopes => _options.IncludeScopes;

    /// <summary>Whether some target is extended, so dictionaries are worth capturing.</summary>
    internal bool WantsDictionary { get; }

    /// <summary>The options in force (after the last valid reload).</summary>
    internal NetconsoleLoggerOptions CurrentOptions => _options;

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName)
    {
        ArgumentNullException.ThrowIfNull(categoryName);
        return _loggers.GetOrAdd(categoryName, static (name, provider) => new NetconsoleLogger(name, provider), this);
    }

    /// <inheritdoc/>
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => Volatile.Write(ref _scopeProvider, scopeProvider);

    private static List<NetconsoleTargetOptions> ResolveTargets(NetconsoleLoggerOptions options)
    {
        var targets = new List<NetconsoleTargetOptions>();
        int commandLineTargets = 0;
        for (int i = 0; i < options.Targets.Count; i++)
        {
            string? value = options.Targets[i];
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

        for (int i = 0; i < options.TargetOptions.Count; i++)
        {
            NetconsoleTargetOptions target = options.TargetOptions[i]
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

    private void OnOptionsChanged(NetconsoleLoggerOptions options, string? name)
    {
        try
        {
            if (options.ConfigurationError is not null)
            {
                Interlocked.Increment(ref _reloadFailures);
                return;
            }

            // Targets and manager options are structural: they need a restart.
            _options = options;
            UpdateCrashSubscription(options.CaptureUnhandledExceptions);
            PulseRoom(); // a longer queue or DropWrite frees waiting logging threads
        }
        catch (Exception)
        {
            // Runs on a configuration watcher's thread: never throw there.
            Interlocked.Increment(ref _reloadFailures);
        }
    }
}
