using System.Net.NetworkInformation;

namespace Netconsole.Devices;

/// <summary>One change to a network device (<see cref="IDeviceWatcher.DeviceChanged"/>), with the device as it is after the change.</summary>
public sealed class DeviceChangedEventArgs : EventArgs
{
    /// <summary>Creates the event's data.</summary>
    /// <param name="kind">What happened.</param>
    /// <param name="device">The device after the change (for <see cref="DeviceChangeKind.Unregistered"/>, as last seen).</param>
    /// <param name="oldName">The previous name, for <see cref="DeviceChangeKind.Renamed"/>.</param>
    /// <param name="oldMac">The previous MAC, for <see cref="DeviceChangeKind.MacChanged"/>.</param>
    public DeviceChangedEventArgs(DeviceChangeKind kind, NetworkDevice device, string? oldName = null, PhysicalAddress? oldMac = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        Kind = kind;
        Device = device;
        OldName = oldName;
        OldMac = oldMac;
    }

    /// <summary>What happened.</summary>
    public DeviceChangeKind Kind { get; }

    /// <summary>The device after the change (for <see cref="DeviceChangeKind.Unregistered"/>, as last seen).</summary>
    public NetworkDevice Device { get; }

    /// <summary>The previous name, for <see cref="DeviceChangeKind.Renamed"/>; otherwise <see langword="null"/>.</summary>
    public string? OldName { get; }

    /// <summary>The previous MAC, for <see cref="DeviceChangeKind.MacChanged"/>; otherwise <see langword="null"/>.</summary>
    public PhysicalAddress? OldMac { get; }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        DeviceChangeKind.Renamed => $"Renamed {OldName} -> {Device.Name}",
        DeviceChangeKind.MacChanged => $"MacChanged {Device.Name}: {OldMac} -> {Device.Mac}",
        _ => $"{Kind} {Device.Name}",
    };
}
