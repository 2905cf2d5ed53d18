namespace Netconsole.Devices;

/// <summary>What happened to a network device.</summary>
public enum DeviceChangeKind
{
    /// <summary>A device appeared (created, or moved into this namespace), or was found by the initial scan.</summary>
    Registered = 0,

    /// <summary>A device went away (deleted, or moved out of this namespace).</summary>
    Unregistered = 1,

    /// <summary>A device changed its name; <see cref="DeviceChangedEventArgs.OldName"/> has the previous one.</summary>
    Renamed = 2,

    /// <summary>A device was set up (administratively) or got its carrier back.</summary>
    Up = 3,

    /// <summary>A device was set down or lost its carrier.</summary>
    Down = 4,

    /// <summary>A device's MAC address changed; <see cref="DeviceChangedEventArgs.OldMac"/> has the previous one.</summary>
    MacChanged = 5,
}
