using System.Net.NetworkInformation;

namespace Netconsole.Devices;

/// <summary>What happened to a network device.</summary>
public enum DeviceEventKind
{
    /// <summary>A device appeared (created, or moved into this namespace), or was found by the initial scan.</summary>
    Registered = 0,

    /// <summary>A device went away (deleted, or moved out of this namespace).</summary>
    Unregistered = 1,

    /// <summary>A device changed its name; <see cref="DeviceEvent.OldName"/> has the previous one.</summary>
    Renamed = 2,

    /// <summary>A device was set up (administratively) or got its carrier back.</summary>
    Up = 3,

    /// <summary>A device was set down or lost its carrier.</summary>
    Down = 4,

    /// <summary>A device's MAC address changed; <see cref="DeviceEvent.OldMac"/> has the previous one.</summary>
    MacChanged = 5,
}

/// <summary>One change to a network device, with the device as it is after the change.</summary>
public sealed class DeviceEvent : EventArgs
{
    /// <summary>Creates an event.</summary>
    /// <param name="kind">What happened.</param>
    /// <param name="device">The device after the change (for <see cref="DeviceEventKind.Unregistered"/>, as last seen).</param>
    /// <param name="oldName">The previous name, for <see cref="DeviceEventKind.Renamed"/>.</param>
    /// <param name="oldMac">The previous MAC, for <see cref="DeviceEventKind.MacChanged"/>.</param>
    public DeviceEvent(DeviceEventKind kind, NetworkDevice device, string? oldName = null, PhysicalAddress? oldMac = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        Kind = kind;
        Device = device;
        OldName = oldName;
        OldMac = oldMac;
    }

    /// <summary>What happened.</summary>
    public DeviceEventKind Kind { get; }

    /// <summary>The device after the change (for <see cref="DeviceEventKind.Unregistered"/>, as last seen).</summary>
    public NetworkDevice Device { get; }

    /// <summary>The previous name, for <see cref="DeviceEventKind.Renamed"/>; otherwise <see langword="null"/>.</summary>
    public string? OldName { get; }

    /// <summary>The previous MAC, for <see cref="DeviceEventKind.MacChanged"/>; otherwise <see langword="null"/>.</summary>
    public PhysicalAddress? OldMac { get; }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        DeviceEventKind.Renamed => $"Renamed {OldName} -> {Device.Name}",
        DeviceEventKind.MacChanged => $"MacChanged {Device.Name}: {OldMac} -> {Device.Mac}",
        _ => $"{Kind} {Device.Name}",
    };
}

/// <summary>
/// Watches the network devices of the current network namespace: a snapshot of the devices,
/// and an event for every change. Events are raised on the watcher's own thread, in the order
/// they happened; handlers must return quickly (queue work, never block or open devices).
/// </summary>
public interface IDeviceWatcher : IDisposable
{
    /// <summary>Raised for every change after <see cref="Start"/>, on the watcher's thread. Devices present at <see cref="Start"/> are in <see cref="GetDevices"/>, not reported as events.</summary>
    event EventHandler<DeviceEvent>? DeviceChanged;

    /// <summary>Starts watching: takes the initial snapshot, then raises events. Calling it again does nothing.</summary>
    void Start();

    /// <summary>The devices as the watcher last saw them (after <see cref="Start"/>; empty before).</summary>
    /// <returns>A snapshot, in index order.</returns>
    IReadOnlyList<NetworkDevice> GetDevices();
}
