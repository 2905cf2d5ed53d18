namespace Netconsole.Devices;

/// <summary>
/// The events that take one view of a device (or of all devices) to the next; shared by the
/// rtnetlink and polling watchers so both report the same changes the same way.
/// </summary>
/// <remarks>
/// Up/Down rule: a device is usable when it is both administratively up (IFF_UP) and
/// operationally up (IFF_RUNNING). <see cref="DeviceChangeKind.Up"/> is raised when it becomes
/// usable, <see cref="DeviceChangeKind.Down"/> when it stops being usable (set down, or lost its
/// carrier); changes of one flag that do not change usability (set up while still without
/// carrier) update the snapshot without an event. Several changes at once are reported in the
/// order Renamed, MacChanged, Up/Down, each event carrying the device as it is after all of them.
/// Address changes are never events: addresses are refreshed whenever an event is raised.
/// </remarks>
internal static class DeviceChanges
{
    /// <summary>Whether the device is usable for sending: IFF_UP and IFF_RUNNING.</summary>
    public static bool IsUsable(NetworkDevice device) => device.IsUp && device.IsRunning;

    /// <summary>Whether anything the watchers track (name, MAC, up, running) differs.</summary>
    public static bool Differs(NetworkDevice before, NetworkDevice after) =>
        !string.Equals(before.Name, after.Name, StringComparison.Ordinal)
        || !before.Mac.Equals(after.Mac)
        || before.IsUp != after.IsUp
        || before.IsRunning != after.IsRunning;

    /// <summary>Adds the events that take <paramref name="before"/> to <paramref name="after"/> (same index).</summary>
    public static void Compare(NetworkDevice before, NetworkDevice after, List<DeviceChangedEventArgs> events)
    {
        if (!string.Equals(before.Name, after.Name, StringComparison.Ordinal))
        {
            events.Add(new DeviceChangedEventArgs(DeviceChangeKind.Renamed, after, oldName: before.Name));
        }

        if (!before.Mac.Equals(after.Mac))
        {
            events.Add(new DeviceChangedEventArgs(DeviceChangeKind.MacChanged, after, oldMac: before.Mac));
        }

        bool wasUsable = IsUsable(before);
        bool isUsable = IsUsable(after);
        if (wasUsable != isUsable)
        {
            events.Add(new DeviceChangedEventArgs(isUsable ? DeviceChangeKind.Up : DeviceChangeKind.Down, after));
        }
    }

    /// <summary>
    /// Adds the events that take one snapshot (index to device) to the next: Unregistered first
    /// (so a device re-created under the same name or MAC goes away before it comes back), then
    /// the changes of devices in both, then Registered; each group in index order.
    /// </summary>
    public static void Compare(IReadOnlyDictionary<int, NetworkDevice> before, IReadOnlyDictionary<int, NetworkDevice> after, List<DeviceChangedEventArgs> events)
    {
        foreach (NetworkDevice gone in before.Values.Where(d => !after.ContainsKey(d.Index)).OrderBy(d => d.Index))
        {
            events.Add(new DeviceChangedEventArgs(DeviceChangeKind.Unregistered, gone));
        }

        foreach (NetworkDevice now in after.Values.OrderBy(d => d.Index))
        {
            if (before.TryGetValue(now.Index, out NetworkDevice? previous))
            {
                Compare(previous, now, events);
            }
        }

        foreach (NetworkDevice added in after.Values.Where(d => !before.ContainsKey(d.Index)).OrderBy(d => d.Index))
        {
            events.Add(new DeviceChangedEventArgs(DeviceChangeKind.Registered, added));
        }
    }

    /// <summary>
    /// Raises <paramref name="events"/> to each handler on its own, so one that throws neither
    /// stops the watcher's thread nor starves the others. Each handler call that throws is
    /// counted in <paramref name="errors"/> at once (before the next handler or event runs).
    /// </summary>
    internal static void Raise(object sender, Func<EventHandler<DeviceChangedEventArgs>?> handlers, List<DeviceChangedEventArgs> events, string source, ref long errors)
    {
        foreach (DeviceChangedEventArgs e in events)
        {
            if (handlers() is not { } current)
            {
                break;
            }

            foreach (EventHandler<DeviceChangedEventArgs> handler in current.GetInvocationList().Cast<EventHandler<DeviceChangedEventArgs>>())
            {
                try
                {
                    handler(sender, e);
                }
#pragma warning disable CA1031 // A handler's failure must not stop the watcher.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    Interlocked.Increment(ref errors);
                    System.Diagnostics.Debug.WriteLine($"{source}: a DeviceChanged handler threw: {exception}");
                }
            }
        }
    }
}
