using System.Diagnostics;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Netconsole.Devices;

/// <summary>
/// Watches the network devices by taking a snapshot (<see cref="NetworkDevice.GetAll"/>) every
/// <see cref="Interval"/> and comparing it, by interface index, with the previous one: for
/// systems without rtnetlink, and as a fallback on Linux. Events are raised on one background
/// thread named <c>netconsole-device-poll</c>.
/// </summary>
/// <remarks>
/// The events and their rules are those of <see cref="RtnetlinkDeviceWatcher"/> (Up when a
/// device becomes both up and running, Down when it stops being either; Renamed, MacChanged,
/// Up/Down in that order), but a change undone within one interval is never seen, and a device
/// deleted and re-created under the same index is reported as changed, not re-registered.
/// <see cref="NetworkChange.NetworkAddressChanged"/> and (off Linux)
/// <see cref="NetworkChange.NetworkAvailabilityChanged"/> only make the next scan come sooner. On
/// Linux the availability event is left alone: with a subscriber, the runtime lists the
/// interfaces on a timer of its own after every address change, and an interface that goes away
/// during that listing throws on the timer thread and ends the process (dotnet/runtime#49515, seen
/// here while veth pairs were deleted and re-created); the address event, which lists nothing,
/// is enough of a hint.
/// </remarks>
internal sealed class PollingDeviceWatcher : IDeviceWatcher
{
    /// <summary>The name of the watcher's thread.</summary>
    public const string ThreadName = "netconsole-device-poll";

    /// <summary>The default <see cref="Interval"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lifecycle = new();
    private readonly DeviceSnapshot _snapshot = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly AutoResetEvent _hint = new(false);
    private Thread? _thread;

    /// <summary>The watcher's thread, for tests (null before Start).</summary>
    internal Thread? WatcherThread => _thread;
    private bool _disposed;
    private long _handlerErrors;
    private long _scanErrors;

    /// <summary>Creates a watcher that scans every second (<see cref="DefaultInterval"/>).</summary>
    public PollingDeviceWatcher()
        : this(DefaultInterval)
    {
    }

    /// <summary>Creates a watcher that scans every <paramref name="interval"/>.</summary>
    /// <param name="interval">The time between two scans: more than zero, at most one hour.</param>
    /// <exception cref="ArgumentOutOfRangeException">The interval is zero, negative or more than one hour.</exception>
    public PollingDeviceWatcher(TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero || interval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The polling interval must be more than zero and at most one hour.");
        }

        Interval = interval;
    }

    /// <inheritdoc/>
    public event EventHandler<DeviceChangedEventArgs>? DeviceChanged;

    /// <summary>The time between two scans. The default is 1 second.</summary>
    public TimeSpan Interval { get; }

    /// <summary>How many exceptions <see cref="DeviceChanged"/> handlers threw (caught; the thread and the other handlers go on).</summary>
    public long HandlerErrors => Interlocked.Read(ref _handlerErrors);

    /// <summary>How many scans failed (the next one is taken at the next interval).</summary>
    public long ScanErrors => Interlocked.Read(ref _scanErrors);

    /// <summary>Takes the initial snapshot and starts the watcher's thread; returns once the snapshot is taken. Calling it again does nothing.</summary>
    /// <exception cref="ObjectDisposedException">The watcher was disposed.</exception>
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_thread is not null)
            {
                return;
            }

            _snapshot.Reset(Scan());

            NetworkChange.NetworkAddressChanged += OnNetworkChange;
            if (!OperatingSystem.IsLinux())
            {
                NetworkChange.NetworkAvailabilityChanged += OnNetworkAvailabilityChange;
            }

            _thread = new Thread(Run) { Name = ThreadName, IsBackground = true };
            _thread.Start();
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<NetworkDevice> GetDevices() => _snapshot.List();

    /// <summary>Stops the watcher's thread and waits for it. Calling it again does nothing.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_lifecycle)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            thread = _thread;
            _stop.Set();
            Hint();
            if (thread is not null)
            {
                NetworkChange.NetworkAddressChanged -= OnNetworkChange;
                if (!OperatingSystem.IsLinux())
                {
                    NetworkChange.NetworkAvailabilityChanged -= OnNetworkAvailabilityChange;
                }

            }
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    private void OnNetworkChange(object? sender, EventArgs e) => Hint();

    private void OnNetworkAvailabilityChange(object? sender, NetworkAvailabilityEventArgs e) => Hint();

    private void Hint()
    {
        try
        {
            _hint.Set();
        }
        catch (ObjectDisposedException)
        {
            // Raced with Dispose: nothing left to wake.
        }
    }

    private void Run()
    {
        using (_hint)
        {
            while (!_stop.IsSet)
            {
                _hint.WaitOne(Interval);
                if (_stop.IsSet)
                {
                    break;
                }

                Dictionary<int, NetworkDevice> now;
                try
                {
                    now = Scan();
                }
                catch (Exception e) when (e is NetworkInformationException or SocketException or IOException)
                {
                    Interlocked.Increment(ref _scanErrors);
                    continue;
                }

                Raise(_snapshot.Replace(now));
            }
        }
    }

    private void Raise(List<DeviceChangedEventArgs> events) =>
        DeviceChanges.Raise(this, () => DeviceChanged, events, ThreadName, ref _handlerErrors);

    // Devices without an index (0: the system would not say) cannot be followed across scans.
    private static Dictionary<int, NetworkDevice> Scan()
    {
        Dictionary<int, NetworkDevice> devices = [];
        foreach (NetworkDevice device in NetworkDevice.GetAll())
        {
            if (device.Index > 0)
            {
                devices[device.Index] = device;
            }
        }

        return devices;
    }
}
