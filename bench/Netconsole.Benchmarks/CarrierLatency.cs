using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Netlink;
using Netconsole.Targets;

namespace Netconsole.Benchmarks;

/// <summary>
/// Recovery latency after a carrier loss (issue 15), in the lab: the target's device stays up
/// while its veth peer is set down and up again. Two senders run all along, each offering one
/// datagram about every millisecond to a receiver in the peer namespace: the library (a target
/// bound to the device by name, the receiver's MAC given so no next hop is resolved) and an OS
/// UDP socket sending over the same veth through the kernel's own stack. A plain rtnetlink
/// listener timestamps the kernel's report of the device's IFF_RUNNING: the baseline, as no
/// program can know of the carrier's return earlier. Measured per try, from the start of
/// <c>ip link set PEER up</c>: the kernel's report, the target Enabled, the first record
/// received, the OS UDP socket's first datagram received. The same for a deletion and
/// re-creation of the device, for comparison. Also the loss side (from <c>ip link set PEER
/// down</c> to the kernel's report and to the target Deactivated) and what was claimed sent
/// and never arrived. Both watchers.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class CarrierLatency
{
    private const int LibraryPort = 6666;
    private const int UdpPort = 6667;
    private const string IndexShift = "ncbshift";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static int Run(string[] args, TextWriter output)
    {
        int tries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"carrier recovery latency, {tries} tries per row, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        // The kernel reports a lost carrier at once for a stacked device (a veth whose peer has
        // another interface index than itself); otherwise, as for a physical NIC, a lost carrier
        // is not urgent and its report waits until a second has passed since linkwatch's last
        // run. The first lab in this new namespace has index 2, like its peer in the peer's new
        // namespace: its row shows the held-back report. Then a pair (left down) moves every
        // later lab's device past its peer's index, so the other rows see the prompt report.
        var rows = new List<Row> { Measure("rtnetlink", carrier: true, tries) };
        RunIp("link", "add", IndexShift, "type", "veth", "peer", "name", IndexShift + "p"); // no dummy driver everywhere
        try
        {
            foreach (string watcherKind in new[] { "rtnetlink", "polling (1 s default)" })
            {
                foreach (bool carrier in new[] { true, false })
                {
                    rows.Add(Measure(watcherKind, carrier, tries));
                }
            }
        }
        finally
        {
            RunIp("link", "del", IndexShift);
        }

        output.WriteLine();
        output.WriteLine("Recovery, from the start of the `ip` command that ends the outage; median / worst, ms:");
        output.WriteLine();
        output.WriteLine("| outage | watcher | kernel reports IFF_RUNNING (baseline) | target Enabled | first record received | ratio record / baseline (median) | record after the kernel's report | OS UDP socket: first datagram received |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (Row r in rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Outage} | {r.Watcher} | {Cell(r.Kernel)} | {Cell(r.Enabled)} | {Cell(r.Record)} | {Median(r.Record) / Median(r.Kernel):F2} | {Cell(r.RecordAfterKernel)} | {Cell(r.UdpFirst)} |"));
        }

        output.WriteLine();
        output.WriteLine("The outage's start, from the start of the `ip` command that begins it; median / worst, ms; and, over all tries, what was counted as dropped and what was claimed sent but never arrived:");
        output.WriteLine();
        output.WriteLine("| outage | watcher | kernel reports the loss | target Deactivated | records counted as dropped, by reason | records claimed sent, not received | OS UDP socket: datagrams sent without error, not received |");
        output.WriteLine("|---|---|---:|---:|---|---:|---:|");
        foreach (Row r in rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Outage} | {r.Watcher} | {Cell(r.LossKernel)} | {Cell(r.Deactivated)} | {r.Dropped} | {r.RecordsLost:N0} of {r.RecordsSent:N0} | {r.UdpLost:N0} of {r.UdpSent:N0} |"));
        }

        return 0;
    }

    private static Row Measure(string watcherKind, bool carrier, int tries)
    {
        using NetworkLab lab = NetworkLab.Create();
        using IDeviceWatcher watcher = watcherKind == "rtnetlink" ? new RtnetlinkDeviceWatcher() : new PollingDeviceWatcher();
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher });
        var options = NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},{LibraryPort}@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}");
        options.Name = "carrier";
        NetconsoleTarget target = manager.Add(options);
        if (manager.Enable(target.Name).State != TargetState.Enabled)
        {
            throw new InvalidOperationException($"could not enable: {target.StateReason}");
        }

        // The OS UDP socket knows the receiver's MAC too: a permanent neighbour entry, which a carrier
        // loss does not flush (a re-created device has none: there the kernel asks with ARP).
        RunIp("neigh", "replace", lab.PeerIPv4.ToString(), "lladdr", MacAddressText.Format(lab.PeerMac), "dev", lab.DeviceName, "nud", "permanent");
        var states = new StateClock(target);
        using var kernel = new LinkListener(lab.DeviceName);
        using var libraryReceiver = new FirstArrival(lab.OpenPeerUdpSocket(new IPEndPoint(lab.PeerIPv4, LibraryPort)));
        using var udpReceiver = new FirstArrival(lab.OpenPeerUdpSocket(new IPEndPoint(lab.PeerIPv4, UdpPort)));
        using var senders = new Senders(target, new IPEndPoint(lab.PeerIPv4, UdpPort));
        bool sameIndex = lab.DeviceIndex == lab.QueryPeer()?.Index;
        var row = new Row(carrier ? $"carrier (peer down, up), device index {(sameIndex ? "=" : "!=")} peer's" : "device deleted, re-created", watcherKind);
        Thread.Sleep(200); // both senders running, both receivers hearing them

        for (int i = 0; i < tries; i++)
        {
            long downStart = Stopwatch.GetTimestamp();
            if (carrier)
            {
                RunIp("-n", lab.PeerNamespace, "link", "set", "dev", lab.PeerName, "down");
            }
            else
            {
                lab.DeleteDevice();
            }

            long deactivated = states.WaitFor(TargetState.Deactivated, downStart);
            long lossReported = kernel.WaitForRunning(false, downStart);
            row.LossKernel.Add(Milliseconds(downStart, lossReported));
            row.Deactivated.Add(Milliseconds(downStart, deactivated));

            Thread.Sleep(20); // nothing in flight any more
            long upStart = Stopwatch.GetTimestamp();
            libraryReceiver.Arm(upStart);
            udpReceiver.Arm(upStart);
            if (carrier)
            {
                RunIp("-n", lab.PeerNamespace, "link", "set", "dev", lab.PeerName, "up");
            }
            else
            {
                lab.RecreateDevice();
            }

            long enabled = states.WaitFor(TargetState.Enabled, upStart);
            long reported = kernel.WaitForRunning(true, upStart);
            long record = libraryReceiver.WaitForFirst();
            long udp = udpReceiver.WaitForFirst();
            row.Kernel.Add(Milliseconds(upStart, reported));
            row.Enabled.Add(Milliseconds(upStart, enabled));
            row.Record.Add(Milliseconds(upStart, record));
            row.UdpFirst.Add(Milliseconds(upStart, udp));
            row.RecordAfterKernel.Add(Milliseconds(reported, record));
            Thread.Sleep(50); // steady state before the next outage
        }

        senders.Stop();
        Thread.Sleep(200); // the last datagrams arrive
        row.RecordsSent = senders.LibrarySent;
        row.RecordsLost = senders.LibrarySent - libraryReceiver.Count;
        row.UdpSent = senders.UdpSent;
        row.UdpLost = senders.UdpSent - udpReceiver.Count;
        row.Dropped = string.Join(", ", target.GetStatistics().RecordsDroppedByReason.Where(p => p.Value > 0).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:N0}")));
        return row;
    }

    private static void RunIp(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardError = true, UseShellExecute = false };
        arguments.ToList().ForEach(start.ArgumentList.Add);
        using Process ip = Process.Start(start) ?? throw new InvalidOperationException("could not start ip");
        string error = ip.StandardError.ReadToEnd();
        ip.WaitForExit();
        if (ip.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {error}");
        }
    }

    private static double Milliseconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static string Cell(List<double> values) => string.Create(CultureInfo.InvariantCulture, $"{Median(values):F1} / {values.Max():F1}");

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed class Row(string outage, string watcher)
    {
        public string Outage { get; } = outage;

        public string Watcher { get; } = watcher;

        public List<double> Kernel { get; } = [];

        public List<double> Enabled { get; } = [];

        public List<double> Record { get; } = [];

        public List<double> UdpFirst { get; } = [];

        public List<double> RecordAfterKernel { get; } = [];

        public List<double> LossKernel { get; } = [];

        public List<double> Deactivated { get; } = [];

        public long RecordsSent { get; set; }

        public long RecordsLost { get; set; }

        public long UdpSent { get; set; }

        public long UdpLost { get; set; }

        public string Dropped { get; set; } = string.Empty;
    }

    // When the target last reached each state (its StateChanged event, on the manager's worker).
    private sealed class StateClock
    {
        private readonly object _gate = new();
        private readonly Dictionary<TargetState, long> _at = [];

        public StateClock(NetconsoleTarget target) => target.StateChanged += (_, e) =>
        {
            long now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
                _at[e.NewState] = now;
                Monitor.PulseAll(_gate);
            }
        };

        public long WaitFor(TargetState state, long after)
        {
            long deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
            lock (_gate)
            {
                while (!_at.TryGetValue(state, out long at) || at < after)
                {
                    long left = deadline - Environment.TickCount64;
                    if (left <= 0)
                    {
                        throw new TimeoutException($"the target did not become {state}");
                    }

                    Monitor.Wait(_gate, (int)left);
                }

                return _at[state];
            }
        }
    }

    // A plain NETLINK_ROUTE listener on RTMGRP_LINK: when the kernel reported the device (by
    // name, so a re-created one counts) running, or not running (or gone).
    private sealed class LinkListener : IDisposable
    {
        private const ushort NewLink = 16;   // RTM_NEWLINK
        private const ushort DelLink = 17;   // RTM_DELLINK
        private const uint Running = 0x40;   // IFF_RUNNING
        private const ushort IfName = 3;     // IFLA_IFNAME
        private readonly Socket _socket;
        private readonly Thread _thread;
        private readonly string _device;
        private readonly object _gate = new();
        private readonly Dictionary<bool, long> _changedAt = [];
        private bool? _running;
        private volatile bool _stop;

        public LinkListener(string device)
        {
            _device = device;
            _socket = NetlinkSocket.Open(NetlinkSocket.GroupLink, 1 << 20);
            _socket.ReceiveTimeout = 100;
            _thread = new Thread(Listen) { IsBackground = true, Name = "plain rtnetlink listener" };
            _thread.Start();
        }

        public long WaitForRunning(bool running, long after)
        {
            long deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
            lock (_gate)
            {
                while (!_changedAt.TryGetValue(running, out long at) || at < after)
                {
                    long left = deadline - Environment.TickCount64;
                    if (left <= 0)
                    {
                        throw new TimeoutException($"the kernel did not report {_device} {(running ? "running" : "not running")}");
                    }

                    Monitor.Wait(_gate, (int)left);
                }

                return _changedAt[running];
            }
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            _socket.Dispose();
        }

        private void Listen()
        {
            byte[] buffer = new byte[NetlinkSocket.DatagramBytes];
            while (!_stop)
            {
                int length;
                try
                {
                    length = _socket.Receive(buffer);
                }
                catch (SocketException)
                {
                    continue; // the timeout, to look at _stop
                }

                long now = Stopwatch.GetTimestamp();
                for (int offset = 0; offset + 32 <= length;)
                {
                    ReadOnlySpan<byte> message = buffer.AsSpan(offset);
                    int messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(message);
                    ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
                    if (messageLength < 32 || offset + messageLength > length)
                    {
                        break;
                    }

                    if ((type == NewLink || type == DelLink) && NameOf(message[32..messageLength]) == _device)
                    {
                        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(message[24..]); // ifinfomsg.ifi_flags
                        bool running = type == NewLink && (flags & Running) != 0;
                        lock (_gate)
                        {
                            if (_running != running)
                            {
                                _running = running;
                                _changedAt[running] = now;
                                Monitor.PulseAll(_gate);
                            }
                        }
                    }

                    offset += (messageLength + 3) & ~3;
                }
            }
        }

        private static string? NameOf(ReadOnlySpan<byte> attributes)
        {
            while (attributes.Length >= 4)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]);
                if (length < 4 || length > attributes.Length)
                {
                    return null;
                }

                if (type == IfName)
                {
                    return Encoding.ASCII.GetString(attributes[4..length].TrimEnd((byte)0));
                }

                int next = (length + 3) & ~3;
                attributes = next >= attributes.Length ? [] : attributes[next..];
            }

            return null;
        }
    }

    // A UDP socket in the peer namespace: counts what arrives and timestamps the first datagram after Arm.
    private sealed class FirstArrival : IDisposable
    {
        private readonly Socket _socket;
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _arrived = new();
        private long _armedAt = long.MaxValue;
        private long _first;
        private long _count;
        private volatile bool _stop;

        public FirstArrival(Socket socket)
        {
            _socket = socket;
            _socket.ReceiveTimeout = 100;
            _thread = new Thread(Receive) { IsBackground = true, Name = "receiver " + socket.LocalEndPoint };
            _thread.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Arm(long at)
        {
            _arrived.Reset();
            Interlocked.Exchange(ref _first, 0);
            Interlocked.Exchange(ref _armedAt, at);
        }

        public long WaitForFirst() => _arrived.Wait(Timeout)
            ? Interlocked.Read(ref _first)
            : throw new TimeoutException($"nothing arrived at {_socket.LocalEndPoint}");

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            _arrived.Dispose();
        }

        private void Receive()
        {
            byte[] buffer = new byte[65536];
            while (!_stop)
            {
                try
                {
                    _socket.Receive(buffer);
                }
                catch (SocketException)
                {
                    continue;
                }

                long now = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref _count);
                if (now >= Interlocked.Read(ref _armedAt) && Interlocked.CompareExchange(ref _first, now, 0) == 0)
                {
                    _arrived.Set();
                }
            }
        }
    }

    // The two senders: about one datagram a millisecond each, all along (an application that keeps logging).
    private sealed class Senders : IDisposable
    {
        private readonly Thread _library;
        private readonly Thread _udpSender;
        private readonly NetconsoleTarget _target;
        private readonly Socket _udp;
        private long _librarySent;
        private long _udpSent;
        private volatile bool _stop;

        public Senders(NetconsoleTarget target, IPEndPoint receiver)
        {
            _target = target;
            _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _library = new Thread(SendRecords) { IsBackground = true, Name = "library sender" };
            _udpSender = new Thread(() => SendDatagrams(receiver)) { IsBackground = true, Name = "OS UDP socket sender" };
            _library.Start();
            _udpSender.Start();
        }

        public long LibrarySent => Interlocked.Read(ref _librarySent);

        public long UdpSent => Interlocked.Read(ref _udpSent);

        public void Stop()
        {
            _stop = true;
            _library.Join();
            _udpSender.Join();
        }

        public void Dispose()
        {
            Stop();
            _udp.Dispose();
        }

        private void SendRecords()
        {
            var record = NetconsoleRecord.FromString(6, "carrier latency");
            while (!_stop)
            {
                if (_target.TrySend(record, out _))
                {
                    Interlocked.Increment(ref _librarySent);
                }

                Thread.Sleep(1);
            }
        }

        private void SendDatagrams(IPEndPoint receiver)
        {
            byte[] payload = "6,0,0,-;OS UDP socket\n"u8.ToArray();
            while (!_stop)
            {
                try
                {
                    _udp.SendTo(payload, receiver);
                    Interlocked.Increment(ref _udpSent);
                }
                catch (SocketException)
                {
                    // No route (the device deleted), no buffer (no carrier): the kernel said so, nothing claimed sent.
                }

                Thread.Sleep(1);
            }
        }
    }
}
