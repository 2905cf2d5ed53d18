namespace Netconsole.Devices;

/// <summary>A watcher's view of the devices, by interface index, under its own lock.</summary>
internal sealed class DeviceSnapshot
{
    private readonly Lock _lock = new();
    private Dictionary<int, NetworkDevice> _devices = [];

    /// <summary>The devices, in index order.</summary>
    public IReadOnlyList<NetworkDevice> List()
    {
        lock (_lock)
        {
            return [.. _devices.Values.OrderBy(d => d.Index)];
        }
    }

    /// <summary>Takes <paramref name="now"/> as the first view, without events (devices present at Start are not reported).</summary>
    public void Reset(Dictionary<int, NetworkDevice> now)
    {
        lock (_lock)
        {
            _devices = now;
        }
    }

    /// <summary>Replaces the view with a full scan; returns the events that lead from the old view to it.</summary>
    public List<DeviceChangedEventArgs> Replace(Dictionary<int, NetworkDevice> now)
    {
        var events = new List<DeviceChangedEventArgs>();
        lock (_lock)
        {
            DeviceChanges.Compare(_devices, now, events);
            _devices = now;
        }

        return events;
    }

    /// <summary>Changes the view in place (one notification at a time), under the lock.</summary>
    public void Update(Action<Dictionary<int, NetworkDevice>> change)
    {
        lock (_lock)
        {
            change(_devices);
        }
    }
}
