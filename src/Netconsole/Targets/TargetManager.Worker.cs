using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Resolution;
using Netconsole.Transport;

namespace Netconsole.Targets;

public sealed partial class TargetManager
{
    /// <summary>The name of the manager's resume worker thread.</summary>
    internal const string WorkerThreadName = "netconsole-resume";

    private readonly Thread _worker;

    // Guards the work queue and the worker's flags: held only to queue or take an item, never
    // while an item is processed, so the watcher's thread and the send path never wait for long.
    private readonly object _workLock = new();
    private readonly Queue<WorkItem> _work = new();
    private bool _stopping;
    private bool _paused;
    private bool _busy;
    private bool _retryArmed; // some target waits for a route or an address: try again every SetupRetryInterval
    private int _workerFailures;
    private int _setupRetryPasses;
    private int _handlerFailures;

    // State changes queued under the configuration lock (so in order) and raised outside it by
    // whichever thread holds _raiseLock.
    private readonly ConcurrentQueue<TargetStateChangedEventArgs> _notices = new();
    private readonly Lock _raiseLock = new();

    /// <summary>The resume worker (tests check it ends with the manager).</summary>
    internal Thread WorkerThread => _worker;

    /// <summary>The device watcher in use, for tests.</summary>
    internal IDeviceWatcher Watcher => _watcher;

    /// <summary>Work items that threw (and were ignored: the worker goes on); tests expect 0.</summary>
    internal int WorkerFailures => Volatile.Read(ref _workerFailures);

    /// <summary>How many times the worker went over the targets waiting for a route or an address (tests wait for one instead of sleeping).</summary>
    internal int SetupRetryPasses => Volatile.Read(ref _setupRetryPasses);

    /// <summary>StateChanged handlers that threw (and were ignored).</summary>
    internal int HandlerFailures => Volatile.Read(ref _handlerFailures);

    /// <summary>Holds the worker before its next item (tests: make a queued resume observable).</summary>
    internal void PauseWorker()
    {
        lock (_workLock)
        {
            _paused = true;
        }
    }

    /// <summary>Lets the worker go on after <see cref="PauseWorker"/>.</summary>
    internal void ResumeWorker()
    {
        lock (_workLock)
        {
            _paused = false;
            Monitor.PulseAll(_workLock);
        }
    }

    /// <summary>Waits until the worker has nothing queued and nothing in progress (its events raised).</summary>
    /// <returns>False on timeout.</returns>
    internal bool WaitForWorkerIdle(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_workLock)
        {
            while (_work.Count > 0 || _busy)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || _stopping)
                {
                    return false;
                }

                Monitor.Wait(_workLock, TimeSpan.FromMilliseconds(left));
            }

            return true;
        }
    }

    /// <summary>Called by a send that found its transport dead: the worker deactivates the target.</summary>
    internal void QueueTransportLost(NetconsoleTarget target, TargetSession session, FrameTransportException error) =>
        Enqueue(new TransportLost(target, session, error));

    // Configuration lock held: a target now waits for a route or an address.
    private void ArmSetupRetry()
    {
        lock (_workLock)
        {
            _retryArmed = true;
            Monitor.PulseAll(_workLock);
        }
    }

    // Configuration lock held: tries again to set up the targets waiting for a route or an address.
    private void RetrySetups()
    {
        bool waiting = false;
        foreach (NetconsoleTarget target in _targets)
        {
            if (target.RetryLater && target.Status.State == TargetState.Deactivated)
            {
                if (TrySetUp(target, TargetStateCause.Resumed, name => "resumed on device " + name, why => "setup failed: " + why))
                {
                    target.CountResume();
                }

                waiting |= target.RetryLater;
            }
        }

        lock (_workLock)
        {
            _retryArmed = waiting;
        }

        Interlocked.Increment(ref _setupRetryPasses);
    }

    /// <summary>Called by a send (or a device coming up) when a session's resolved next hop is due a re-check.</summary>
    internal void QueueNextHopRecheck(NetconsoleTarget target, TargetSession session, string why) =>
        Enqueue(new NextHopRecheckDue(target, session, why));

    // The watcher's thread: the link state of the sessions on the device (so a send stops at
    // once when the carrier goes, and goes again as soon as it returns), a pulse for a setup
    // waiting for a carrier, and the rest queued for the worker.
    private void OnDeviceChanged(object? sender, DeviceChangedEventArgs e)
    {
        if (e is null || IsDisposed)
        {
            return;
        }

        if (e.Kind is DeviceChangeKind.Up or DeviceChangeKind.Down)
        {
            foreach (NetconsoleTarget target in Volatile.Read(ref _targets))
            {
                if (target.Status.Session is { } session && session.DeviceIndex == e.Device.Index)
                {
                    session.SetLink(e.Device);
                }
            }

            lock (_carrierGate)
            {
                _linkEvents++;
                Monitor.PulseAll(_carrierGate);
            }
        }

        Enqueue(new DeviceChanged(e));
    }

    private void Enqueue(WorkItem item)
    {
        lock (_workLock)
        {
            if (_stopping)
            {
                return;
            }

            _work.Enqueue(item);
            Monitor.PulseAll(_workLock);
        }
    }

    // Disposal: the worker ends after the item it is on (Dispose waits for that within its time limit).
    private void SignalWorkerStop()
    {
        lock (_workLock)
        {
            _stopping = true;
            _work.Clear();
            Monitor.PulseAll(_workLock);
        }
    }

    private void RunWorker()
    {
        while (true)
        {
            WorkItem item;
            lock (_workLock)
            {
                while (!_stopping && (_paused || _work.Count == 0))
                {
                    if (!_retryArmed || _paused)
                    {
                        Monitor.Wait(_workLock);
                    }
                    else if (!Monitor.Wait(_workLock, SetupRetryInterval) && _retryArmed && !_paused && _work.Count == 0)
                    {
                        _work.Enqueue(RetryWaitingSetups.Instance);
                    }
                }

                if (_stopping)
                {
                    _busy = false;
                    Monitor.PulseAll(_workLock);
                    return;
                }

                item = _work.Dequeue();
                _busy = true;
            }

            try
            {
                Process(item);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _workerFailures);
            }

            RaisePending();
            lock (_workLock)
            {
                _busy = false;
                Monitor.PulseAll(_workLock);
            }
        }
    }

    private void Process(WorkItem item)
    {
        if (item is NextHopRecheckDue recheck)
        {
            // Takes the configuration lock itself, and not while it asks the network.
            Recheck(recheck.Target, recheck.Session, recheck.Why);
            return;
        }

        lock (_configLock)
        {
            if (IsDisposed)
            {
                return;
            }

            switch (item)
            {
                case RetryWaitingSetups:
                    RetrySetups();
                    break;
                case DeviceChanged changed:
                    foreach (NetconsoleTarget target in _targets)
                    {
                        if (IsDisposed)
                        {
                            break; // a setup held up disposal: the rest is left to its closing
                        }

                        Apply(target, changed.Event);
                    }

                    break;
                case TransportLost lost when lost.Target.Status.Session == lost.Session && Find(lost.Target.Name) == lost.Target:
                    SetStatus(lost.Target, TargetState.Deactivated, TargetStateCause.TransportLost, $"device {lost.Session.DeviceName} gone: {lost.Error.Message}", null);
                    break;
            }
        }
    }

    // Configuration lock held.
    private void Apply(NetconsoleTarget target, DeviceChangedEventArgs e)
    {
        TargetStatus status = target.Status;
        NetworkDevice device = e.Device;
        if (status.Session is { } session && session.DeviceIndex == device.Index)
        {
            if (e.Kind == DeviceChangeKind.Unregistered)
            {
                SetStatus(target, TargetState.Deactivated, TargetStateCause.DeviceUnregistered, $"device {session.DeviceName} unregistered", null);
            }
            else if (e.Kind == DeviceChangeKind.Renamed)
            {
                FollowRename(target, session, device);
            }
            else if (e.Kind == DeviceChangeKind.Down && session.Link == TargetSession.LinkNoCarrier)
            {
                // Still without carrier (a flap already over leaves the target enabled: the sends
                // in between were counted as NoCarrier). A device set down stays enabled, as in
                // the kernel: the transport refuses its frames (DeviceDown) until it is up again.
                SetStatus(target, TargetState.Deactivated, TargetStateCause.NoCarrier, $"device {session.DeviceName} lost its carrier (no link: a cable, a switch port or the veth peer is down)", null);
            }
            else if (e.Kind == DeviceChangeKind.Up)
            {
                if (session.Recheck is not null && session.TryMarkRecheckQueued())
                {
                    // The link was down: the neighbour may have changed meanwhile.
                    QueueNextHopRecheck(target, session, "after the link came up");
                }

                // Records buffered while the device was down or without carrier go out now.
                target.KickReplay();
            }

            return;
        }

        // Registered, renamed, new MAC, up (carrier back included): a deactivated target bound to this device resumes.
        // Only the state and the binding are looked at now; the operator's Disable, a Remove or a
        // Reconfigure made meanwhile (all under the configuration lock) are seen here.
        // A target that names no device on a system without route lookup fails the same way on
        // every event: it waits for the operator instead (Reconfigure, Enable).
        if (e.Kind is DeviceChangeKind.Unregistered or DeviceChangeKind.Down || status.State != TargetState.Deactivated
            || !TargetSetup.Matches(target.CurrentOptions, device)
            || (_routeLookup is null && TargetSetup.NamesNoDevice(target.CurrentOptions)))
        {
            return;
        }

        // The device may be gone again already: then its Unregistered event is queued behind this one.
        NetworkDevice? current = TargetSetup.FindDevice(target.CurrentOptions, _watcher.GetDevices());
        if (current is null)
        {
            return;
        }

        bool named = !TargetSetup.NamesNoDevice(target.CurrentOptions);
        if (TrySetUp(target, TargetStateCause.Resumed, name => "resumed on device " + name, why => named ? $"resume on device {current.Name} failed: {why}" : "resume failed: " + why))
        {
            target.CountResume();
        }
    }

    // The worker, outside the configuration lock while it asks (the neighbour table, then ARP / NDP
    // for up to ~0.9 s); under it to apply: only if the session is still the target's, so a
    // Disable, Remove or resume meanwhile wins. A changed MAC gets a new frame template, swapped
    // between two records; nothing known keeps the MAC the target has.
    private void Recheck(NetconsoleTarget target, TargetSession session, string why)
    {
        NextHopRecheck recheck = session.Recheck!;
        lock (_configLock)
        {
            if (IsDisposed || target.Status.Session != session)
            {
                return;
            }
        }

        NextHopAnswer answer;
        try
        {
            answer = recheck.Resolver(recheck.Query, recheck: true);
        }
        catch (Exception e)
        {
            answer = new NextHopAnswer(null, $"next-hop re-check failed: {e.Message}");
        }

        lock (_configLock)
        {
            if (IsDisposed || target.Status.Session != session)
            {
                return;
            }

            ApplyRecheck(target, session, answer, why);
            session.Checked(Timestamp()); // after the swap: the next re-check is asked for by a record sent with the new template
        }
    }

    // Configuration lock held.
    private void ApplyRecheck(NetconsoleTarget target, TargetSession session, NextHopAnswer answer, string why)
    {
        PhysicalAddress old = session.Destination;
        bool changed = answer.Mac is { } mac && !mac.Equals(old);
        if (changed)
        {
            target.Redirect(session, answer.Mac!);
            session.NextHopNote = $"{answer.Note}, was {MacAddressText.Format(old)} until re-checked {why}";
            SetStatus(target, TargetState.Enabled, target.Status.Cause, session.Reason, session);
        }

        // Counted last: whoever sees the count sees the new template and reason.
        target.CountNextHopCheck(changed);
    }

    // As the kernel, whose dev_name follows a rename: an enabled target keeps sending on its
    // device under the new name, and a target bound by name waits for that name from now on.
    // A target that still names the device (by MAC, or by a Windows Npcap name, which a rename
    // of the connection leaves alone) keeps its binding.
    private static void FollowRename(NetconsoleTarget target, TargetSession session, NetworkDevice renamed)
    {
        string newName = renamed.Name;
        session.DeviceName = newName;
        NetconsoleTargetOptions options = target.CurrentOptions;
        if (options.DeviceMac is not null || (options.DeviceName is { } name && renamed.IsNamed(name)))
        {
            return;
        }

        try
        {
            NetconsoleTargetOptions following = options.Clone();
            following.DeviceName = newName;
            target.SetOptions(following, null);
        }
        catch (NetconsoleConfigurationException)
        {
            // A name the options cannot hold: the target keeps waiting for the old one.
        }
    }

    // Raises the queued state changes, in order, outside the configuration lock. A thread that
    // finds another one raising leaves its changes to it: that one loops until the queue is empty,
    // and looks again after releasing the lock.
    private void RaisePending()
    {
        while (!_notices.IsEmpty)
        {
            if (!_raiseLock.TryEnter())
            {
                return;
            }

            try
            {
                while (_notices.TryDequeue(out TargetStateChangedEventArgs? e))
                {
                    Raise(e);
                }
            }
            finally
            {
                _raiseLock.Exit();
            }
        }
    }

    private void Raise(TargetStateChangedEventArgs e)
    {
        int failures = e.Target.RaiseStateChanged(e) + InvokeEach(StateChanged, this, e);
        if (failures > 0)
        {
            Interlocked.Add(ref _handlerFailures, failures);
        }
    }

    /// <summary>Calls every handler, each on its own: one that throws neither stops the others nor reaches the caller.</summary>
    /// <returns>How many handlers threw.</returns>
    internal static int InvokeEach(EventHandler<TargetStateChangedEventArgs>? handlers, object sender, TargetStateChangedEventArgs e)
    {
        if (handlers is null)
        {
            return 0;
        }

        int failures = 0;
        foreach (Delegate handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<TargetStateChangedEventArgs>)handler)(sender, e);
            }
            catch (Exception)
            {
                failures++;
            }
        }

        return failures;
    }

    /// <summary>What the worker does next: one of the records below.</summary>
    private abstract record WorkItem;

    /// <summary>A device changed: resume the deactivated targets bound to it, follow renames, deactivate those on a device that left.</summary>
    private sealed record DeviceChanged(DeviceChangedEventArgs Event) : WorkItem;

    /// <summary>A send found the session's transport dead for good: deactivate the target, if the session is still its own.</summary>
    private sealed record TransportLost(NetconsoleTarget Target, TargetSession Session, FrameTransportException Error) : WorkItem;

    /// <summary>A session's resolved next-hop MAC is due a re-check, and why (for the reason text).</summary>
    private sealed record NextHopRecheckDue(NetconsoleTarget Target, TargetSession Session, string Why) : WorkItem;

    /// <summary>Some target waits for a route or an address, which no device event announces: try its setup again.</summary>
    private sealed record RetryWaitingSetups : WorkItem
    {
        public static readonly RetryWaitingSetups Instance = new();
    }
}
