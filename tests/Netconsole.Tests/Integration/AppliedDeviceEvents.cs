using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Targets;

namespace Netconsole.Tests.Integration;

/// <summary>
/// Lets a test prove that something did not happen after a device change: it waits until the
/// watcher has reported the change and the manager's worker has applied it (and everything
/// queued before it), instead of sleeping and hoping the change was seen.
/// </summary>
/// <remarks>
/// Subscribe before the change. The manager subscribed to the watcher first, so by the time this
/// handler sees an event the manager has queued it; its worker takes events in order.
/// </remarks>
internal sealed class AppliedDeviceEvents : IDisposable
{
    private readonly IDeviceWatcher _watcher;
    private readonly List<NetworkDevice> _seen = [];

    public AppliedDeviceEvents(IDeviceWatcher watcher)
    {
        _watcher = watcher;
        _watcher.DeviceChanged += OnChanged;
    }

    /// <summary>Waits until the watcher reported <paramref name="name"/> up with <paramref name="mac"/>, then until the manager applied it.</summary>
    public void WaitUntilApplied(TargetManager manager, string name, PhysicalAddress mac, TimeSpan timeout)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        lock (_seen)
        {
            while (!_seen.Exists(d => d.Name == name && d.IsUp && d.Mac.Equals(mac)))
            {
                TimeSpan left = timeout - deadline.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"The watcher did not report {name} up with MAC {mac} within {timeout.TotalSeconds} s; it reported: {string.Join(", ", _seen)}");
                }

                Monitor.Wait(_seen, left);
            }
        }

        manager.WaitForWorkerIdle(timeout).Should().BeTrue("the manager's worker applies the device events it was given");
    }

    public void Dispose() => _watcher.DeviceChanged -= OnChanged;

    private void OnChanged(object? sender, DeviceChangedEventArgs e)
    {
        lock (_seen)
        {
            _seen.Add(e.Device);
            Monitor.PulseAll(_seen);
        }
    }
}
