namespace Netconsole.Devices;

/// <summary>
/// Watches the network devices of the current network namespace: a snapshot of the devices,
/// and an event for every change. Events are raised on the watcher's own thread, in the order
/// they happened; handlers must return quickly (queue work, never block or open devices).
/// </summary>
/// <remarks>
/// <c>TargetManagerOptions.Watcher</c> left <see langword="null"/>
/// gives the platform's watcher: rtnetlink notifications on Linux (or a one-second poll where a
/// sandbox forbids netlink sockets), a one-second poll elsewhere. Implement this interface to
/// tell the manager about devices some other way.
/// </remarks>
public interface IDeviceWatcher : IDisposable
{
    /// <summary>Raised for every change after <see cref="Start"/>, on the watcher's thread. Devices present at <see cref="Start"/> are in <see cref="GetDevices"/>, not reported as events.</summary>
    event EventHandler<DeviceChangedEventArgs>? DeviceChanged;

    /// <summary>Starts watching: takes the initial snapshot, then raises events. Calling it again does nothing.</summary>
    void Start();

    /// <summary>The devices as the watcher last saw them (after <see cref="Start"/>; empty before).</summary>
    /// <returns>A snapshot, in index order.</returns>
    IReadOnlyList<NetworkDevice> GetDevices();
}
