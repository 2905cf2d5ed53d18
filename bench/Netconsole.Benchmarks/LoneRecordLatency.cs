using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Benchmarks.EndToEnd;
using Netconsole.Interop;
using Netconsole.Lab;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Benchmarks;

/// <summary>
/// Issue 19: a lone record must leave at once. On the lab veth, through the provider as an
/// application uses it (ILogger -> Netconsole.Logging, extended target), one record is logged at a
/// time, with a pause before each: a short one and a long one. (Until the sender slept as soon as
/// its queue was empty, the short one found it polling every millisecond, which cost up to ~1.1 ms;
/// now the sender sleeps on its event after either and the logging call wakes it.)
/// Measured per record, from just before <c>logger.Log</c>:
/// <list type="bullet">
/// <item>to the kernel's receive timestamp of the datagram on the peer's UDP socket (SO_TIMESTAMPNS,
/// CLOCK_REALTIME, taken when the veth hands the frame to the peer's stack): the library's latency plus the kernel's transmit path;</item>
/// <item>to the receiving thread holding the datagram (Stopwatch, same process): the above plus that thread's wake-up;</item>
/// <item>and how long <c>logger.Log</c> itself took on the logging thread.</item>
/// </list>
/// Both transports, chosen as a user does: NETCONSOLE_TRANSPORT=libpcap (the default) and =packet-socket.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class LoneRecordLatency
{
    private const int RemotePort = 6666;
    private const int LocalPort = 6665;
    private const string Marker = "lone record ";
    private const int SocketLevel = 1;        // SOL_SOCKET
    private const int TimestampNanoseconds = 35; // SO_TIMESTAMPNS (= SCM_TIMESTAMPNS)
    private const int WouldBlock = 11;         // EAGAIN: SO_RCVTIMEO passed

    private static readonly byte[] MarkerBytes = Encoding.ASCII.GetBytes(Marker);

    private static readonly Action<ILogger, int, Exception?> Lone =
        LoggerMessage.Define<int>(LogLevel.Information, default, Marker + "{Id} on its own");

    public static int Run(string[] args, TextWriter output)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        int samples = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        int[] pauses = args.Length > 1 ? [.. args[1].Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))] : [20, 150];
        string[] transports = args.Length > 2 ? args[2].Split(',') : [FrameTransports.LibpcapName, FrameTransports.PacketSocketName];
        string outputPath = args.Length > 3 ? args[3] : Path.Combine("bench", "lone-latest.md");
        if (samples < 1 || pauses.Any(p => p < 1))
        {
            throw new ArgumentException("usage: lone [SAMPLES >= 1] [PAUSES_MS,...] [libpcap,packet-socket] [OUTPUT.md]");
        }

        string loadBefore = Report.LoadAverage();
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        long started = Stopwatch.GetTimestamp();
        var rows = new List<Row>();
        using (NetworkLab lab = NetworkLab.Create())
        using (var receiver = new TimestampingReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, RemotePort), samples * pauses.Length * transports.Length + 1000))
        {
            output.WriteLine($"lab: {lab}");
            string target = $"+{LocalPort}@{lab.DeviceIPv4}/{lab.DeviceName},{RemotePort}@{lab.PeerIPv4}/{EndToEndHarness.FormatMac(lab.PeerMac.GetAddressBytes())}";
            int id = 0;
            foreach (string transport in transports)
            {
                // As a user chooses it: TargetManager reads the variable when it is made.
                Environment.SetEnvironmentVariable(FrameTransports.EnvironmentVariable, transport);
                using ServiceProvider services = Pipeline(target);
                ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Lone");
                NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
                NetconsoleTarget netconsole = provider.Manager.Targets.Single();
                if (netconsole.State != TargetState.Enabled)
                {
                    throw new InvalidOperationException($"the target is not enabled: {netconsole} ({netconsole.StateReason})");
                }

                output.WriteLine($"{transport}: {netconsole}; packet sockets: {EndToEndHarness.PacketSockets()}");

                // Warm-up (JIT, ARP-free: the peer's MAC is given): 50 records, not reported.
                for (int i = 0; i < 50; i++)
                {
                    Sample(logger, receiver, id++, 5);
                }

                foreach (int pause in pauses)
                {
                    var row = new Row(transport, pause);
                    for (int i = 0; i < samples; i++)
                    {
                        row.Add(Sample(logger, receiver, id++, pause));
                    }

                    rows.Add(row);
                    output.WriteLine(row.Describe());
                }
            }

            Environment.SetEnvironmentVariable(FrameTransports.EnvironmentVariable, null);
        }

        string report = ToMarkdown(samples, pauses, transports, rows, startedAt, Stopwatch.GetElapsedTime(started), loadBefore);
        File.WriteAllText(outputPath, report);
        output.WriteLine();
        output.WriteLine(report);
        output.WriteLine($"(written to {outputPath})");
        return 0;
    }

    // The pause first (the sender's state depends on it), then one record, then its arrival: the next
    // pause starts only after it arrived (or 1 s passed: lost).
    private static Measured? Sample(ILogger logger, TimestampingReceiver receiver, int id, int pauseMilliseconds)
    {
        Thread.Sleep(pauseMilliseconds);
        long wall = RealtimeNanoseconds();
        long start = Stopwatch.GetTimestamp();
        Lone(logger, id, null);
        long returned = Stopwatch.GetTimestamp();
        long deadline = returned + Stopwatch.Frequency;
        Arrival arrival;
        while (!receiver.TryGet(id, out arrival))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return null;
            }

            Thread.Sleep(1);
        }

        return new Measured(
            (arrival.KernelNanoseconds - wall) / 1000.0,
            Stopwatch.GetElapsedTime(start, arrival.Stopwatch).TotalMicroseconds,
            Stopwatch.GetElapsedTime(start, returned).TotalMicroseconds);
    }

    private static ServiceProvider Pipeline(string target)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddNetconsole(options =>
        {
            options.Targets.Add(target);
            options.QueueFullMode = NetconsoleQueueFullMode.Wait;
        }));
        return services.BuildServiceProvider();
    }

    private static long RealtimeNanoseconds() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private static string ToMarkdown(int samples, int[] pauses, string[] transports, List<Row> rows, DateTimeOffset startedAt, TimeSpan duration, string loadBefore)
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        Line("## Lone-record latency (issue 19)");
        Line();
        Line($"Command: `bench/lab.sh lone {samples} {string.Join(',', pauses)} {string.Join(',', transports)}` (root; inside `unshare -n`; one process, one lab veth).");
        Line($"{Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version}, {RuntimeInformation.FrameworkDescription}; {startedAt:yyyy-MM-dd HH:mm} UTC, "
            + $"run took {duration.TotalSeconds:F0} s; load average (1 min) {loadBefore} before, {Report.LoadAverage()} after.");
        Line();
        Line("One record at a time through ILogger -> Netconsole.Logging (extended target, Wait mode) on the lab veth, the transport");
        Line("chosen by NETCONSOLE_TRANSPORT as a user does; before each record a pause of 20 ms or 150 ms: after either the sender");
        Line("thread sleeps on its event (it sleeps as soon as its queue is empty), so the logging call wakes it.");
        Line("**kernel arrival**: from just before `logger.Log` (CLOCK_REALTIME) to the datagram's receive timestamp on the peer's");
        Line("UDP socket (SO_TIMESTAMPNS, CLOCK_REALTIME, stamped when the veth delivers the frame to the peer's stack), the figure");
        Line("the issue's 1 ms goal is about. **thread arrival**: to the receiving thread holding it (Stopwatch, same process), which");
        Line($"adds that thread's wake-up. **Log()**: the logging call alone. {samples} samples per row after 50 unreported; p99 is the");
        Line("nearest rank; microseconds.");
        Line();
        Line("| transport | pause | samples | kernel arrival median | p99 | worst | over 1 ms | thread arrival median | p99 | worst | Log() median | Log() worst | lost |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Row r in rows)
        {
            Line(r.ToMarkdown());
        }

        return text.ToString();
    }

    private readonly record struct Measured(double KernelMicroseconds, double ThreadMicroseconds, double CallMicroseconds);

    private readonly record struct Arrival(long KernelNanoseconds, long Stopwatch);

    private sealed class Row(string transport, int pauseMilliseconds)
    {
        private readonly List<Measured> _samples = [];
        private int _lost;

        public void Add(Measured? sample)
        {
            if (sample is { } s)
            {
                _samples.Add(s);
            }
            else
            {
                _lost++;
            }
        }

        public string Describe() => string.Create(
            CultureInfo.InvariantCulture,
            $"{transport}, pause {pauseMilliseconds} ms: kernel arrival median {Median(x => x.KernelMicroseconds):F0} us, p99 {P99(x => x.KernelMicroseconds):F0}, worst {Worst(x => x.KernelMicroseconds):F0}; "
            + $"thread arrival median {Median(x => x.ThreadMicroseconds):F0} us; Log() median {Median(x => x.CallMicroseconds):F1} us; lost {_lost}");

        public string ToMarkdown() => string.Create(
            CultureInfo.InvariantCulture,
            $"| {transport} | {pauseMilliseconds} ms | {_samples.Count} | {Median(x => x.KernelMicroseconds):F0} | {P99(x => x.KernelMicroseconds):F0} | {Worst(x => x.KernelMicroseconds):F0} | "
            + $"{_samples.Count(x => x.KernelMicroseconds > 1000)} | {Median(x => x.ThreadMicroseconds):F0} | {P99(x => x.ThreadMicroseconds):F0} | {Worst(x => x.ThreadMicroseconds):F0} | "
            + $"{Median(x => x.CallMicroseconds):F1} | {Worst(x => x.CallMicroseconds):F1} | {_lost} |");

        private double Median(Func<Measured, double> value) => Rank(value, 0.5);

        private double P99(Func<Measured, double> value) => Rank(value, 0.99);

        private double Worst(Func<Measured, double> value) => _samples.Count == 0 ? double.NaN : _samples.Max(value);

        // Nearest rank.
        private double Rank(Func<Measured, double> value, double quantile)
        {
            if (_samples.Count == 0)
            {
                return double.NaN;
            }

            double[] sorted = [.. _samples.Select(value).Order()];
            return sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
        }
    }

    /// <summary>
    /// A thread doing blocking recvmsg(2) on the peer's UDP socket with SO_TIMESTAMPNS: for every
    /// datagram carrying "lone record N", the kernel's receive time and the Stopwatch time it got it.
    /// </summary>
    private sealed unsafe class TimestampingReceiver : IDisposable
    {
        private readonly Socket _socket;
        private readonly Thread _thread;
        private readonly Arrival[] _arrivals;
        private readonly int[] _seen;
        private volatile bool _stopping;

        public TimestampingReceiver(Socket socket, int capacity)
        {
            _socket = socket;
            _socket.SetRawSocketOption(SocketLevel, TimestampNanoseconds, BitConverter.GetBytes(1));
            _socket.ReceiveTimeout = 200; // SO_RCVTIMEO: the thread looks at _stopping this often
            _arrivals = new Arrival[capacity];
            _seen = new int[capacity];
            _thread = new Thread(Run) { IsBackground = true, Name = "lone-receiver" };
            _thread.Start();
        }

        public bool TryGet(int id, out Arrival arrival)
        {
            if (Volatile.Read(ref _seen[id]) == 0)
            {
                arrival = default;
                return false;
            }

            arrival = _arrivals[id];
            return true;
        }

        public void Dispose()
        {
            _stopping = true;
            _thread.Join(TimeSpan.FromSeconds(5));
            _socket.Dispose();
        }

        private void Run()
        {
            byte[] buffer = new byte[65536];
            byte* control = stackalloc byte[128];
            fixed (byte* data = buffer)
            {
                var vector = new IoVector { Base = (IntPtr)data, Length = (nuint)buffer.Length };
                while (!_stopping)
                {
                    var header = new MessageHeader { Vectors = (IntPtr)(&vector), VectorCount = 1, Control = (IntPtr)control, ControlLength = 128 };
                    nint received = ReceiveMessage(_socket.SafeHandle, &header, 0);
                    long now = Stopwatch.GetTimestamp();
                    if (received < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == WouldBlock || errno == 4) // SO_RCVTIMEO, EINTR
                        {
                            continue;
                        }

                        if (_stopping)
                        {
                            return;
                        }

                        throw new InvalidOperationException($"recvmsg(2) failed: {Errno.Text(errno)}");
                    }

                    int id = ParseId(buffer.AsSpan(0, (int)received));
                    long kernel = KernelTimestamp(control, (int)header.ControlLength);
                    if (id >= 0 && id < _arrivals.Length && kernel != 0)
                    {
                        _arrivals[id] = new Arrival(kernel, now);
                        Volatile.Write(ref _seen[id], 1);
                    }
                }
            }
        }

        // struct cmsghdr (64-bit): size_t cmsg_len, int cmsg_level, int cmsg_type, then the data,
        // each header aligned to 8; SCM_TIMESTAMPNS carries a struct timespec (two longs).
        private static long KernelTimestamp(byte* control, int length)
        {
            int offset = 0;
            while (offset + 16 <= length)
            {
                long cmsgLength = *(long*)(control + offset);
                int level = *(int*)(control + offset + 8);
                int type = *(int*)(control + offset + 12);
                if (level == SocketLevel && type == TimestampNanoseconds && cmsgLength >= 32)
                {
                    long seconds = *(long*)(control + offset + 16);
                    long nanoseconds = *(long*)(control + offset + 24);
                    return (seconds * 1_000_000_000) + nanoseconds;
                }

                if (cmsgLength < 16)
                {
                    break;
                }

                offset += (int)((cmsgLength + 7) & ~7L);
            }

            return 0;
        }

        private static int ParseId(ReadOnlySpan<byte> datagram)
        {
            int at = datagram.IndexOf(MarkerBytes);
            if (at < 0)
            {
                return -1;
            }

            int id = 0;
            int i = at + Marker.Length;
            int digits = 0;
            while (i < datagram.Length && datagram[i] >= (byte)'0' && datagram[i] <= (byte)'9')
            {
                id = (id * 10) + (datagram[i] - (byte)'0');
                i++;
                digits++;
            }

            return digits == 0 ? -1 : id;
        }

        [DllImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
        private static extern nint ReceiveMessage(SafeSocketHandle socket, MessageHeader* message, int flags);
    }
}
