using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>
/// A live netconsole target owned by a <see cref="TargetManager"/>: its name, configuration,
/// state (with the reason), the device it is bound to, its counters and a state-change event.
/// </summary>
/// <remarks>
/// Every member is safe to use from any thread. Change the state and the configuration through
/// the manager (<see cref="TargetManager.Enable"/>, <see cref="TargetManager.Disable"/>,
/// <see cref="TargetManager.Reconfigure"/>).
/// </remarks>
public sealed partial class NetconsoleTarget
{
    private readonly TargetManager _manager;
    private NetconsoleTargetOptions _options;
    private TargetStatus _status;

    internal NetconsoleTarget(TargetManager manager, string name, NetconsoleTargetOptions options, DateTimeOffset now)
    {
        _manager = manager;
        Name = name;
        _options = options;
        _formatter = new RecordFormatter(options.ToRecordFormat());
        _pacer = DatagramPacer.For(options, manager.Clock);
        _replayPacer = new DatagramPacer(DefaultReplayRate, NetconsoleTargetOptions.DefaultMaxDatagramBurst, manager.Clock);
        _countDrop = reason => Interlocked.Increment(ref _dropped[(int)reason]);
        ConfigureReplayLocked(options);
        _status = new TargetStatus(TargetState.Disabled, TargetStateCause.NotEnabled, "added, not enabled yet", now, null);
    }

    /// <summary>Raised when the target changes state; see <see cref="TargetManager.StateChanged"/> for the thread it runs on.</summary>
    public event EventHandler<TargetStateChangedEventArgs>? StateChanged;

    /// <summary>The target's name, unique within its manager.</summary>
    public string Name { get; }

    /// <summary>A copy of the target's configuration (editing it changes nothing: use <see cref="TargetManager.Reconfigure"/>).</summary>
    public NetconsoleTargetOptions Options => Volatile.Read(ref _options).Clone();

    /// <summary>The current state.</summary>
    public TargetState State => Status.State;

    /// <summary>
    /// Why the target is in its state, in words: for example <c>disabled by the operator</c>,
    /// <c>device veth0 unregistered</c>, <c>setup failed: no device named veth0</c>,
    /// <c>resumed on device veth0</c>.
    /// </summary>
    public string StateReason => Status.Reason;

    /// <summary>Why the target is in its state, for code (<see cref="StateReason"/> says it in words, with the details).</summary>
    public TargetStateCause StateCause => Status.Cause;

    /// <summary>
    /// The name of the device the target is bound to: the device it sends on while enabled;
    /// otherwise the configured <see cref="NetconsoleTargetOptions.DeviceName"/>, or
    /// <see langword="null"/> for a target bound by MAC (it forgets the name of a device that went away).
    /// </summary>
    public string? DeviceName => Status.Session?.DeviceName ?? Volatile.Read(ref _options).DeviceName;

    /// <summary>
    /// The destination MAC of the target's frames while it is enabled: the configured
    /// <see cref="NetconsoleTargetOptions.RemoteMac"/>, the resolved next hop's MAC (the remote's
    /// when on-link, else the gateway's), or ff:ff:ff:ff:ff:ff when nothing answered (the
    /// <see cref="StateReason"/> then says so); <see langword="null"/> while not enabled.
    /// </summary>
    public System.Net.NetworkInformation.PhysicalAddress? DestinationMac => Status.Session?.Destination;

    /// <summary>The current configuration, shared (never changed after it is published).</summary>
    internal NetconsoleTargetOptions CurrentOptions => Volatile.Read(ref _options);

    /// <summary>State, reason, time of the change and the session, published together.</summary>
    internal TargetStatus Status => Volatile.Read(ref _status);

    /// <summary>The IPv4 identification the next frame template starts from, so a resumed target continues its sequence (configuration lock).</summary>
    internal ushort NextIdentification { get; set; } = 1;

    /// <summary>Deactivated by a setup failure no device event may fix (no route, no address yet): retried periodically (configuration lock).</summary>
    internal bool RetryLater { get; set; }

    /// <summary>Takes a snapshot of the counters.</summary>
    /// <returns>The snapshot.</returns>
    public TargetStatistics GetStatistics()
    {
        var dropped = new Dictionary<TargetDropReason, long>(_dropped.Length);
        for (int i = 0; i < _dropped.Length; i++)
        {
            dropped[(TargetDropReason)i] = Interlocked.Read(ref _dropped[i]);
        }

        TargetStatus status = Status;
        return new TargetStatistics(
            status.State,
            Interlocked.Read(ref _recordsSent),
            Interlocked.Read(ref _datagramsSent),
            dropped,
            Interlocked.Read(ref _transmitErrors),
            Interlocked.Read(ref _resumes),
            status.Since,
            Interlocked.Read(ref _nextHopChecks),
            Interlocked.Read(ref _nextHopChanges),
            Interlocked.Read(ref _recordsReplayed),
            Volatile.Read(ref _buffered),
            Interlocked.Read(ref _recordsFromSpool),
            Interlocked.Read(ref _spoolErrors) + (Volatile.Read(ref _replay)?.SpoolErrors ?? 0) + _retiredSpoolErrors);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {State} ({StateReason})";

    /// <summary>Publishes a new status (configuration lock) and wakes the senders waiting for pacing, so they see it.</summary>
    internal void Publish(TargetStatus status)
    {
        Volatile.Write(ref _status, status);
        lock (_pacingGate)
        {
            Monitor.PulseAll(_pacingGate);
        }
    }

    /// <summary>Publishes new options and the formatter and pacing that go with them (configuration lock, target not enabled).</summary>
    internal void SetOptions(NetconsoleTargetOptions options, RecordFormatter? formatter)
    {
        if (formatter is not null)
        {
            lock (_sendLock)
            {
                _formatter = formatter;
                ConfigureReplayLocked(options);
            }

            Volatile.Write(ref _pacer, DatagramPacer.For(options, _manager.Clock));
        }

        Volatile.Write(ref _options, options);
    }

    internal void CountResume() => Interlocked.Increment(ref _resumes);

    /// <summary>Counts a finished next-hop re-check, and whether it changed the MAC.</summary>
    internal void CountNextHopCheck(bool changed)
    {
        Interlocked.Increment(ref _nextHopChecks);
        if (changed)
        {
            Interlocked.Increment(ref _nextHopChanges);
        }
    }

    /// <summary>Swaps the session's frame template for one to <paramref name="destination"/> between two records (configuration lock).</summary>
    internal void Redirect(TargetSession session, System.Net.NetworkInformation.PhysicalAddress destination)
    {
        lock (_sendLock)
        {
            session.Redirect(destination);
        }
    }

    /// <returns>How many handlers threw.</returns>
    internal int RaiseStateChanged(TargetStateChangedEventArgs e) => TargetManager.InvokeEach(StateChanged, this, e);
}

/// <summary>A target's state with its cause and reason, when it changed, and (while enabled) its session.</summary>
internal sealed class TargetStatus
{
    public TargetStatus(TargetState state, TargetStateCause cause, string reason, DateTimeOffset since, TargetSession? session)
    {
        State = state;
        Cause = cause;
        Reason = reason;
        Since = since;
        Session = session;
    }

    public TargetState State { get; }

    public TargetStateCause Cause { get; }

    public string Reason { get; }

    public DateTimeOffset Since { get; }

    /// <summary>Set exactly when <see cref="State"/> is <see cref="TargetState.Enabled"/>.</summary>
    public TargetSession? Session { get; }
}
