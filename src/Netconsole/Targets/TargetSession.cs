using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>What an enabled target sends through: its open transport and its frame template.</summary>
internal sealed class TargetSession
{
    private readonly FrameSpec _spec;
    private string _deviceName;
    private int _deactivationQueued;
    private FrameBuilder _frames;
    private PhysicalAddress _destination;
    private string? _nextHopNote;
    private long _lastCheck;
    private long _lastSend;
    private long _lastErrorCheck;
    private int _recheckQueued;
    private volatile int _link; // LinkUsable, LinkNoCarrier or LinkDown: the device as the watcher last reported it

    /// <summary><see cref="Link"/>: the device is up and has its carrier.</summary>
    public const int LinkUsable = 0;

    /// <summary><see cref="Link"/>: the device is up without carrier.</summary>
    public const int LinkNoCarrier = 1;

    /// <summary><see cref="Link"/>: the device is set down.</summary>
    public const int LinkDown = 2;

    public TargetSession(IFrameTransport transport, FrameSpec spec, PhysicalAddress destination, ushort firstIdentification, NetworkDevice device, string? routeNote = null, string? nextHopNote = null, NextHopRecheck? recheck = null)
    {
        RouteNote = routeNote;
        Transport = transport;
        _spec = spec;
        _destination = destination;
        _frames = spec.Build(destination, firstIdentification);
        DeviceIndex = device.Index;
        _deviceName = device.Name;
        _nextHopNote = nextHopNote;
        Recheck = recheck;
    }

    /// <summary>
    /// The device's link as the watcher last reported it (<see cref="LinkUsable"/>,
    /// <see cref="LinkNoCarrier"/>, <see cref="LinkDown"/>), set on the watcher's thread as each
    /// event is raised, so a send stops at once rather than when the worker gets to the event.
    /// </summary>
    public int Link => _link;

    /// <summary>Takes the link state from <paramref name="device"/> (this session's device as a watcher reports it).</summary>
    public void SetLink(NetworkDevice device) =>
        _link = !device.IsUp ? LinkDown : device.IsRunning ? LinkUsable : LinkNoCarrier;

    /// <summary>How the device was chosen when the target names none (<c>device X chosen by the route to R</c>), else null.</summary>
    public string? RouteNote { get; }

    /// <summary>How the destination MAC was found (neighbour table, ARP/NDP, or the broadcast warning), or null when given or not resolved.</summary>
    public string? NextHopNote
    {
        get => Volatile.Read(ref _nextHopNote);
        set => Volatile.Write(ref _nextHopNote, value);
    }

    /// <summary>What the manager said when it set the session up (<c>enabled on device X</c>, <c>resumed on device X</c>).</summary>
    public string SetupReason { get; set; } = string.Empty;

    /// <summary>The target's state reason while this session is its own: the setup reason, the route note and the next-hop note.</summary>
    public string Reason => string.Join("; ", new[] { SetupReason, RouteNote, NextHopNote }.Where(part => !string.IsNullOrEmpty(part)));

    public IFrameTransport Transport { get; }

    /// <summary>The current frame template; replaced (never changed) when a re-check finds another next-hop MAC.</summary>
    public FrameBuilder Frames => Volatile.Read(ref _frames);

    /// <summary>The destination MAC of <see cref="Frames"/>.</summary>
    public PhysicalAddress Destination => Volatile.Read(ref _destination);

    /// <summary>How to re-check the next hop's MAC, or null when it was given (or the device is loopback): never re-resolved.</summary>
    public NextHopRecheck? Recheck { get; }

    /// <summary>The interface index the transport was opened on: an Unregistered event matches it, never a later device of the same name.</summary>
    public int DeviceIndex { get; }

    /// <summary>The device's current name (it follows renames, as the kernel's dev_name does).</summary>
    public string DeviceName
    {
        get => Volatile.Read(ref _deviceName);
        set => Volatile.Write(ref _deviceName, value);
    }

    /// <summary>Whether a send found the transport dead and the worker is to deactivate the target.</summary>
    public bool DeactivationQueued => Volatile.Read(ref _deactivationQueued) != 0;

    /// <summary>True the first time only: many sends may find the device gone, one deactivation is queued.</summary>
    public bool TryMarkDeactivationQueued() => Interlocked.Exchange(ref _deactivationQueued, 1) == 0;

    /// <summary>
    /// Swaps the template for one sending to <paramref name="destination"/>, continuing the IPv4
    /// identification. The caller holds the target's send lock, so no record straddles two templates.
    /// </summary>
    public void Redirect(PhysicalAddress destination)
    {
        Volatile.Write(ref _frames, _spec.Build(destination, Frames.NextIdentification));
        Volatile.Write(ref _destination, destination);
    }

    /// <summary>
    /// Called by the send path (under the target's send lock) after each record: whether a
    /// re-check of the next hop's MAC is due, and marks it queued so only one is in flight.
    /// </summary>
    /// <param name="now">The manager clock's timestamp.</param>
    /// <param name="failed">Whether the transport refused a frame of the record.</param>
    /// <returns>Why the re-check is due, or null.</returns>
    public string? RecheckDue(long now, bool failed)
    {
        if (Recheck is not { } recheck)
        {
            return null;
        }

        long lastSend = _lastSend;
        _lastSend = now;
        if (Volatile.Read(ref _recheckQueued) != 0)
        {
            return null;
        }

        string? why = null;
        if (failed)
        {
            if (now - Volatile.Read(ref _lastErrorCheck) >= recheck.Policy.ErrorSpacingTicks)
            {
                why = "after a transmit error";
                Volatile.Write(ref _lastErrorCheck, now);
            }
        }
        else if (recheck.Policy.IntervalTicks > 0 && now - Volatile.Read(ref _lastCheck) >= recheck.Policy.IntervalTicks)
        {
            why = lastSend != 0 && now - lastSend >= recheck.Policy.IntervalTicks ? "after a silence" : "as it was due";
        }

        return why is not null && TryMarkRecheckQueued() ? why : null;
    }

    /// <summary>Marks a re-check queued for a reason other than a send (the link came up); false when one is queued already.</summary>
    public bool TryMarkRecheckQueued() => Interlocked.Exchange(ref _recheckQueued, 1) == 0;

    /// <summary>The worker finished a re-check (or set the session up): the next one is due an interval from <paramref name="now"/>.</summary>
    public void Checked(long now)
    {
        Volatile.Write(ref _lastCheck, now);
        Volatile.Write(ref _recheckQueued, 0);
    }
}

/// <summary>The fixed parts of a target's frames: everything but the destination MAC.</summary>
internal sealed record FrameSpec(PhysicalAddress SourceMac, IPAddress Local, int LocalPort, IPAddress Remote, int RemotePort)
{
    public FrameBuilder Build(PhysicalAddress destination, ushort firstIdentification) =>
        new(SourceMac, destination, Local, LocalPort, Remote, RemotePort, firstIdentification);
}
