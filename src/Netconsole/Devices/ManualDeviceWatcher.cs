using System.Net;
using System.Net.NetworkInformation;

namespace Netconsole.Devices;

/// <summary>
/// A device watcher driven by its owner, for tests and benchmarks: devices are registered and
/// changed by calls, and events are raised synchronously on the calling thread.
/// </summary>
internal sealed class ManualDeviceWatcher : IDeviceWatcher
{
    private readonly object _lock = new();
    private readonly Dictionary<int, NetworkDevice> _devices = new();
    private int _nextIndex = 100;

    /// <inheritdoc/>
    public event EventHandler<DeviceChangedEventArgs>? DeviceChanged;

    /// <summary>True after <see cref="Start"/>.</summary>
    public bool Started { get; private set; }

    /// <inheritdoc/>
    public void Start() => Started = true;

    /// <inheritdoc/>
    public IReadOnlyList<NetworkDevice> GetDevices()
    {
        lock (_lock)
        {
            return _devices.Values.OrderBy(d => d.Index).ToArray();
        }
    }

    /// <summary>Adds a device and reports it as <see cref="DeviceChangeKind.Registered"/>.</summary>
    /// <param name="name">The device name.</param>
    /// <param name="mac">Its MAC.</param>
    /// <param name="addresses">Its addresses.</param>
    /// <param name="up">Whether it is up and running.</param>
    /// <param name="pcapName">Its <see cref="NetworkDevice.PcapName"/> (a Windows device's Npcap name), or null.</param>
    /// <returns>The device.</returns>
    public NetworkDevice Register(string name, PhysicalAddress mac, IEnumerable<IPAddress>? addresses = null, bool up = true, string? pcapName = null)
    {
        NetworkDevice device;
        lock (_lock)
        {
            device = new NetworkDevice(_nextIndex++, name, mac, up, up, (addresses ?? []).ToArray()) { PcapName = pcapName };
            _devices.Add(device.Index, device);
        }

        Raise(new DeviceChangedEventArgs(DeviceChangeKind.Registered, device));
        return device;
    }

    /// <summary>Removes the device named <paramref name="name"/> and reports it as <see cref="DeviceChangeKind.Unregistered"/>.</summary>
    /// <param name="name">The device name.</param>
    public void Unregister(string name)
    {
        NetworkDevice device = Change(name, d => null);
        Raise(new DeviceChangedEventArgs(DeviceChangeKind.Unregistered, device));
    }

    /// <summary>Renames a device and reports <see cref="DeviceChangeKind.Renamed"/>.</summary>
    /// <param name="name">The current name.</param>
    /// <param name="newName">The new name.</param>
    public void Rename(string name, string newName)
    {
        NetworkDevice device = Change(name, d => new NetworkDevice(d.Index, newName, d.Mac, d.IsUp, d.IsRunning, d.Addresses) { PcapName = d.PcapName });
        Raise(new DeviceChangedEventArgs(DeviceChangeKind.Renamed, Find(device.Index), oldName: name));
    }

    /// <summary>Changes a device's MAC and reports <see cref="DeviceChangeKind.MacChanged"/>.</summary>
    /// <param name="name">The device name.</param>
    /// <param name="mac">The new MAC.</param>
    public void SetMac(string name, PhysicalAddress mac)
    {
        NetworkDevice device = Change(name, d => new NetworkDevice(d.Index, d.Name, mac, d.IsUp, d.IsRunning, d.Addresses) { PcapName = d.PcapName });
        Raise(new DeviceChangedEventArgs(DeviceChangeKind.MacChanged, Find(device.Index), oldMac: device.Mac));
    }

    /// <summary>Sets a device up or down and reports <see cref="DeviceChangeKind.Up"/> or <see cref="DeviceChangeKind.Down"/>.</summary>
    /// <param name="name">The device name.</param>
    /// <param name="up">Up (and running) or down.</param>
    public void SetUp(string name, bool up)
    {
        NetworkDevice device = Change(name, d => new NetworkDevice(d.Index, d.Name, d.Mac, up, up, d.Addresses) { PcapName = d.PcapName });
        Raise(new DeviceChangedEventArgs(up ? DeviceChangeKind.Up : DeviceChangeKind.Down, Find(device.Index)));
    }

    /// <summary>
    /// Gives a device its carrier or takes it away (it stays administratively up), and reports
    /// <see cref="DeviceChangeKind.Up"/> or <see cref="DeviceChangeKind.Down"/> when that changes
    /// whether it is usable, as the real watchers do.
    /// </summary>
    /// <param name="name">The device name.</param>
    /// <param name="carrier">Whether it has carrier (IFF_RUNNING).</param>
    public void SetCarrier(string name, bool carrier)
    {
        NetworkDevice before = Change(name, d => new NetworkDevice(d.Index, d.Name, d.Mac, d.IsUp, carrier, d.Addresses) { PcapName = d.PcapName });
        var events = new List<DeviceChangedEventArgs>();
        DeviceChanges.Compare(before, Find(before.Index), events);
        foreach (DeviceChangedEventArgs e in events)
        {
            Raise(e);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private NetworkDevice Find(int index)
    {
        lock (_lock)
        {
            return _devices[index];
        }
    }

    // Replaces (or removes, when change returns null) the device; returns it as it was.
    private NetworkDevice Change(string name, Func<NetworkDevice, NetworkDevice?> change)
    {
        lock (_lock)
        {
            NetworkDevice device = _devices.Values.FirstOrDefault(d => d.Name == name)
                ?? throw new InvalidOperationException($"No device named {name} is registered with this watcher.");
            NetworkDevice? changed = change(device);
            if (changed is null)
            {
                _devices.Remove(device.Index);
            }
            else
            {
                _devices[device.Index] = changed;
            }

            return device;
        }
    }

    private void Raise(DeviceChangedEventArgs e) => DeviceChanged?.Invoke(this, e);
}
