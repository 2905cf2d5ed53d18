namespace Netconsole.Targets;

/// <summary>
/// Why a target is in its <see cref="TargetState"/>, for code: the same reason as the text of
/// <see cref="NetconsoleTarget.StateReason"/>, which adds the details (device names, addresses,
/// the error message, how the device and the next hop were chosen).
/// </summary>
public enum TargetStateCause
{
    /// <summary>Disabled: added, never enabled.</summary>
    NotEnabled = 0,

    /// <summary>Enabled by <see cref="TargetManager.Enable"/>.</summary>
    Enabled = 1,

    /// <summary>Enabled again by itself after it was deactivated (automatic target recovery).</summary>
    Resumed = 2,

    /// <summary>Disabled by <see cref="TargetManager.Disable"/>: it does not resume by itself.</summary>
    DisabledByOperator = 3,

    /// <summary>Disabled for good: removed from its manager (<see cref="TargetManager.Remove"/>).</summary>
    Removed = 4,

    /// <summary>Disabled for good: its manager was disposed.</summary>
    ManagerDisposed = 5,

    /// <summary>Deactivated: the device it sent on was unregistered (deleted). It resumes when a matching device appears.</summary>
    DeviceUnregistered = 6,

    /// <summary>Deactivated: the transport failed for good under a send (the device went away). It resumes when a matching device appears.</summary>
    TransportLost = 7,

    /// <summary>Deactivated by a failed setup: no device has the name or MAC the target is bound to.</summary>
    NoSuchDevice = 8,

    /// <summary>Deactivated by a failed setup: the device is down. It resumes when the device comes up.</summary>
    DeviceDown = 9,

    /// <summary>
    /// Deactivated by a failed setup: the target names no device and there is no route to its
    /// remote (or the route's interface is not known yet). Set up again every second. Linux only:
    /// elsewhere such a target is <see cref="RouteLookupUnsupported"/>.
    /// </summary>
    NoRoute = 10,

    /// <summary>Deactivated by a failed setup: the device has no address of the remote's family to send from. Set up again every second.</summary>
    NoLocalAddress = 11,

    /// <summary>Deactivated by a failed setup: native libpcap is not installed (see <see cref="Transport.FrameTransportError.LibpcapMissing"/>).</summary>
    LibpcapMissing = 12,

    /// <summary>Deactivated by a failed setup: no permission to inject frames (Linux: root or CAP_NET_RAW; Windows: Administrator, unless Npcap lets every user in; macOS: root or access to /dev/bpf*).</summary>
    PermissionDenied = 13,

    /// <summary>Deactivated by a failed setup: the device is not an Ethernet device (tun, some VPNs).</summary>
    NotEthernet = 14,

    /// <summary>Deactivated by a failed setup: the transport could not be opened or refused the target for another reason (an IPv4 target on <c>lo</c>, for one); the text says which.</summary>
    TransportError = 15,

    /// <summary>
    /// Deactivated by a failed setup: the target names no device (neither
    /// <see cref="NetconsoleTargetOptions.DeviceName"/> nor <see cref="NetconsoleTargetOptions.DeviceMac"/>),
    /// and this system cannot choose one by the route to the remote: route lookup uses rtnetlink,
    /// which only Linux has. Never set up again by itself, since nothing can change that: name
    /// the device or bind the target by MAC (<see cref="TargetManager.Reconfigure"/>), then
    /// <see cref="TargetManager.Enable"/> it.
    /// </summary>
    RouteLookupUnsupported = 16,

    /// <summary>
    /// Deactivated: its device is up but has no carrier (a cable pulled, a switch port or a veth
    /// peer down), so every frame would be dropped by the driver. Set when an enabled target's
    /// device loses its carrier, and by a setup that waited <see cref="TargetManagerOptions.CarrierTimeout"/>
    /// in vain. It resumes by itself when the carrier returns.
    /// </summary>
    NoCarrier = 17,
}
