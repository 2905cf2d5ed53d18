using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Send;

/// <summary>
/// The tool's live path: one target on the library's <see cref="TargetManager"/> (rtnetlink
/// device watcher, libpcap transport), so device selection, next-hop resolution, recovery and
/// the replay buffer are the library's. Reports the target's state changes on stderr, once per change.
/// </summary>
/// <remarks>
/// Resuming: the manager resumes a deactivated target by itself when a matching device event
/// arrives, asynchronously. A record read when the target is down but its device (or, for a
/// target without a device, a route to its remote) is back is not kept waiting for the
/// manager's being a few milliseconds behind: the tool enables the target itself (as an
/// operator would) and, while that fails, waits for the manager, at most the resume wait; a wait
/// that ran out is not repeated until the cause of the target's state changes. During a real
/// outage (no device, no carrier, no route) reading goes on: with the replay buffer (--stdin)
/// records wait in it and go out first, in order, when the target can send again; without it
/// (one record) they are dropped at once. At the end, <see cref="Finish"/> waits, bounded, for
/// what waits to go out.
/// </remarks>
internal sealed class LiveTarget : IDisposable
{
    private const string DownProblem = "Network is down";
    private const string GoneProblem = "No such device";
    private const string NoCarrierProblem = "No carrier";
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(50);

    private readonly TargetManager _manager;
    private readonly NetconsoleTarget _target;
    private readonly NetconsoleTargetOptions _options;
    private readonly TextWriter _state;
    private readonly TimeSpan _resumeWait;
    private readonly SemaphoreSlim _changed = new(0);
    private string _device;
    private string? _problem;
    private TargetStateCause? _causeAtProblem;
    private long _replayedAtProblem;
    private TargetStateCause? _gaveUpOn;
    private bool _fullReported;

    private LiveTarget(TargetManager manager, NetconsoleTarget target, NetconsoleTargetOptions options, TextWriter state, TimeSpan resumeWait)
    {
        _manager = manager;
        _target = target;
        _options = options;
        _state = state;
        _resumeWait = resumeWait;
        _device = target.DeviceName ?? "?";
        target.StateChanged += (_, _) => _changed.Release();
    }

    /// <summary>Frames handed to the transport, replayed ones included.</summary>
    public long FramesSent => _target.GetStatistics().DatagramsSent;

    /// <summary>Records that waited in the replay buffer during an outage and went out when the target could send again.</summary>
    public long Replayed => _target.GetStatistics().RecordsReplayed;

    /// <summary>
    /// Records dropped (without the replay buffer: device down or gone, no carrier; with it: its
    /// limits), counted, never silently lost; those still buffered when <see cref="Finish"/> gave
    /// up are <see cref="NotSent"/>, not in this count.
    /// </summary>
    public long Dropped => _target.GetStatistics().RecordsDropped - NotSent;

    /// <summary>Records still waiting in the replay buffer when <see cref="Finish"/> gave up: never sent.</summary>
    public long NotSent { get; private set; }

    /// <summary>
    /// The drops by reason for the summary line, named and ordered as the target's statistics
    /// name them (<see cref="TargetStatistics.ToString"/>): <c> (DeviceGone 1, NoCarrier 3)</c>;
    /// empty when nothing was dropped. <see cref="NotSent"/> records are not among them.
    /// </summary>
    public string DroppedByReason()
    {
        KeyValuePair<TargetDropReason, long>[] reasons = _target.GetStatistics().RecordsDroppedByReason
            .Select(r => r.Key == TargetDropReason.Disabled ? KeyValuePair.Create(r.Key, r.Value - NotSent) : r)
            .Where(r => r.Value > 0).OrderBy(r => r.Key).ToArray();
        return reasons.Length == 0
            ? ""
            : " (" + string.Join(", ", reasons.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key} {r.Value}"))) + ")";
    }

    /// <summary>
    /// Adds the target to a new manager and enables it; says on <paramref name="state"/> where it sends.
    /// </summary>
    /// <param name="options">The target.</param>
    /// <param name="replay">Whether records the target cannot send wait in its replay buffer (the library's defaults); false: they are dropped at once.</param>
    /// <param name="transports">Opens the transports (tests); null: libpcap.</param>
    /// <param name="watcher">The manager's device watcher (tests); null: the platform's own, which the manager owns.</param>
    /// <param name="state">Where the target's setup and state changes are reported (stderr).</param>
    /// <param name="resumeWait">How long a record waits for a target whose device is back.</param>
    /// <exception cref="UsageException">The target's device does not exist, or it names none and there is no route to its remote.</exception>
    /// <exception cref="SendFailureException">The target could not be set up for another reason (device down, no carrier, no address, permission, libpcap).</exception>
    public static LiveTarget Open(NetconsoleTargetOptions options, bool replay, IFrameTransportFactory? transports, IDeviceWatcher? watcher, TextWriter state, TimeSpan resumeWait)
    {
        var managerOptions = new TargetManagerOptions();
        if (transports is not null)
        {
            managerOptions.TransportFactory = transports;
        }

        if (watcher is not null)
        {
            managerOptions.Watcher = watcher;
        }

        var manager = new TargetManager(managerOptions);
        try
        {
            options = options.Clone();
            if (!replay)
            {
                // One record: exit code 1 tells the caller at once that it was not sent (to retry,
                // or to log elsewhere); holding it for an outage would hold the caller up instead.
                options.ReplayBufferMaxRecords = 0;
            }

            NetconsoleTarget target = manager.Add(options);
            EnableResult result = manager.Enable(target.Name);
            if (!result.IsEnabled)
            {
                throw Diagnose(options, result);
            }

            state.WriteLine($"netconsole-send: {result.Reason}");
            return new LiveTarget(manager, target, options, state, resumeWait);
        }
        catch
        {
            manager.Dispose();
            throw;
        }
    }

    /// <summary>Sends one record (consecutive sequence numbers: the target adds the numbers continued groups take).</summary>
    /// <returns>True when it went out or waits in the replay buffer, false when it was dropped (and counted).</returns>
    public bool Send(in NetconsoleRecord record)
    {
        if (_target.State != TargetState.Enabled)
        {
            TryBringBack();
        }

        TargetStatistics before = _target.GetStatistics();
        if (!_target.TrySend(record, out TargetDropReason reason))
        {
            if (reason == TargetDropReason.DeviceGone)
            {
                // The manager deactivates the target on its own thread: wait for it, so the next
                // record sees the state the device is really in.
                WaitUntil(() => _target.State != TargetState.Enabled || _target.GetStatistics().Resumes > before.Resumes, _resumeWait);
            }

            Report(reason, kept: false);
            return false;
        }

        TargetStatistics after = _target.GetStatistics();
        if (after.RecordsSent > before.RecordsSent)
        {
            SendingAgain(after);
            return true;
        }

        // Kept in the replay buffer: an outage, or records of one still replaying ahead of it.
        ReportFull(after);
        if (!SendingAgainIfReplaying(after) && Outage(after) is { } outage)
        {
            Report(outage, kept: true);
        }

        return true;
    }

    /// <summary>
    /// The end of the input: waits until nothing waits in the replay buffer, at most
    /// <paramref name="wait"/> (the target set up again meanwhile when its device comes back).
    /// What still waits then is not sent: reported on stderr and counted in <see cref="NotSent"/>.
    /// </summary>
    /// <param name="wait">The longest wait.</param>
    /// <param name="waitName">The option that sets it, for the report.</param>
    public void Finish(TimeSpan wait, string waitName)
    {
        if (WaitUntil(ReplayDone, wait))
        {
            return;
        }

        // Disabled: what waits is dropped (counted as Disabled) under the target's send lock, so
        // none of it goes out after the count (the replay sends one record at a time under it).
        long disabledBefore = _target.GetStatistics().RecordsDroppedByReason[TargetDropReason.Disabled];
        _manager.Disable(_target.Name);
        NotSent = _target.GetStatistics().RecordsDroppedByReason[TargetDropReason.Disabled] - disabledBefore;
        if (NotSent > 0)
        {
            _state.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"netconsole-send: {_device}: {_problem ?? "still replaying"}; gave up after {waitName} {(long)wait.TotalMilliseconds}: the last {NotSent} record(s) read, still buffered, are not sent"));
        }
    }

    public void Dispose()
    {
        _manager.Dispose();
        _changed.Dispose();
    }

    // Finish's condition: true when nothing waits; sets the target up again when its device is back.
    private bool ReplayDone()
    {
        if (_target.State != TargetState.Enabled && DeviceIsBack())
        {
            _manager.Enable(_target.Name);
        }

        TargetStatistics statistics = _target.GetStatistics();
        SendingAgainIfReplaying(statistics);
        return statistics.RecordsBuffered == 0;
    }

    // Why the target could not be set up at the start: bad input (exit 2) when the device it
    // names does not exist or, naming none, there is no route to its remote; otherwise exit 1.
    private static Exception Diagnose(NetconsoleTargetOptions options, EnableResult result) => result.Cause switch
    {
        TargetStateCause.NoSuchDevice => new UsageException($"{result.Reason}; devices here: {DeviceList()}."),
        TargetStateCause.NoRoute => new UsageException(
            $"{result.Reason}, for example \"+@/eth1,@{options.RemoteAddress}/\" (devices here: {DeviceList()})."),
        TargetStateCause.RouteLookupUnsupported => new UsageException(
            $"{result.Reason}; in --target the device goes between '/' and ',', a MAC works on every system, for example \"+@/22:33:44:55:66:77,@{options.RemoteAddress}/\" (devices here: {DeviceListWithMacs()})."),
        _ => new SendFailureException(result.Reason),
    };

    private static string DeviceList() => string.Join(", ", NetworkDevice.GetAll().Select(d => d.Name));

    // Off Linux a device's name often cannot be written in the target syntax (spaces, length); its MAC can.
    private static string DeviceListWithMacs() =>
        string.Join(", ", NetworkDevice.GetAll().Select(d => $"{d.Name} {string.Join(':', d.Mac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)))}"));

    // A UDP connect asks the kernel for a route and sends nothing.
    private static bool HasRoute(IPAddress remote)
    {
        using var probe = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            probe.Connect(new IPEndPoint(remote, 9));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // Whether what the target needs is there now, asked of the system directly (the manager's
    // watcher may not have seen it yet): its device, up with its carrier (setting a target up on
    // a device without one waits for it, so an outage would hold each record up); or for a
    // target without one, a route.
    private bool DeviceIsBack() =>
        _options.DeviceName is { } name ? IsUsable(NetworkDevice.FindByName(name))
        : _options.DeviceMac is { } mac ? IsUsable(NetworkDevice.FindByMac(mac))
        : HasRoute(_options.RemoteAddress!) && (_target.StateCause != TargetStateCause.NoCarrier || IsUsable(NetworkDevice.FindByName(_device)));

    private static bool IsUsable(NetworkDevice? device) => device is { IsUp: true, IsRunning: true };

    private void TryBringBack()
    {
        if (!DeviceIsBack() || _target.StateCause == _gaveUpOn)
        {
            return;
        }

        // Enable sets a deactivated target up now; while it fails (the watcher has not seen the
        // device yet), the manager's own resume may still win: either ends the wait.
        bool back = WaitUntil(() => _target.State == TargetState.Enabled || _manager.Enable(_target.Name).IsEnabled, _resumeWait);
        if (!back)
        {
            _gaveUpOn = _target.StateCause;
        }
    }

    // Checks now, then at every state change and every retry interval, until the deadline.
    private bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (condition())
            {
                return true;
            }

            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            _changed.Wait(left < RetryInterval ? left : RetryInterval);
        }
    }

    // A record was sent: after an outage, say so.
    private void SendingAgain(TargetStatistics statistics)
    {
        _device = _target.DeviceName ?? _device;
        if (_problem is null)
        {
            return;
        }

        // A target set up again says where; a device that was only down says nothing new.
        string how = _target.StateCause == _causeAtProblem ? "" : _target.StateReason + "; ";
        long kept = statistics.RecordsBuffered + statistics.RecordsReplayed - _replayedAtProblem;
        string meanwhile = _options.ReplayBufferMaxRecords > 0 ? $"{kept} record(s) buffered meanwhile go out first, " : "";
        _state.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"netconsole-send: {_device}: sending again ({how}{meanwhile}{Dropped} record(s) dropped so far)"));
        _problem = null;
        _causeAtProblem = null;
    }

    // The replay went on since the outage was reported: the target sends again.
    private bool SendingAgainIfReplaying(TargetStatistics statistics)
    {
        if (_problem is null || _target.State != TargetState.Enabled || statistics.RecordsReplayed == _replayedAtProblem)
        {
            return false;
        }

        SendingAgain(statistics);
        return true;
    }

    // Why a record was kept, as a drop reason names it; null when the target can send and the
    // record only queues behind a replay.
    private TargetDropReason? Outage(TargetStatistics kept)
    {
        if (_target.State == TargetState.Enabled)
        {
            if (NetworkDevice.FindByName(_device) is { } device)
            {
                return !device.IsUp ? TargetDropReason.DeviceDown : !device.IsRunning ? TargetDropReason.NoCarrier : null;
            }

            // Gone, or (a device only the manager's watcher knows) its carrier lost: the manager
            // deactivates the target on its own thread; wait for it, or for the replay to go on.
            if (!WaitUntil(() => _target.State != TargetState.Enabled || _target.GetStatistics().RecordsReplayed > kept.RecordsReplayed, _resumeWait))
            {
                return TargetDropReason.DeviceGone;
            }

            if (_target.State == TargetState.Enabled)
            {
                return null;
            }
        }

        // Deactivated: a device that is there again may still be down or without carrier.
        if (_target.StateCause == TargetStateCause.NoCarrier)
        {
            return TargetDropReason.NoCarrier;
        }

        return NetworkDevice.FindByName(_device) switch
        {
            { IsUp: false } => TargetDropReason.DeviceDown,
            { IsRunning: false } => TargetDropReason.NoCarrier,
            _ => TargetDropReason.Deactivated,
        };
    }

    // The buffer's limit reached: the oldest records go, once said.
    private void ReportFull(TargetStatistics statistics)
    {
        if (!_fullReported && statistics.RecordsDroppedByReason[TargetDropReason.ReplayBufferFull] > 0)
        {
            _fullReported = true;
            _state.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"netconsole-send: {_device}: replay buffer full ({_options.ReplayBufferMaxRecords} records or {_options.ReplayBufferMaxBytes} bytes): the oldest buffered records are dropped (ReplayBufferFull)"));
        }
    }

    // Once per state change, not once per record.
    private void Report(TargetDropReason reason, bool kept)
    {
        string problem = reason switch
        {
            TargetDropReason.DeviceDown => DownProblem,
            TargetDropReason.DeviceGone => GoneProblem,
            TargetDropReason.NoCarrier => NoCarrierProblem,
            TargetDropReason.Deactivated when NetworkDevice.FindByName(_device) is null => GoneProblem,
            TargetDropReason.Deactivated => "not sending",
            _ => "could not send (" + reason + ")",
        };
        if (problem == _problem)
        {
            return;
        }

        // Down and no carrier say all there is; the target's reason may still be the one from
        // before (the manager deactivates it for a lost carrier on its own thread, a moment later).
        string detail = reason is TargetDropReason.DeviceDown or TargetDropReason.NoCarrier ? "" : $" ({_target.StateReason})";
        string until = reason switch
        {
            TargetDropReason.DeviceDown => "it is up",
            TargetDropReason.NoCarrier => "the carrier is back",
            _ => "it is back",
        };
        _state.WriteLine($"netconsole-send: {_device}: {problem}{detail}; {(kept ? "buffering" : "dropping")} records until {until}");
        if (_problem is null)
        {
            _replayedAtProblem = _target.GetStatistics().RecordsReplayed;
        }

        _causeAtProblem ??= _target.StateCause;
        _problem = problem;
    }
}

/// <summary>The target could not be set up or the record not sent: one line on stderr, exit code 1.</summary>
internal sealed class SendFailureException(string message) : Exception(message);
