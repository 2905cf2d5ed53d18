using Netconsole.Netlink;

namespace Netconsole.Devices;

/// <summary>Picks the best device watcher for the platform.</summary>
internal static class DeviceWatcher
{
    /// <summary>
    /// Creates the platform's device watcher, not started: an <see cref="RtnetlinkDeviceWatcher"/>
    /// on Linux, a <see cref="PollingDeviceWatcher"/> (every second) elsewhere, and on Linux when
    /// a NETLINK_ROUTE socket cannot be opened (a seccomp sandbox or a container runtime that
    /// forbids it): the probe opens and closes one such socket.
    /// </summary>
    /// <returns>A watcher; call <see cref="IDeviceWatcher.Start"/>, and dispose it when done.</returns>
    public static IDeviceWatcher CreateDefault() =>
        OperatingSystem.IsLinux() && NetlinkSocket.CanOpen() ? new RtnetlinkDeviceWatcher() : new PollingDeviceWatcher();
}
