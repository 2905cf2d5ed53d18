using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// The end-to-end harness of issue 7: in one process, one lab, one veth and one receiver
/// kind, it sends the same records through
/// <list type="bullet">
/// <item>E2E: ILogger -> Netconsole.Logging (Wait mode) -> TargetManager -> SharpPcap on the veth;</item>
/// <item>E2E signed: the same with the target signing every record (HMAC-SHA256, issue 17);</item>
/// <item>(a) the injection ceiling: the frames the library produced for those records, in a tight loop through the target's own libpcap handle;</item>
/// <item>(b) the syscall ceiling: the same frames through a raw AF_PACKET socket, send(2) each;</item>
/// <item>(f) the batching ceiling (issue 19): the same frames, back to back in one array, through that socket with sendmmsg(2), 64 per call;</item>
/// <item>(j) (f) on a socket with PACKET_QDISC_BYPASS (frames straight to the driver, past traffic control);</item>
/// <item>(k) the same frames through a memory-mapped transmit ring (PACKET_TX_RING, TPACKET_V2), one send(2) per 64 frames;</item>
/// <item>(l) (k) with PACKET_QDISC_BYPASS;</item>
/// <item>E2E packet socket (issue 19): E2E with the target on the library's packet-socket transport instead of libpcap;</item>
/// <item>(h) the same frames through that packet-socket transport's Send, one at a time;</item>
/// <item>(i) the same frames through its SendBatch, 64 per call (sendmmsg(2) behind the transport's checks);</item>
/// <item>(c) an OS UDP socket sending the same UDP payloads;</item>
/// <item>(d) NLog (NLog.Extensions.Logging, AsyncTargetWrapper in Block mode, NLog's NetworkTarget over udp4://) logging the same messages;</item>
/// <item>(e) a stage: TargetManager.Send (format + frame + inject) of the same records, without the logger and its queue;</item>
/// </list>
/// each counted and checked by a UDP receiver in the peer namespace, then an overload run of
/// the provider in DropWrite mode (and NLog in Discard mode) checking that every drop is
/// counted. Rates are informational: nothing asserts on them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab, packet sockets
internal static class EndToEndHarness
{
    private const int RemotePort = 6666;
    private const int LocalPort = 6665;
    private const int Ipv4UdpHeaders = 14 + 20 + 8;
    private const int FramesPerCall = 64; // (f): as the issue's C measurement
    private const string Category = "Shop.Orders";
    private const string Warehouse = "north-3";
    private const string Template = "order {OrderId} shipped to warehouse {Warehouse}; customer notified by mail";

    // The application's call: a two-argument message, as LoggerMessage.Define / [LoggerMessage] generate it.
    private static readonly Action<ILogger, int, string, Exception?> Shipped =
        LoggerMessage.Define<int, string>(LogLevel.Information, default, Template);

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    // The signed E2E row's key: 32 bytes, fixed so runs compare.
    private static readonly RecordSigningKey SigningKey = new("bench", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static int Run(string[] args, TextWriter output)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        int records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        string outputPath = args.Length > 2 ? args[2] : Path.Combine("bench", "e2e-latest.md");
        if (records < 1000 || rounds < 1)
        {
            throw new ArgumentException("usage: e2e [RECORDS >= 1000] [ROUNDS >= 1] [OUTPUT.md]");
        }

        using var run = new HarnessRun(records, output);
        string report = run.Execute(rounds);
        File.WriteAllText(outputPath, report);
        output.WriteLine();
        output.WriteLine(report);
        output.WriteLine($"(written to {outputPath})");
        return 0;
    }

    private sealed class HarnessRun : IDisposable
    {
        private readonly int _records;
        private readonly TextWriter _progress;
        private readonly NetworkLab _lab;
        private readonly CountingReceiver _receiver;
        private readonly RecordingTransportFactory _transports = new();
        private readonly RecordingTransportFactory _packetTransports = new(PacketSocketTransportFactory.Open);
        private readonly int _appThread = ThreadClock.CurrentThreadId();
        private readonly List<PathResult> _results = [];
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
        private readonly string _loadBefore = Report.LoadAverage();
        private NetconsolePipeline? _netconsole;
        private NetconsolePipeline? _signed;
        private NetconsolePipeline? _watched;
        private NetconsolePipeline? _viaPacketSocket;
        private NLogPipeline? _nlog;
        private PacketSocket? _packetSocket;
        private PacketSocket? _bypassSocket;
        private PacketRing? _ring;
        private PacketRing? _bypassRing;
        private Socket? _udp;
        private byte[][] _frames = [];
        private string _qdisc = "?";
        private byte[][] _texts = [];
        private string[] _ids = [];

        public HarnessRun(int records, TextWriter progress)
        {
            _records = records;
            _progress = progress;
            _lab = NetworkLab.Create();
            _receiver = new CountingReceiver(_lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, RemotePort), 256 * 1024 * 1024);
        }

        private string TargetText(string prefix) =>
            $"{prefix}{LocalPort}@{_lab.DeviceIPv4}/{_lab.DeviceName},{RemotePort}@{_lab.PeerIPv4}/{FormatMac(_lab.PeerMac.GetAddressBytes())}";

        public string Execute(int rounds)
        {
            Log($"lab: {_lab}");
            if (Environment.GetEnvironmentVariable("NETCONSOLE_BENCH_QDISC") is { Length: > 0 } qdisc)
            {
                // A root qdisc on the veth (noqueue by default), as a real NIC has one (mq, fq_codel, pfifo_fast):
                // what PACKET_QDISC_BYPASS skips then.
                RunTool("tc", ["qdisc", "replace", "dev", _lab.DeviceName, "root", .. qdisc.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
            }

            _netconsole = new NetconsolePipeline(TargetText("+"), NetconsoleQueueFullMode.Wait, _transports);
            Log($"netconsole target: {_netconsole.Target} (sender thread {_netconsole.SenderThread})");

            // Capture: one full run through the logger with the tap on gives the library's frames
            // for records 0..N-1 (and warms the logger path up).
            var frames = new List<byte[]>(_records);
            _transports.Recording = frames;
            PathResult capture = RunLogger("capture", 0, _netconsole, _records);
            _transports.Recording = null;
            Log($"capture: {Describe(capture)}");
            if (frames.Count != _records)
            {
                throw new InvalidOperationException($"the capture produced {frames.Count} frames for {_records} records: every record should be one datagram");
            }

            _frames = [.. frames];
            CheckFrames();
            _signed = new NetconsolePipeline(TargetText("+"), NetconsoleQueueFullMode.Wait, new RecordingTransportFactory(), SigningKey);
            Log($"signed target: {_signed.Target} (sender thread {_signed.SenderThread})");
            _watched = new NetconsolePipeline(TargetText("+"), NetconsoleQueueFullMode.Wait, new RecordingTransportFactory(), captureProcessDeath: true);
            Log($"watched target: {_watched.Target} (sender thread {_watched.SenderThread}, watchdog process {_watched.Provider.DeathWatch?.WatchdogProcessId})");
            _viaPacketSocket = new NetconsolePipeline(TargetText("+"), NetconsoleQueueFullMode.Wait, _packetTransports);
            Log($"packet-socket target: {_viaPacketSocket.Target} (sender thread {_viaPacketSocket.SenderThread}, {_packetTransports.LastOpened})");
            PrepareStageRecords();
            _packetSocket = PacketSocket.Open(_lab.DeviceName, _lab.DeviceIndex);
            _packetSocket.Prepare(_frames);
            _bypassSocket = PacketSocket.Open(_lab.DeviceName, _lab.DeviceIndex, bypassQdisc: true);
            _bypassSocket.PrepareAs(_packetSocket);
            _ring = PacketRing.Open(_lab.DeviceName, _lab.DeviceIndex, bypassQdisc: false);
            _bypassRing = PacketRing.Open(_lab.DeviceName, _lab.DeviceIndex, bypassQdisc: true);
            _qdisc = Qdisc(_lab.DeviceName);
            Log($"qdisc of {_lab.DeviceName}: {_qdisc}; packet sockets in this namespace (each ETH_P_ALL one gets a copy of every frame sent through the qdisc path): {PacketSockets()}");
            _udp = _lab.OpenDeviceUdpSocket(AddressFamily.InterNetwork, LocalPort);
            _udp.Connect(new IPEndPoint(_lab.PeerIPv4, RemotePort));
            _nlog = new NLogPipeline(new IPEndPoint(_lab.PeerIPv4, RemotePort), NLog.Targets.Wrappers.AsyncTargetWrapperOverflowAction.Block);

            // Warm-up of every path (not reported).
            int warmup = Math.Max(1000, _records / 10);
            foreach (PathResult result in RunRound(0, warmup))
            {
                Log($"warm-up {Describe(result)}");
            }

            for (int round = 1; round <= rounds; round++)
            {
                foreach (PathResult result in RunRound(round, _records))
                {
                    _results.Add(result);
                    Log(Describe(result));
                }
            }

            // Overload: a fresh provider in DropWrite mode, and NLog discarding on overflow.
            _netconsole.Dispose();
            _netconsole = null;
            _signed.Dispose();
            _signed = null;
            _watched.Dispose();
            _watched = null;
            _viaPacketSocket.Dispose();
            _viaPacketSocket = null;
            _nlog.Dispose();
            _nlog = null;
            double renderBytes = RenderingBytesPerRecord();
            Log($"rendering the message alone: {renderBytes:F1} B/record");
            OverloadResult netconsoleOverload = RunNetconsoleOverload();
            OverloadResult nlogOverload = RunNLogOverload();
            return new Report(_records, rounds, _startedAt, Stopwatch.GetElapsedTime(_started), _results, netconsoleOverload, nlogOverload, capture, _loadBefore, renderBytes, _qdisc).ToMarkdown();
        }

        private IEnumerable<PathResult> RunRound(int round, int count)
        {
            yield return RunLogger(Paths.EndToEnd, round, _netconsole!, count);
            yield return RunLogger(Paths.EndToEndSigned, round, _signed!, count);
            yield return RunLogger(Paths.EndToEndWatched, round, _watched!, count);
            yield return RunFrames(Paths.Injection, round, count, static (run, frame) => run._transports.LastOpened!.Send(frame), () => 0);
            yield return RunFrames(Paths.PacketSocket, round, count, static (run, frame) => run._packetSocket!.Send(frame), () => _packetSocket!.Dropped);
            yield return RunUdp(round, count);
            yield return RunNLog(Paths.NLog, round, _nlog!, count);
            yield return RunStage(round, count);
            yield return RunBatches(Paths.PacketSocketBatch, round, count, _packetSocket!);
            yield return RunBatches(Paths.PacketSocketBatchBypass, round, count, _bypassSocket!);
            yield return RunRing(Paths.TransmitRing, round, count, _ring!);
            yield return RunRing(Paths.TransmitRingBypass, round, count, _bypassRing!);
            yield return RunLogger(Paths.EndToEndPacketSocket, round, _viaPacketSocket!, count);
            yield return RunFrames(Paths.PacketSocketTransport, round, count, static (run, frame) => run._packetTransports.LastOpened!.Send(frame), () => 0);
            yield return RunTransportBatches(round, count);
        }

        // E2E: the application thread logs count records as fast as it can (Wait mode: nothing is dropped).
        private PathResult RunLogger(string path, int round, NetconsolePipeline pipeline, int count)
        {
            ReceivePhase phase = _receiver.Begin(count);
            NetconsoleLoggerStatistics provider0 = pipeline.Provider.GetStatistics();
            TargetStatistics target0 = pipeline.Target.GetStatistics();
            ILogger logger = pipeline.Logger;
            var measured = Measurement.Begin(_appThread, pipeline.SenderThread, _receiver.ThreadId);
            for (int i = 0; i < count; i++)
            {
                Shipped(logger, i, Warehouse, null);
            }

            measured.EndLoop();
            if (!pipeline.Provider.Flush(Limit))
            {
                throw new TimeoutException($"{path}: the provider did not drain within {Limit.TotalSeconds} s");
            }

            measured.EndDrain();
            CountingReceiver.WaitQuiet(phase, Quiet, Limit);
            measured.Finish();
            NetconsoleLoggerStatistics provider1 = pipeline.Provider.GetStatistics();
            TargetStatistics target1 = pipeline.Target.GetStatistics();
            long drops = (provider1.RecordsDropped - provider0.RecordsDropped) + (target1.RecordsDropped - target0.RecordsDropped);
            return Result(path, round, count, target1.DatagramsSent - target0.DatagramsSent, drops, measured, phase);
        }

        // (a), (b): the captured frames in a tight loop.
        private PathResult RunFrames(string path, int round, int count, Action<HarnessRun, byte[]> send, Func<long> dropped)
        {
            ReceivePhase phase = _receiver.Begin(count);
            long drops0 = dropped();
            long errors = 0;
            byte[][] frames = _frames;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            for (int i = 0; i < count; i++)
            {
                try
                {
                    send(this, frames[i]);
                }
                catch (FrameTransportException)
                {
                    errors++;
                }
            }

            SendLoopEnded(measured, phase);
            long drops = errors + dropped() - drops0;
            return Result(path, round, count, count - drops, drops, measured, phase);
        }

        // (f), (j): the captured frames, pinned in advance, through a packet socket with sendmmsg(2).
        private PathResult RunBatches(string path, int round, int count, PacketSocket socket)
        {
            ReceivePhase phase = _receiver.Begin(count);
            long drops0 = socket.Dropped;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            for (int i = 0; i < count; i += FramesPerCall)
            {
                socket.SendPrepared(i, Math.Min(FramesPerCall, count - i));
            }

            SendLoopEnded(measured, phase);
            long drops = socket.Dropped - drops0;
            return Result(path, round, count, count - drops, drops, measured, phase);
        }

        // (k), (l): the captured frames through a transmit ring, 64 slots filled per send(2).
        private PathResult RunRing(string path, int round, int count, PacketRing ring)
        {
            ReceivePhase phase = _receiver.Begin(count);
            (byte[] arena, int[] lengths, int[] offsets) = _packetSocket!.Prepared;
            long drops0 = ring.Dropped;
            long wrong0 = ring.WrongFormat;
            long retries0 = ring.NoBufferRetries;
            long waits0 = ring.SlotWaits;
            long calls0 = ring.Calls;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            ring.Send(arena, lengths, offsets, 0, count, FramesPerCall);
            SendLoopEnded(measured, phase);
            long drops = ring.Dropped - drops0;
            Log($"{path}: {ring.Calls - calls0} send(2) calls, {ring.WrongFormat - wrong0} frames TP_STATUS_WRONG_FORMAT, "
                + $"{ring.NoBufferRetries - retries0} ENOBUFS retries, {ring.SlotWaits - waits0} waits for a slot, {drops} dropped");
            return Result(path, round, count, count - drops, drops, measured, phase) with { WrongFormat = ring.WrongFormat - wrong0 };
        }

        // The device's root qdisc as tc shows it (veth: noqueue unless NETCONSOLE_BENCH_QDISC says otherwise).
        private static string Qdisc(string device) => RunTool("tc", ["qdisc", "show", "dev", device]) is { Length: > 0 } text ? text : "?";



        // (i): the captured frames, back to back, through the packet-socket transport's SendBatch, 64 per call.
        private PathResult RunTransportBatches(int round, int count)
        {
            ReceivePhase phase = _receiver.Begin(count);
            IFrameTransport transport = _packetTransports.LastOpened!;
            (byte[] frames, int[] lengths, int[] offsets) = _packetSocket!.Prepared;
            long errors = 0;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            int next = 0;
            while (next < count)
            {
                int end = Math.Min(next + FramesPerCall, count);
                try
                {
                    next += transport.SendBatch(frames.AsSpan(offsets[next]), lengths.AsSpan(next, end - next));
                }
                catch (FrameTransportException)
                {
                    // The first frame was not sent (ENOBUFS: dropped): counted, and the batch goes on after it.
                    errors++;
                    next++;
                }
            }

            SendLoopEnded(measured, phase);
            return Result(Paths.PacketSocketTransportBatch, round, count, count - errors, errors, measured, phase);
        }

        // (c): the same UDP payloads through a connected OS socket bound to the same address and port.
        private PathResult RunUdp(int round, int count)
        {
            ReceivePhase phase = _receiver.Begin(count);
            byte[][] frames = _frames;
            Socket udp = _udp!;
            long errors = 0;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            for (int i = 0; i < count; i++)
            {
                if (udp.Send(frames[i].AsSpan(Ipv4UdpHeaders), SocketFlags.None, out SocketError error) == 0 && error != SocketError.Success)
                {
                    errors++;
                }
            }

            SendLoopEnded(measured, phase);
            return Result(Paths.Udp, round, count, count - errors, errors, measured, phase);
        }

        // (d): NLog through ILogger, the same call.
        private PathResult RunNLog(string path, int round, NLogPipeline pipeline, int count)
        {
            ReceivePhase phase = _receiver.Begin(count);
            long dropped0 = pipeline.Dropped;
            ILogger logger = pipeline.Logger;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            for (int i = 0; i < count; i++)
            {
                Shipped(logger, i, Warehouse, null);
            }

            measured.EndLoop();
            pipeline.Flush(Limit);
            measured.EndDrain();
            CountingReceiver.WaitQuiet(phase, Quiet, Limit);
            measured.Finish();
            long drops = pipeline.Dropped - dropped0;
            return Result(path, round, count, count - drops, drops, measured, phase); // handed to NetworkTarget
        }

        // (e): the library's send path below the logger: TargetManager.Send of the same records
        // (text, dictionary, CPU, task name), on the same target and libpcap handle.
        private PathResult RunStage(int round, int count)
        {
            ReceivePhase phase = _receiver.Begin(count);
            NetconsolePipeline pipeline = _netconsole!;
            TargetManager manager = pipeline.Provider.Manager;
            TargetStatistics target0 = pipeline.Target.GetStatistics();
            var dictionary = new List<KeyValuePair<string, string>>(3)
            {
                new("CATEGORY", Category), new("OrderId", string.Empty), new("Warehouse", Warehouse),
            };
            string taskName = Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);
            byte[][] texts = _texts;
            string[] ids = _ids;
            var measured = Measurement.Begin(_appThread, 0, _receiver.ThreadId);
            for (int i = 0; i < count; i++)
            {
                dictionary[1] = new("OrderId", ids[i]);
                manager.Send(new NetconsoleRecord(6, texts[i])
                {
                    Facility = 1,
                    Sequence = (ulong)i + 1,
                    TimestampMicroseconds = (ulong)Stopwatch.GetTimestamp() / 1000,
                    Dictionary = dictionary,
                    Cpu = Thread.GetCurrentProcessorId(),
                    TaskName = taskName,
                });
            }

            SendLoopEnded(measured, phase);
            TargetStatistics target1 = pipeline.Target.GetStatistics();
            return Result(Paths.Stage, round, count, target1.DatagramsSent - target0.DatagramsSent, target1.RecordsDropped - target0.RecordsDropped, measured, phase);
        }

        // The part of the logging thread's allocations that is Microsoft.Extensions.Logging's own:
        // rendering the message, through a logger that does nothing but call the formatter.
        private double RenderingBytesPerRecord()
        {
            var logger = new RenderOnlyLogger();
            for (int i = 0; i < 1000; i++)
            {
                Shipped(logger, i, Warehouse, null);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < _records; i++)
            {
                Shipped(logger, i, Warehouse, null);
            }

            return (double)(GC.GetAllocatedBytesForCurrentThread() - before) / _records;
        }

        private OverloadResult RunNetconsoleOverload()
        {
            using var pipeline = new NetconsolePipeline(TargetText("+"), NetconsoleQueueFullMode.DropWrite, _transports);
            ReceivePhase phase = _receiver.Begin(_records);
            ILogger logger = pipeline.Logger;
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < _records; i++)
            {
                Shipped(logger, i, Warehouse, null);
            }

            double loopSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            pipeline.Provider.Flush(Limit);
            CountingReceiver.WaitQuiet(phase, Quiet, Limit);
            Thread.Sleep(Quiet); // notices may follow the last record
            NetconsoleLoggerStatistics provider = pipeline.Provider.GetStatistics();
            TargetStatistics target = pipeline.Target.GetStatistics();
            var result = new OverloadResult(
                Paths.EndToEnd + ", DropWrite",
                _records,
                loopSeconds,
                provider.RecordsEnqueued,
                provider.RecordsDropped,
                provider.RecordsDelivered + provider.RecordsUndelivered,
                target.RecordsSent,
                target.RecordsDropped,
                phase.Received,
                phase.Notices,
                phase.AnnouncedDrops,
                phase.Duplicates,
                phase.Malformed);
            Log($"overload: {result}");
            return result;
        }

        private OverloadResult RunNLogOverload()
        {
            using var pipeline = new NLogPipeline(new IPEndPoint(_lab.PeerIPv4, RemotePort), NLog.Targets.Wrappers.AsyncTargetWrapperOverflowAction.Discard);
            ReceivePhase phase = _receiver.Begin(_records);
            ILogger logger = pipeline.Logger;
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < _records; i++)
            {
                Shipped(logger, i, Warehouse, null);
            }

            double loopSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            pipeline.Flush(Limit);
            CountingReceiver.WaitQuiet(phase, Quiet, Limit);
            var result = new OverloadResult(
                Paths.NLog + ", Discard",
                _records,
                loopSeconds,
                _records - pipeline.Dropped,
                pipeline.Dropped,
                _records - pipeline.Dropped, // handed to NetworkTarget
                _records - pipeline.Dropped,
                0, // NetworkTarget reports send errors only to NLog's internal log

                phase.Received,
                phase.Notices,
                phase.AnnouncedDrops,
                phase.Duplicates,
                phase.Malformed);
            Log($"overload: {result}");
            return result;
        }

        // A send loop has nothing queued behind it: it has drained when it ends; then the receiver goes quiet.
        private static void SendLoopEnded(Measurement measured, ReceivePhase phase)
        {
            measured.EndLoop();
            measured.EndDrain();
            CountingReceiver.WaitQuiet(phase, Quiet, Limit);
            measured.Finish();
        }

        private PathResult Result(string path, int round, long records, long datagrams, long drops, Measurement measured, ReceivePhase phase)
        {
            long last = phase.LastArrival;
            return new PathResult
            {
                Path = path,
                Round = round,
                Records = records,
                Datagrams = datagrams,
                SenderDrops = drops,
                LoopSeconds = Stopwatch.GetElapsedTime(measured.Start, measured.LoopEnd).TotalSeconds,
                DrainSeconds = Stopwatch.GetElapsedTime(measured.Start, measured.Drained).TotalSeconds,
                ReceivedSeconds = Stopwatch.GetElapsedTime(measured.Start, last == 0 ? measured.Drained : last).TotalSeconds,
                Received = phase.Received,
                Duplicates = phase.Duplicates,
                Malformed = phase.Malformed,
                PayloadBytes = phase.Datagrams == 0 ? 0 : (double)phase.PayloadBytes / phase.Datagrams,
                Measured = measured,
            };
        }

        // Every captured frame: IPv4 without options, UDP to the receiver, one record with its id.
        private void CheckFrames()
        {
            for (int i = 0; i < _frames.Length; i++)
            {
                byte[] frame = _frames[i];
                if (frame.Length <= Ipv4UdpHeaders || frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45 || frame[23] != 17)
                {
                    throw new InvalidOperationException($"captured frame {i} is not IPv4 (no options) + UDP");
                }

                string payload = Encoding.UTF8.GetString(frame.AsSpan(Ipv4UdpHeaders));
                string expected = string.Create(CultureInfo.InvariantCulture, $"order {i}{ReceivePhase.Suffix}");
                if (!payload.Contains(expected, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"captured frame {i} does not carry record {i}: {payload}");
                }
            }

            Log($"frames: {_frames.Length}, e.g. {_frames[^1].Length} bytes, payload: {Encoding.UTF8.GetString(_frames[^1].AsSpan(Ipv4UdpHeaders)).Replace("\n", "\\n", StringComparison.Ordinal)}");
        }

        private void PrepareStageRecords()
        {
            _ids = new string[_records];
            _texts = new byte[_records][];
            for (int i = 0; i < _records; i++)
            {
                _ids[i] = i.ToString(CultureInfo.InvariantCulture);
                _texts[i] = Encoding.UTF8.GetBytes($"order {_ids[i]}{ReceivePhase.Suffix}");
            }
        }

        private void Log(string line) => _progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Stopwatch.GetElapsedTime(_started).TotalSeconds,6:F1} s] {line}"));

        private static string Describe(PathResult r) => string.Create(
            CultureInfo.InvariantCulture,
            $"round {r.Round} {r.Path}: {r.RecordsPerSecond:N0} records/s (loop {r.LoopSeconds:F3} s, drained {r.DrainSeconds:F3} s, last received {r.ReceivedSeconds:F3} s), received {r.Received:N0}/{r.Records:N0}, sender drops {r.SenderDrops}, lost {r.LostAtReceiver}, dup {r.Duplicates}, bad {r.Malformed}, {r.ThreadBytesPerRecord:F1} B/record app thread, {r.BackgroundBytesPerRecord:F1} B/record other threads");

        public void Dispose()
        {
            _netconsole?.Dispose();
            _signed?.Dispose();
            _watched?.Dispose();
            _viaPacketSocket?.Dispose();
            _nlog?.Dispose();
            _packetSocket?.Dispose();
            _bypassSocket?.Dispose();
            _ring?.Dispose();
            _bypassRing?.Dispose();
            _receiver.Dispose();
            _lab.Dispose();
        }
    }

    private sealed class RenderOnlyLogger : ILogger
    {
        public int Length { get; private set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Length += formatter(state, exception).Length;
    }

    // A tool's output; its failure an exception.
    internal static string RunTool(string tool, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true })!;
        string text = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? text : throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode})");
    }

    // Packet sockets open in this network namespace, by protocol (/proc/net/packet; 0003 = ETH_P_ALL:
    // libpcap's, which gets a copy of every frame sent through the qdisc path; 0000: send-only ones).
    internal static string PacketSockets()
    {
        string[] lines = File.ReadAllLines("/proc/net/packet");
        var protocols = lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 4).Select(f => f[3]);
        return string.Join(", ", protocols.GroupBy(p => p).Select(g => $"{g.Count()} of protocol {g.Key}"));
    }

    internal static string FormatMac(byte[] mac) => string.Join(':', mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    /// <summary>Netconsole.Logging set up as an application would (DI, AddNetconsole), with the tapping transport factory.</summary>
    private sealed class NetconsolePipeline : IDisposable
    {
        private readonly ServiceProvider _services;

        public NetconsolePipeline(string target, NetconsoleQueueFullMode mode, RecordingTransportFactory transports, RecordSigningKey? signingKey = null, bool captureProcessDeath = false)
        {
            var services = new ServiceCollection();
            services.AddLogging(logging => logging.AddNetconsole(options =>
            {
                if (signingKey is null)
                {
                    options.Targets.Add(target);
                }
                else
                {
                    NetconsoleTargetOptions signed = NetconsoleTargetOptions.Parse(target);
                    signed.SigningKey = signingKey;
                    options.TargetOptions.Add(signed);
                }

                options.QueueFullMode = mode;
                options.CaptureProcessDeath = captureProcessDeath;

                options.ManagerOptions = () => new TargetManagerOptions { TransportFactory = transports };
            }));
            _services = services.BuildServiceProvider();
            Logger = _services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
            Provider = _services.GetRequiredService<NetconsoleLoggerProvider>();
            Target = Provider.Manager.Targets.Single();
            if (Target.State != TargetState.Enabled)
            {
                throw new InvalidOperationException($"the netconsole target is not enabled: {Target}");
            }

            if (captureProcessDeath && Provider.DeathWatch is null)
            {
                throw new InvalidOperationException("CaptureProcessDeath is on but the watchdog did not start (see the provider's diagnostics on standard error)");
            }

            SenderThread = ThreadClock.FindThread("netconsole-logger");
        }

        public ILogger Logger { get; }

        public NetconsoleLoggerProvider Provider { get; }

        public NetconsoleTarget Target { get; }

        /// <summary>The provider's sender thread (its kernel id), 0 if not found.</summary>
        public int SenderThread { get; }

        public void Dispose() => _services.Dispose();
    }
}

/// <summary>The paths' names, as in the report.</summary>
internal static class Paths
{
    public const string EndToEnd = "E2E: ILogger -> Netconsole.Logging -> SharpPcap";
    public const string EndToEndSigned = "E2E signed: the same, every record signed (HMAC-SHA256)";
    public const string EndToEndWatched = "E2E watched: the same, CaptureProcessDeath on (each record also written into the watchdog's ring)";
    public const string Injection = "(a) pre-built frames -> same SharpPcap handle";
    public const string PacketSocket = "(b) pre-built frames -> raw AF_PACKET send()";
    public const string Udp = "(c) same payloads -> OS UDP socket";
    public const string NLog = "(d) ILogger -> NLog async -> UDP";
    public const string Stage = "(e) stage: TargetManager.Send (format+frame+inject)";
    public const string PacketSocketBatch = "(f) pre-built frames -> raw AF_PACKET sendmmsg(), 64 per call";
    public const string EndToEndPacketSocket = "E2E packet socket: ILogger -> Netconsole.Logging -> packet-socket transport";
    public const string PacketSocketTransport = "(h) pre-built frames -> same packet-socket transport, Send()";
    public const string PacketSocketTransportBatch = "(i) pre-built frames -> same packet-socket transport, SendBatch() of 64";
    public const string PacketSocketBatchBypass = "(j) pre-built frames -> raw AF_PACKET sendmmsg(), 64 per call, PACKET_QDISC_BYPASS";
    public const string TransmitRing = "(k) pre-built frames -> PACKET_TX_RING (TPACKET_V2), one send() per 64";
    public const string TransmitRingBypass = "(l) pre-built frames -> PACKET_TX_RING, one send() per 64, PACKET_QDISC_BYPASS";

    public static readonly string[] Order = [EndToEnd, EndToEndSigned, EndToEndWatched, Injection, PacketSocket, Udp, NLog, Stage, PacketSocketBatch, PacketSocketBatchBypass, TransmitRing, TransmitRingBypass, EndToEndPacketSocket, PacketSocketTransport, PacketSocketTransportBatch];

    /// <summary>The paths with a netconsole-logger sender thread.</summary>
    public static bool HasSender(string path) => path is EndToEnd or EndToEndSigned or EndToEndWatched or EndToEndPacketSocket;
}

/// <summary>An overload run's accounting.</summary>
internal sealed record OverloadResult(
    string Path,
    long Logged,
    double LoopSeconds,
    long Accepted,
    long DroppedAtQueue,
    long HandedToSender,
    long SentBySender,
    long DroppedBySender,
    long Received,
    long Notices,
    long AnnouncedDrops,
    long Duplicates,
    long Malformed)
{
    /// <summary>Records the sender put on the wire (for netconsole including drop notices) that did not arrive.</summary>
    public long LostAtReceiver => SentBySender - Received - Notices;
}
