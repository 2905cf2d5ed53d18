using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Netlink;

namespace Netconsole.Devices;

/// <summary>
/// Watches the network devices of the process's network namespace through rtnetlink (Linux):
/// the kernel reports every link change (RTM_NEWLINK / RTM_DELLINK on RTMGRP_LINK) as it
/// happens, and this watcher turns them into <see cref="DeviceChangedEventArgs"/>s on one background
/// thread named <c>netconsole-netlink</c>.
/// </summary>
/// <remarks>
/// <para>
/// Snapshot and events: <see cref="Start"/> first subscribes to link notifications, then dumps
/// the links (RTM_GETLINK) on a second socket, so no change is lost between the two. A
/// notification always carries the link's complete state, and one that matches the snapshot
/// is ignored, so notifications about changes the dump already saw are harmless. A change that
/// happened while the dump ran may still be reported as an event describing an older state,
/// followed by the events that bring the device back to its current state: the snapshot always
/// converges on the kernel's.
/// </para>
/// <para>
/// Device state: <see cref="NetworkDevice.IsUp"/> is IFF_UP, <see cref="NetworkDevice.IsRunning"/>
/// is IFF_RUNNING (operstate UP or UNKNOWN, as SIOCGIFFLAGS reports it), the MAC is IFLA_ADDRESS
/// when it has 6 bytes (empty otherwise). <see cref="DeviceChangeKind.Up"/> is raised when a
/// device becomes both up and running, <see cref="DeviceChangeKind.Down"/> when it stops being
/// either; several changes in one notification are raised in the order Renamed, MacChanged,
/// Up/Down. Addresses are not watched: they are looked up (<see cref="NetworkDevice.GetAll"/>)
/// when the snapshot is taken and whenever an event is raised, so they may be stale in between.
/// </para>
/// <para>
/// Overflow: when events come faster than the thread reads them the kernel drops some and
/// reports ENOBUFS; the watcher then dumps the links again and raises the events the
/// difference implies (<see cref="Overflows"/> counts these). Malformed messages are counted
/// (<see cref="MalformedMessages"/>) and skipped; exceptions from handlers are counted
/// (<see cref="HandlerErrors"/>) and never stop the thread or the other handlers.
/// </para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class RtnetlinkDeviceWatcher : IDeviceWatcher
{
    /// <summary>The name of the watcher's thread.</summary>
    public const string ThreadName = "netconsole-netlink";

    private const int ReceiveBufferBytes = 1 << 20;
    private const int PollMilliseconds = 200;
    private const int DumpAttempts = 3;
    private static readonly TimeSpan DumpTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lifecycle = new();
    private readonly DeviceSnapshot _snapshot = new();
    private readonly ManualResetEventSlim _stop = new();
    private Socket? _events;
    private Thread? _thread;

    /// <summary>The watcher's thread, for tests (null before Start).</summary>
    internal Thread? WatcherThread => _thread;
    private bool _disposed;
    private long _overflows;
    private long _malformedMessages;
    private long _handlerErrors;
    private long _receiveErrors;

    private readonly int _receiveBufferBytes;

    /// <summary>Creates a watcher; <see cref="Start"/> opens its socket and takes the snapshot.</summary>
    public RtnetlinkDeviceWatcher()
        : this(ReceiveBufferBytes)
    {
    }

    // Tests use a small socket buffer to make the kernel drop notifications (ENOBUFS).
    internal RtnetlinkDeviceWatcher(int receiveBufferBytes)
    {
        _receiveBufferBytes = receiveBufferBytes;
    }

    /// <inheritdoc/>
    public event EventHandler<DeviceChangedEventArgs>? DeviceChanged;

    /// <summary>How many times the kernel dropped notifications (ENOBUFS) and the watcher re-dumped the links to catch up.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>How many malformed netlink messages (bad lengths, truncated headers or attributes) were skipped.</summary>
    public long MalformedMessages => Interlocked.Read(ref _malformedMessages);

    /// <summary>How many exceptions <see cref="DeviceChanged"/> handlers threw (caught; the thread and the other handlers go on).</summary>
    public long HandlerErrors => Interlocked.Read(ref _handlerErrors);

    /// <summary>How many unexpected receive or re-dump failures the thread recovered from (it retries after a short pause).</summary>
    public long ReceiveErrors => Interlocked.Read(ref _receiveErrors);

    /// <summary>
    /// Subscribes to link notifications, takes the initial snapshot (an RTM_GETLINK dump) and
    /// starts the watcher's thread; returns once the snapshot is taken. Calling it again does nothing.
    /// </summary>
    /// <exception cref="IOException">The netlink socket could not be opened or the dump failed.</exception>
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

            Socket events = NetlinkSocket.Open(NetlinkSocket.GroupLink, _receiveBufferBytes);
            try
            {
                events.ReceiveTimeout = PollMilliseconds;
                Dictionary<int, NetworkDevice> initial = Dump();
                _snapshot.Reset(initial);
            }
            catch
            {
                events.Dispose();
                throw;
            }

            _events = events;
            _thread = new Thread(Run) { Name = ThreadName, IsBackground = true };
            _thread.Start();
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<NetworkDevice> GetDevices() => _snapshot.List();

    /// <summary>Stops the watcher's thread (within a fraction of a second) and waits for it, then closes the socket. Calling it again does nothing.</summary>
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
        }

        // The thread closes the socket on its way out. A handler disposing the watcher runs on
        // the thread itself, which ends once the handler returns.
        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    private void Run()
    {
        using Socket socket = _events!;
        Receive(socket);
    }

    private void Receive(Socket socket)
    {
        byte[] buffer = new byte[NetlinkSocket.DatagramBytes];
        var messages = new List<LinkMessage>();
        bool resync = false;
        while (!_stop.IsSet)
        {
            try
            {
                if (resync)
                {
                    Resync();
                    resync = false;
                    continue;
                }

                int received;
                try
                {
                    received = socket.Receive(buffer);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
                {
                    continue;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
                {
                    Interlocked.Increment(ref _overflows);
                    resync = true;
                    continue;
                }

                messages.Clear();
                CountMalformed(LinkMessages.Parse(buffer.AsSpan(0, received), messages));
                Apply(messages);
            }
            catch (ObjectDisposedException) when (_stop.IsSet)
            {
                break;
            }
#pragma warning disable CA1031 // The thread must survive anything; the failure is counted and retried.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _receiveErrors);
                Debug.WriteLine($"{ThreadName}: {e}");
                _stop.Wait(PollMilliseconds);
            }
        }
    }

    // Notifications in the order the kernel queued them; events raised after the snapshot is updated.
    private void Apply(List<LinkMessage> messages)
    {
        var events = new List<DeviceChangedEventArgs>();
        Dictionary<int, IReadOnlyList<IPAddress>>? addresses = null;
        foreach (LinkMessage message in messages)
        {
            if (message.Link is not { } link)
            {
                continue;
            }

            _snapshot.Update(devices =>
            {
                devices.TryGetValue(link.Index, out NetworkDevice? known);
                if (message.Kind == LinkMessageKind.LinkDeleted)
                {
                    if (known is not null)
                    {
                        devices.Remove(link.Index);
                        events.Add(new DeviceChangedEventArgs(DeviceChangeKind.Unregistered, known));
                    }

                    return;
                }

                NetworkDevice candidate = ToDevice(link, known?.Addresses ?? []);
                if (known is not null && !DeviceChanges.Differs(known, candidate))
                {
                    return;
                }

                addresses ??= LookUpAddresses();
                NetworkDevice device = ToDevice(link, addresses.GetValueOrDefault(link.Index, candidate.Addresses));
                devices[link.Index] = device;
                if (known is null)
                {
                    events.Add(new DeviceChangedEventArgs(DeviceChangeKind.Registered, device));
                }
                else
                {
                    DeviceChanges.Compare(known, device, events);
                }
            });
        }

        Raise(events);
    }

    // After an overflow: what changed while notifications were lost, from a fresh dump.
    private void Resync()
    {
        Raise(_snapshot.Replace(Dump()));
    }

    private void Raise(List<DeviceChangedEventArgs> events) =>
        DeviceChanges.Raise(this, () => DeviceChanged, events, ThreadName, ref _handlerErrors);

    // RTM_GETLINK dump on its own socket (not subscribed to any group), so replies never mix
    // with notifications. A dump the kernel marks interrupted (NLM_F_DUMP_INTR: links changed
    // meanwhile) is taken again, up to a few times.
    private Dictionary<int, NetworkDevice> Dump()
    {
        Dictionary<int, LinkInfo> links = [];
        for (int attempt = 0; attempt < DumpAttempts; attempt++)
        {
            links.Clear();
            if (!TryDump(links))
            {
                break;
            }
        }

        Dictionary<int, IReadOnlyList<IPAddress>> addresses = LookUpAddresses();
        Dictionary<int, NetworkDevice> devices = [];
        foreach (LinkInfo link in links.Values)
        {
            devices[link.Index] = ToDevice(link, addresses.GetValueOrDefault(link.Index, []));
        }

        return devices;
    }

    // True when the dump was interrupted and should be taken again.
    private bool TryDump(Dictionary<int, LinkInfo> links)
    {
        uint sequence = NetlinkExchange.NextSequence();
        var messages = new List<LinkMessage>();
        bool interrupted = false;
        NetlinkExchange.Run(LinkMessages.GetLinkDumpRequest(sequence), datagram =>
        {
            messages.Clear();
            CountMalformed(LinkMessages.Parse(datagram, messages));
            foreach (LinkMessage message in messages)
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                interrupted |= (message.Flags & NetlinkProtocol.FlagDumpInterrupted) != 0;
                switch (message.Kind)
                {
                    case LinkMessageKind.Link:
                        links[message.Link!.Index] = message.Link;
                        break;
                    case LinkMessageKind.Done:
                        return true;
                    case LinkMessageKind.Error when message.Error != 0:
                        throw NetlinkExchange.Refused("RTM_GETLINK dump", -message.Error);
                    default:
                        break;
                }
            }

            return false;
        }, DumpTimeout, "link dump");
        return interrupted;
    }

    private void CountMalformed(int malformed)
    {
        if (malformed > 0)
        {
            Interlocked.Add(ref _malformedMessages, malformed);
        }
    }

    private static NetworkDevice ToDevice(LinkInfo link, IReadOnlyList<IPAddress> addresses) =>
        new(link.Index, link.Name, link.Mac, link.IsUp, link.IsRunning, addresses);

    // Addresses are not in link messages: ask for them (once per batch of notifications).
    private static Dictionary<int, IReadOnlyList<IPAddress>> LookUpAddresses()
    {
        Dictionary<int, IReadOnlyList<IPAddress>> addresses = [];
        try
        {
            foreach (NetworkDevice device in NetworkDevice.GetAll())
            {
                addresses[device.Index] = device.Addresses;
            }
        }
        catch (Exception e) when (e is NetworkInformationException or SocketException or IOException)
        {
            // Devices without addresses are still devices.
        }

        return addresses;
    }
}
