using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Send;

/// <summary>
/// The tool's live path: one target on the library's <see cref="TargetManager"/> (rtnetlink
/// device watcher, libpcap transport), so device selection, next-hop resolution and recovery
/// are the library's. Reports the target's state changes on stderr, once per change.
/// </summary>
/// <remarks>
/// Resuming: the manager resumes a deactivated target by itself when a matching device event
/// arrives, asynchronously. A record read when the target is down but its device (or, for a
/// target without a device, a route to its remote) is back is not dropped for the manager's
/// being a few milliseconds behind: the tool enables the target itself (as an operator would)
/// and, while that fails, waits for the manager, at most the resume wait. During a real outage
/// (no device, no carrier, no route) records are dropped at once, never held up; and a wait that
/// ran out is not repeated until the cause of the target's state changes.
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
    private TargetStateCause? _gaveUpOn;

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

    /// <summary>Frames handed to the transport.</summary>
    public long FramesSent => _target.GetStatistics().DatagramsSent;

    /// <summary>Records dropped (device down or gone, no carrier, target not set up), counted, never silently lost.</summary>
    public long Dropped => _target.GetStatistics().RecordsDropped;

    /// <summary>
    /// The drops by reason for the summary line, named and ordered as the target's statistics
    /// name them (<see cref="TargetStatistics.ToString"/>): <c> (DeviceGone 1, NoCarrier 3)</c>;
    /// empty when nothing was dropped.
    /// </summary>
    public string DroppedByReason()
    {
        KeyValuePair<TargetDropReason, long>[] reasons = _target.GetStatistics().RecordsDroppedByReason
            .Where(r => r.Value > 0).OrderBy(r => r.Key).ToArray();
        return reasons.Length == 0
            ? ""
            : " (" + string.Join(", ", reasons.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key} {r.Value}"))) + ")";
    }

    /// <summary>
    /// Adds the target to a new manager and enables it; says on <paramref name="state"/> where it sends.
    /// </summary>
    /// <param name="options">The target.</param>
    /// <param name="transports">Opens the transports (tests); null: libpcap.</param>
    /// <param name="watcher">The manager's device watcher (tests); null: the platform's own, which the manager owns.</param>
    /// <param name="state">Where the target's setup and state changes are reported (stderr).</param>
    /// <param name="resumeWait">How long a record waits for a target whose device is back.</param>
    /// <exception cref="UsageException">The target's device does not exist, or it names none and there is no route to its remote.</exception>
    /// <exception cref="SendFailureException">The target could not be set up for another reason (device down, no carrier, no address, permission, libpcap).</exception>
    public static LiveTarget Open(NetconsoleTargetOptions options, IFrameTransportFactory? transports, IDeviceWatcher? watcher, TextWriter state, TimeSpan resumeWait)
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
            // No replay buffer yet (issue 18): the tool would have to wait for the replay before it
            // exits, and say what it keeps; until then it drops what it cannot send, as the kernel.
            options = options.Clone();
            options.ReplayBufferMaxRecords = 0;
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
    /// <returns>True when it went out, false when it was dropped (and counted).</returns>
    public bool Send(in NetconsoleRecord record)
    {
        if (_target.State != TargetState.Enabled)
        {
            TryBringBack();
        }

        long resumes = _target.GetStatistics().Resumes;
        if (_target.TrySend(record, out TargetDropReason reason))
        {
            _device = _target.DeviceName ?? _device;
            if (_problem is not null)
            {
                // A target set up again says where; a device that was only down says nothing new.
                string how = _target.StateCause == _causeAtProblem ? "" : _target.StateReason + "; ";
                _state.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"netconsole-send: {_device}: sending again ({how}{Dropped} record(s) dropped so far)"));
                _problem = null;
                _causeAtProblem = null;
            }

            return true;
        }

        if (reason == TargetDropReason.DeviceGone)
        {
            // The manager deactivates the target on its own thread: wait for it, so the next
            // record sees the state the device is really in.
            WaitUntil(() => _target.State != TargetState.Enabled || _target.GetStatistics().Resumes > resumes, _resumeWait);
        }

        Report(reason);
        return false;
    }

    public void Dispose()
    {
        _manager.Dispose();
        _changed.Dispose();
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

    // Once per state change, not once per record.
    private void Report(TargetDropReason reason)
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
        _state.WriteLine($"netconsole-send: {_device}: {problem}{detail}; dropping records until {until}");
        _causeAtProblem ??= _target.StateCause;
        _problem = problem;
    }
}

/// <summary>The target could not be set up or the record not sent: one line on stderr, exit code 1.</summary>
internal sealed class SendFailureException(string message) : Exception(message);
