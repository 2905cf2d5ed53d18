using System.Collections.Concurrent;
using System.Diagnostics;
using Netconsole.Devices;

namespace Netconsole.Tests.Devices;

/// <summary>Records a watcher's events (with the time they were raised) and waits for the one a test expects.</summary>
internal sealed class DeviceEventRecorder : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly IDeviceWatcher _watcher;
    private readonly BlockingCollection<(DeviceChangedEventArgs Event, long Timestamp)> _events = [];
    private readonly List<DeviceChangedEventArgs> _seen = [];

    public DeviceEventRecorder(IDeviceWatcher watcher)
    {
        _watcher = watcher;
        watcher.DeviceChanged += OnDeviceChanged;
    }

    /// <summary>Waits for the first event that matches, skipping others; fails with every event seen when none comes in time.</summary>
    public (DeviceChangedEventArgs Event, long Timestamp) WaitFor(Func<DeviceChangedEventArgs, bool> match, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            if (_events.TryTake(out (DeviceChangedEventArgs Event, long Timestamp) item, Patience - clock.Elapsed))
            {
                _seen.Add(item.Event);
                if (match(item.Event))
                {
                    return item;
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"No event {what} within {Patience.TotalSeconds} s; seen: [{string.Join("; ", _seen)}]");
    }

    /// <summary>The events recorded so far and not yet consumed by WaitFor.</summary>
    public List<DeviceChangedEventArgs> Drain()
    {
        var drained = new List<DeviceChangedEventArgs>();
        while (_events.TryTake(out (DeviceChangedEventArgs Event, long Timestamp) item))
        {
            drained.Add(item.Event);
        }

        return drained;
    }

    public void Dispose()
    {
        // The collection is left to the GC: the watcher's thread may still be adding to it.
        _watcher.DeviceChanged -= OnDeviceChanged;
    }

    private void OnDeviceChanged(object? sender, DeviceChangedEventArgs e) => _events.Add((e, Stopwatch.GetTimestamp()));
}
