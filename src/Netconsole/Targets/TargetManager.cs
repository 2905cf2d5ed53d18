using System.Globalization;
using Netconsole.Devices;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>
/// Owns netconsole targets and the device watcher: adds, enables, disables, reconfigures and
/// removes targets, sends every record to every target, and brings targets back by themselves
/// when their device comes back (the kernel's automatic target recovery).
/// </summary>
/// <remarks>
/// <para>
/// Lifecycle, as the kernel's netconsole with its 2026 automatic recovery: a target starts
/// <see cref="TargetState.Disabled"/>; <see cref="Enable"/> sets it up (finds its device, opens
/// the transport, prepares the frame template) and makes it <see cref="TargetState.Enabled"/>.
/// When its device is unregistered the target becomes <see cref="TargetState.Deactivated"/>, and
/// when a matching device is registered, renamed, changes its MAC or comes up (by MAC when the
/// target is bound by MAC, else by name) the manager's resume worker sets it up again. Beyond
/// the kernel: a setup that fails, at <see cref="Enable"/> or when resuming, leaves the target
/// deactivated (the kernel disables it for good), so it resumes on the next matching device event.
/// </para>
/// <para>
/// Threading: configuration calls (<see cref="Add"/>, <see cref="Enable"/>, ...) and the resume
/// worker are serialized by one configuration lock, like the kernel's configuration mutex; a device
/// open happens under it. <see cref="Send"/> never takes it: it reads an immutable list of the
/// targets and each target's published state, so sending never waits behind a device open.
/// Device watcher events only queue work for the worker (one thread per manager, named
/// <c>netconsole-resume</c>), which applies them in order.
/// </para>
/// <para>
/// <see cref="StateChanged"/> and <see cref="NetconsoleTarget.StateChanged"/> are raised outside
/// the configuration lock, one at a time and in the order of the changes, on the thread that made
/// the change (the caller of a configuration method, or the resume worker) or on a thread raising
/// other changes at that moment. A handler may call the manager; exceptions it throws are caught
/// and ignored.
/// </para>
/// </remarks>
public sealed partial class TargetManager : IDisposable, IAsyncDisposable
{
    private readonly Lock _configLock = new();
    private string? _reconfiguring; // under _configLock: the target whose Reconfigure callback runs now
    private readonly IDeviceWatcher _watcher;
    private readonly bool _ownsWatcher;
    private readonly IFrameTransportFactory _transportFactory;
    private readonly Func<System.Net.IPAddress, Netconsole.Resolution.RouteInfo?>? _routeLookup; // null: this system has no route lookup
    private readonly TimeProvider _timeProvider;
    private readonly NextHopPolicy _nextHop;
    private readonly Action<TimeSpan>? _pacingWait;
    private readonly TimeSpan _carrierTimeout;
    private readonly TimeSpan _disposeTimeout;
    private NetconsoleTarget? _settingUp; // under _configLock, read by Dispose without it: the target whose setup runs now
    private readonly object _carrierGate = new(); // setup waiting for a carrier sleeps on it; device events pulse it
    private long _linkEvents; // Up/Down events seen, under _carrierGate: a waiting setup looks again when it moved
    private int _carrierWaits;
    private NetconsoleTarget[] _targets = [];
    private int _nextGeneratedName;
    private int _disposed;

    /// <summary>Creates a manager and starts watching devices.</summary>
    /// <param name="options">The watcher, transport factory and clock; <see langword="null"/> for the defaults.</param>
    public TargetManager(TargetManagerOptions? options = null)
    {
        options ??= new TargetManagerOptions();
        _transportFactory = options.TransportFactory ?? FrameTransports.FromEnvironment();
        _timeProvider = options.TimeProvider;
        _routeLookup = options.RouteLookup;
        _pacingWait = options.PacingWait;
        _carrierTimeout = options.CarrierTimeout;
        _disposeTimeout = options.DisposeTimeout;
        TimeSpan interval = options.NextHopRecheckInterval;
        _nextHop = new NextHopPolicy(
            options.NextHopResolver,
            interval == Timeout.InfiniteTimeSpan ? 0 : Ticks(interval),
            Ticks(TransmitErrorRecheckSpacing));
        if (options.Watcher is { } watcher)
        {
            _watcher = watcher;
        }
        else
        {
            _watcher = (DefaultWatcherFactory ?? DeviceWatcher.CreateDefault)();
            _ownsWatcher = true;
        }

        _worker = new Thread(RunWorker) { IsBackground = true, Name = WorkerThreadName };
        _worker.Start();
        _watcher.DeviceChanged += OnDeviceChanged;
        try
        {
            _watcher.Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Raised when any target changes state (after the target's own <see cref="NetconsoleTarget.StateChanged"/>); see the remarks of <see cref="TargetManager"/> for the thread.</summary>
    public event EventHandler<TargetStateChangedEventArgs>? StateChanged;

    /// <summary>The targets, in the order they were added: a snapshot.</summary>
    public IReadOnlyList<NetconsoleTarget> Targets => Array.AsReadOnly(Volatile.Read(ref _targets));

    /// <summary>Replaces <see cref="DeviceWatcher.CreateDefault"/> when <see cref="TargetManagerOptions.Watcher"/> is not set (tests).</summary>
    internal static Func<IDeviceWatcher>? DefaultWatcherFactory { get; set; }

    /// <summary>The name of the thread that stops and closes everything for <see cref="Dispose()"/>, which waits for it at most <see cref="TargetManagerOptions.DisposeTimeout"/>.</summary>
    internal const string DisposeThreadName = "netconsole-dispose";

    private const string DisposedReason = "the manager was disposed";

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>How often the worker tries again to set up targets whose setup failed for want of a route or an address (no device event announces those).</summary>
    internal static readonly TimeSpan SetupRetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>At most one next-hop re-check caused by transmit errors per this long.</summary>
    internal static readonly TimeSpan TransmitErrorRecheckSpacing = TimeSpan.FromSeconds(1);

    /// <summary>The manager clock's timestamp (send path: re-check timing).</summary>
    internal long Timestamp() => _timeProvider.GetTimestamp();

    /// <summary>Setups that found their device up without carrier and waited for it (tests wait for one to begin).</summary>
    internal int CarrierWaits => Volatile.Read(ref _carrierWaits);

    /// <summary>The manager's clock (pacing).</summary>
    internal TimeProvider Clock => _timeProvider;

    /// <summary>A sender waits for pacing: at most <paramref name="wait"/>, less when the target's status changes.</summary>
    internal void WaitForPacing(NetconsoleTarget target, TimeSpan wait)
    {
        if (_pacingWait is { } hook)
        {
            hook(wait);
        }
        else
        {
            target.WaitForPacingOrStatusChange(wait);
        }
    }

    private long Ticks(TimeSpan span) => (long)Math.Min(span.TotalSeconds * _timeProvider.TimestampFrequency, long.MaxValue / 2);

    /// <summary>Adds a target, <see cref="TargetState.Disabled"/>.</summary>
    /// <param name="options">Its configuration: validated, then copied (later changes to it have no effect).</param>
    /// <returns>The target.</returns>
    /// <remarks>A target without a <see cref="NetconsoleTargetOptions.Name"/> is named <c>target0</c>, <c>target1</c>, ... (the first such name not in use).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="NetconsoleConfigurationException">The options are not valid (<see cref="NetconsoleTargetOptions.Validate"/>).</exception>
    /// <exception cref="ArgumentException">A target with that name exists already.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public NetconsoleTarget Add(NetconsoleTargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        NetconsoleTargetOptions copy = options.Clone();
        copy.Validate();
        lock (_configLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            ThrowIfInChangeCallback("add a target");
            if (string.IsNullOrEmpty(copy.Name))
            {
                do
                {
                    copy.Name = string.Create(CultureInfo.InvariantCulture, $"target{_nextGeneratedName++}");
                }
                while (Find(copy.Name) is not null);
            }
            else if (Find(copy.Name) is not null)
            {
                throw new ArgumentException($"A target named {copy.Name} exists already: target names are unique.", nameof(options));
            }

            var target = new NetconsoleTarget(this, copy.Name, copy, _timeProvider.GetUtcNow());
            Volatile.Write(ref _targets, [.. _targets, target]);
            return target;
        }
    }

    /// <summary>Removes a target: disables it (closing its transport), then forgets it. Its records are no longer counted.</summary>
    /// <param name="name">The target's name.</param>
    /// <returns>False when there is no target of that name.</returns>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_configLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            ThrowIfInChangeCallback("remove a target");
            if (Find(name) is not { } target)
            {
                return false;
            }

            SetStatus(target, TargetState.Disabled, TargetStateCause.Removed, "removed", null);
            Volatile.Write(ref _targets, Array.FindAll(_targets, t => t != target));
        }

        RaisePending();
        return true;
    }

    /// <summary>
    /// Enables a target: finds its device (by MAC when bound by MAC, else by name), takes the
    /// local address (<see cref="NetconsoleTargetOptions.LocalAddress"/>, or the device's first
    /// address of the remote's family), opens the transport and prepares the frame template.
    /// </summary>
    /// <param name="name">The target's name.</param>
    /// <returns>
    /// <see cref="TargetState.Enabled"/>; or <see cref="TargetState.Deactivated"/> with the reason
    /// (<c>setup failed: ...</c>) when the device is missing, down or could not be opened: the
    /// target then resumes by itself when a matching device appears (the kernel would leave it
    /// disabled). Enabling an enabled target changes nothing.
    /// </returns>
    /// <exception cref="KeyNotFoundException">There is no target of that name.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public EnableResult Enable(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnableResult result;
        lock (_configLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            ThrowIfInChangeCallback("enable a target");
            NetconsoleTarget target = Get(name);
            if (target.Status.State != TargetState.Enabled)
            {
                // As the kernel: a deactivated target is set up afresh, like a disabled one.
                TrySetUp(target, TargetStateCause.Enabled, device => "enabled on device " + device, why => "setup failed: " + why);
            }

            TargetStatus status = target.Status;
            result = new EnableResult(status.State, status.Cause, status.Reason);
        }

        RaisePending();
        return result;
    }

    /// <summary>
    /// Disables a target (the operator's disable): closes its transport, and it no longer resumes
    /// by itself, even when a resume was already queued. Disabling a disabled target changes nothing.
    /// </summary>
    /// <param name="name">The target's name.</param>
    /// <exception cref="KeyNotFoundException">There is no target of that name.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public void Disable(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_configLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            ThrowIfInChangeCallback("disable a target");
            NetconsoleTarget target = Get(name);
            if (target.Status.State != TargetState.Disabled)
            {
                SetStatus(target, TargetState.Disabled, TargetStateCause.DisabledByOperator, "disabled by the operator", null);
            }
        }

        RaisePending();
    }

    /// <summary>
    /// Changes a target's configuration: <paramref name="change"/> edits a copy, which is validated
    /// and then takes effect (at the next enable or resume). Refused while the target is enabled,
    /// as in the kernel: disable it first. A deactivated target may be reconfigured; it then
    /// resumes on a device matching the new configuration.
    /// </summary>
    /// <param name="name">The target's name.</param>
    /// <param name="change">Edits the copy; it must not change <see cref="NetconsoleTargetOptions.Name"/>, and must not add, remove, enable, disable or reconfigure targets (refused with <see cref="InvalidOperationException"/>: the lock held for the change would let it in).</param>
    /// <exception cref="KeyNotFoundException">There is no target of that name.</exception>
    /// <exception cref="InvalidOperationException">The target is enabled, or <paramref name="change"/> changed the name.</exception>
    /// <exception cref="NetconsoleConfigurationException">The changed configuration is not valid; nothing changed.</exception>
    /// <exception cref="ObjectDisposedException">The manager was disposed.</exception>
    public void Reconfigure(string name, Action<NetconsoleTargetOptions> change)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(change);
        lock (_configLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            ThrowIfInChangeCallback("reconfigure a target");
            NetconsoleTarget target = Get(name);
            if (target.Status.State == TargetState.Enabled)
            {
                throw new InvalidOperationException(
                    $"Target {name} is enabled: as in the kernel, its configuration cannot change while it is enabled. Disable it first.");
            }

            NetconsoleTargetOptions copy = target.CurrentOptions.Clone();
            _reconfiguring = name;
            try
            {
                // The lock is re-entrant: without this, the callback could enable the target and
                // the new options would no longer describe what it sends.
                change(copy);
            }
            finally
            {
                _reconfiguring = null;
            }

            if (!string.Equals(copy.Name, target.Name, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Target {name} cannot be renamed (to {copy.Name ?? "null"}): remove it and add it again under the new name.");
            }

            copy.Validate();
            target.SetOptions(copy, new RecordFormatter(copy.ToRecordFormat()));
        }
    }

    // Under _configLock. On the thread of a Reconfigure callback (the lock lets it in), a change of
    // any target is refused rather than done behind the reconfiguration's back.
    private void ThrowIfInChangeCallback(string what)
    {
        if (_reconfiguring is { } name)
        {
            throw new InvalidOperationException(
                $"Cannot {what} from inside the change callback of Reconfigure(\"{name}\"): the callback only changes the options it is given. Make the call after Reconfigure returns.");
        }
    }

    /// <summary>
    /// Sends a record to every target: each enabled target formats it (with its own formatter and
    /// sequence numbers) and injects its frames; every other target counts it as dropped. Never
    /// throws: failures are counted in the targets' statistics.
    /// </summary>
    /// <param name="record">The record.</param>
    /// <returns>How many targets sent it: 0 when none did (no target, none enabled, or each dropped it; each counted why in its statistics).</returns>
    /// <remarks>
    /// <para>
    /// Synchronous: when it returns, the frames were handed to the transports. Safe to call from
    /// several threads; records to one target are formatted one at a time.
    /// </para>
    /// <para>
    /// Sequence numbers: give consecutive <see cref="NetconsoleRecord.Sequence"/> values. A record
    /// too long for one record (see <see cref="RecordFormatter"/>) becomes a continued group that
    /// takes several sequence numbers; each target then adds the extra numbers it has used so far
    /// (its skew) to the sequence of every later record, so its stream on the wire stays contiguous.
    /// A record a target drops before formatting (disabled, deactivated) leaves a gap in its stream,
    /// as a lost record should.
    /// </para>
    /// <para>
    /// Pacing: a target with <see cref="NetconsoleTargetOptions.MaxDatagramsPerSecond"/> makes the
    /// calling thread wait, over its limit, until the record may go to it (the targets are served
    /// in turn, so the targets after it wait too). The wait ends early, and the target drops the
    /// record, when it is disabled or deactivated, or the manager is disposed.
    /// </para>
    /// <para>After <see cref="Dispose()"/>, does nothing and returns 0.</para>
    /// </remarks>
    public int Send(in NetconsoleRecord record)
    {
        if (IsDisposed)
        {
            // Targets whose closing a blocked open holds up are still listed: nothing goes to them.
            return 0;
        }

        int sent = 0;
        foreach (NetconsoleTarget target in Volatile.Read(ref _targets))
        {
            try
            {
                if (target.TrySend(record, out _))
                {
                    sent++;
                }
            }
            catch (Exception)
            {
                // TrySend counts its own failures and never throws; the application must never see one.
            }
        }

        return sent;
    }

    /// <summary>
    /// Sends records to every target, in order, as <see cref="Send"/> sends each (same formats,
    /// sequence numbers, counting, replay buffer and pacing), but each target injects the frames of
    /// the records it sends back to back: up to 64 frames per <see cref="IFrameTransport.SendBatch"/>
    /// call, one system call with the packet-socket transport instead of one per frame. For a
    /// sender that has several records at hand (a queue's backlog); a record waits for nothing: the
    /// frames go when the call returns, however few records it was given. Never throws.
    /// </summary>
    /// <param name="records">The records, with consecutive sequence numbers (see <see cref="Send"/>).</param>
    /// <param name="sentTo">
    /// Empty, or where to say what <see cref="Send"/> would have returned for each record: entry
    /// <c>i</c> receives how many targets sent <c>records[i]</c> (or keep it in their replay buffer).
    /// </param>
    /// <returns>How many of the records at least one target sent (or keeps in its replay buffer); 0 after <see cref="Dispose()"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="sentTo"/> is neither empty nor as long as <paramref name="records"/>.</exception>
    /// <remarks>
    /// Each target takes the records in runs of 64, holding its send lock for a run: a
    /// configuration change to it waits for the run to be injected. When a frame of the run
    /// fails, its record is settled as a failed <see cref="Send"/> would be (the rest of it waits
    /// in the replay buffer, or it is dropped and counted), and the records after it follow it
    /// into the replay buffer, or are tried in turn.
    /// </remarks>
    public int SendBatch(ReadOnlySpan<NetconsoleRecord> records, Span<int> sentTo = default)
    {
        if (!sentTo.IsEmpty && sentTo.Length != records.Length)
        {
            throw new ArgumentException(
                $"sentTo holds {sentTo.Length} entries for {records.Length} records: give one per record, or none.", nameof(sentTo));
        }

        sentTo.Clear();
        if (IsDisposed)
        {
            return 0;
        }

        int delivered = 0;
        Span<int> own = stackalloc int[NetconsoleTarget.FramesPerBatch];
        NetconsoleTarget[] targets = Volatile.Read(ref _targets);
        for (int start = 0; start < records.Length; start += NetconsoleTarget.FramesPerBatch)
        {
            ReadOnlySpan<NetconsoleRecord> run = records.Slice(start, Math.Min(records.Length - start, NetconsoleTarget.FramesPerBatch));
            Span<int> counts = sentTo.IsEmpty ? own[..run.Length] : sentTo.Slice(start, run.Length);
            counts.Clear();
            foreach (NetconsoleTarget target in targets)
            {
                try
                {
                    target.SendRun(run, counts);
                }
                catch (Exception)
                {
                    // SendRun counts its own failures and never throws; the application must never see one.
                }
            }

            foreach (int count in counts)
            {
                if (count > 0)
                {
                    delivered++;
                }
            }
        }

        return delivered;
    }

    /// <summary>
    /// Stops watching devices, stops the resume worker, disables every target (without raising
    /// <see cref="StateChanged"/>) and closes their transports; disposes the watcher only when the
    /// manager created it. Waits at most <see cref="TargetManagerOptions.DisposeTimeout"/> (2 s by
    /// default) for all of it: a target setup in progress holds the configuration lock for as long
    /// as its transport open blocks, and is not waited for past that limit. What is not closed by
    /// then is closed as soon as the call holding it up returns (a transport opened after disposal
    /// began is closed at once by the thread that opened it, and that <see cref="Enable"/> returns
    /// <see cref="TargetState.Disabled"/> with <see cref="TargetStateCause.ManagerDisposed"/>);
    /// meanwhile <see cref="Send"/> sends nothing. <see cref="Dispose(TimeSpan)"/> says how many
    /// targets were left so. Calling it again does nothing.
    /// </summary>
    public void Dispose() => Dispose(_disposeTimeout);

    /// <summary>As <see cref="Dispose()"/>, which completes synchronously (within <see cref="TargetManagerOptions.DisposeTimeout"/>).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// As <see cref="Dispose()"/>, waiting at most <paramref name="timeout"/> instead of
    /// <see cref="TargetManagerOptions.DisposeTimeout"/>: for an owner with a time limit of its own
    /// (the logging provider disposes its manager within what is left of its <c>DisposeTimeout</c>).
    /// </summary>
    /// <param name="timeout">The longest to wait; <see cref="TimeSpan.Zero"/> does not wait, <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <returns>
    /// How many targets still had a transport open, or being opened, when it stopped waiting (each
    /// is closed when the call holding it up returns); 0 when everything was closed in time, or the
    /// manager was disposed already.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than <see cref="Timeout.InfiniteTimeSpan"/>).</exception>
    public int Dispose(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The time limit is zero (no wait) or more, or Timeout.InfiniteTimeSpan for none.");
        }

        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return 0;
        }

        _watcher.DeviceChanged -= OnDeviceChanged;
        SignalWorkerStop();
        lock (_carrierGate)
        {
            Monitor.PulseAll(_carrierGate); // a setup waiting for a carrier gives up now
        }

        // A handler running on the worker may dispose the manager: the worker ends after it returns.
        bool joinWorker = Thread.CurrentThread != _worker;
        if (_configLock.IsHeldByCurrentThread)
        {
            // Called with the configuration lock held (a Reconfigure callback): no one else can
            // hold it up, and a thread of our own would wait for this one. (Nor can the worker be
            // waited for: it may be waiting for the lock.)
            CloseEverything(joinWorker: false);
            return 0;
        }

        // On a thread of its own, so that whatever blocks (an open under the configuration lock,
        // a transport's close, the watcher's) holds up that thread, not the caller. Past the limit
        // it goes on by itself and closes the rest once it gets the lock; a setup that returns
        // after disposal began closes its own transport (TrySetUp).
        var closer = new Thread(() => CloseEverything(joinWorker)) { IsBackground = true, Name = DisposeThreadName };
        closer.Start();
        if (closer.Join(timeout))
        {
            return 0;
        }

        int notClosed = 0;
        NetconsoleTarget? settingUp = Volatile.Read(ref _settingUp);
        foreach (NetconsoleTarget target in Volatile.Read(ref _targets))
        {
            if (target.Status.Session is not null || target == settingUp)
            {
                notClosed++;
            }
        }

        return notClosed;
    }

    // The disposal's closing, in order: the worker ends (its item may hold the lock), then under
    // the lock every target is disabled and its transport closed (once no send uses it), then the
    // watcher. Runs on the closer thread (never throws: it would end the process) or, for a caller
    // holding the lock, on that caller's.
    private void CloseEverything(bool joinWorker)
    {
        try
        {
            if (joinWorker && _worker.ThreadState != ThreadState.Unstarted)
            {
                _worker.Join();
            }

            lock (_configLock)
            {
                foreach (NetconsoleTarget target in _targets)
                {
                    SetStatus(target, TargetState.Disabled, TargetStateCause.ManagerDisposed, DisposedReason, null, raise: false);
                }

                Volatile.Write(ref _targets, []);
            }

            if (_ownsWatcher)
            {
                _watcher.Dispose();
            }
        }
        catch (Exception)
        {
            // A watcher that fails to close is closed as far as this manager is concerned.
        }
    }

    private NetconsoleTarget? Find(string name)
    {
        foreach (NetconsoleTarget target in _targets)
        {
            if (string.Equals(target.Name, name, StringComparison.Ordinal))
            {
                return target;
            }
        }

        return null;
    }

    private NetconsoleTarget Get(string name) =>
        Find(name) ?? throw new KeyNotFoundException(
            $"No target named {name}; the targets are: {(_targets.Length == 0 ? "none" : string.Join(", ", _targets.Select(t => t.Name)))}.");

    // Configuration lock held. Sets the target up on its device: Enabled on success, Deactivated
    // with the reason on failure (the transport, if it was opened, is closed again).
    private bool TrySetUp(NetconsoleTarget target, TargetStateCause success, Func<string, string> successReason, Func<string, string> failure)
    {
        if (IsDisposed)
        {
            // No open once disposal began: it would only hold up the closing.
            SetStatus(target, TargetState.Disabled, TargetStateCause.ManagerDisposed, DisposedReason, null, raise: false);
            return false;
        }

        TargetSession session;
        try
        {
            Volatile.Write(ref _settingUp, target);
            NetconsoleTargetOptions options = target.CurrentOptions;
            session = TargetSetup.Open(options, _watcher.GetDevices(), _transportFactory, target.NextIdentification, _routeLookup, _nextHop, AwaitCarrier);
        }
        catch (Exception) when (IsDisposed)
        {
            SetStatus(target, TargetState.Disabled, TargetStateCause.ManagerDisposed, DisposedReason, null, raise: false);
            return false;
        }
        catch (Exception e)
        {
            SetStatus(target, TargetState.Deactivated, TargetSetupException.CauseOf(e), failure(e.Message), null);
            if (e is TargetSetupException { RetryLater: true })
            {
                target.RetryLater = true;
                ArmSetupRetry();
            }

            return false;
        }
        finally
        {
            Volatile.Write(ref _settingUp, null);
        }

        if (IsDisposed)
        {
            // The open returned after Dispose stopped waiting for it (or while it waits): the
            // transport is closed here, by the thread that got it, and never published.
            try
            {
                session.Transport.Dispose();
            }
            catch (Exception)
            {
                // A transport that fails to close is closed as far as this target is concerned.
            }

            SetStatus(target, TargetState.Disabled, TargetStateCause.ManagerDisposed, DisposedReason, null, raise: false);
            return false;
        }

        session.SetupReason = successReason(session.DeviceName);
        session.Checked(Timestamp());
        SetStatus(target, TargetState.Enabled, success, session.Reason, session);

        // A carrier lost between setup's look at the device and the session's publication was
        // raised when no send could see this session: take the link from the watcher's view now.
        // (An event raised after that view was taken finds the session published.) Its Down event
        // is queued behind this work, and deactivates the target.
        if (_watcher.GetDevices().FirstOrDefault(d => d.Index == session.DeviceIndex) is { } now)
        {
            session.SetLink(now);
        }

        return true;
    }

    // Configuration lock held (setup): waits at most CarrierTimeout for the device's carrier,
    // looking at the watcher's view again after each link event (and every 50 ms, for watchers
    // that are slow to tell). Ends early when the device goes down or away, or on disposal.
    private NetworkDevice AwaitCarrier(NetworkDevice device)
    {
        Interlocked.Increment(ref _carrierWaits);
        long deadline = Environment.TickCount64 + (long)_carrierTimeout.TotalMilliseconds;
        while (true)
        {
            long seen;
            lock (_carrierGate)
            {
                seen = _linkEvents;
            }

            // The watcher's view, read outside the gate: the watcher never holds its lock while it raises events.
            NetworkDevice? current = _watcher.GetDevices().FirstOrDefault(d => d.Index == device.Index);
            if (current is { IsUp: true, IsRunning: true })
            {
                return current;
            }

            if (current is null)
            {
                throw new TargetSetupException(TargetStateCause.NoSuchDevice, $"device {device.Name} went away while setup waited for its carrier");
            }

            if (!current.IsUp)
            {
                throw new TargetSetupException(TargetStateCause.DeviceDown, $"device {device.Name} was set down while setup waited for its carrier");
            }

            long left = deadline - Environment.TickCount64;
            if (left <= 0 || IsDisposed)
            {
                throw new TargetSetupException(TargetStateCause.NoCarrier, TargetSetup.NoCarrierReason(device.Name, _carrierTimeout));
            }

            lock (_carrierGate)
            {
                if (_linkEvents == seen)
                {
                    Monitor.Wait(_carrierGate, (int)Math.Min(left, 50));
                }
            }
        }
    }

    // Configuration lock held. Publishes the new status first, then closes the old session once
    // no send uses it, then queues the event (when the state changed).
    private void SetStatus(NetconsoleTarget target, TargetState state, TargetStateCause cause, string reason, TargetSession? session, bool raise = true)
    {
        target.RetryLater = false;
        TargetStatus old = target.Status;
        DateTimeOffset since = old.State == state ? old.Since : _timeProvider.GetUtcNow();
        target.Publish(new TargetStatus(state, cause, reason, since, session));
        if (old.Session is { } previous && !ReferenceEquals(previous, session))
        {
            target.WaitForSendsInFlight();
            target.NextIdentification = previous.Frames.NextIdentification;
            try
            {
                previous.Transport.Dispose();
            }
            catch (Exception)
            {
                // A transport that fails to close is closed as far as this target is concerned.
            }
        }

        // Disabled targets never buffer: the operator's disable (a removal, disposal) drops what
        // waits. A target that can send again replays what waits, first.
        if (state == TargetState.Disabled)
        {
            if (cause == TargetStateCause.ManagerDisposed)
            {
                target.DetachSpool(); // the process stops: the next one sends what waits
            }

            target.DiscardReplay();
        }
        else
        {
            target.AdoptSpools(); // once: what earlier processes left goes first
            if (session is not null)
            {
                target.KickReplay();
            }
        }

        if (raise && old.State != state)
        {
            _notices.Enqueue(new TargetStateChangedEventArgs(target, old.State, state, cause, reason));
        }
    }
}
