using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// Issue 19's kernel paths alone: rows (b), (f), (j), (k), (l) of the e2e harness on the same
/// pre-built frames and receiver checks, but with no libpcap handle open in the namespace. In the
/// e2e harness the libpcap targets' ETH_P_ALL sockets stay open, and every frame sent through the
/// qdisc path (dev_queue_xmit) is cloned to each of them and run through its filter
/// (dev_queue_xmit_nit), which PACKET_QDISC_BYPASS skips too: there the bypass rows gain from the
/// taps as well as from the qdisc. Here the frames come from a logged run through the
/// packet-socket transport (a send-only socket, protocol 0: no tap), closed before measuring. The
/// rows rotate their order every round.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class KernelPaths
{
    private const int RemotePort = 6666;
    private const int LocalPort = 6665;
    private const int FramesPerCall = 64;

    private static readonly Action<ILogger, int, string, Exception?> Shipped =
        LoggerMessage.Define<int, string>(LogLevel.Information, default, "order {OrderId} shipped to warehouse {Warehouse}; customer notified by mail");

    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static int Run(string[] args, TextWriter output)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        int records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        string outputPath = args.Length > 2 ? args[2] : Path.Combine("bench", "kernel-paths-latest.md");
        string loadBefore = Report.LoadAverage();
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        long started = Stopwatch.GetTimestamp();
        int appThread = ThreadClock.CurrentThreadId();

        using NetworkLab lab = NetworkLab.Create();
        string? qdiscKind = Environment.GetEnvironmentVariable("NETCONSOLE_BENCH_QDISC");
        if (!string.IsNullOrEmpty(qdiscKind))
        {
            EndToEndHarness.RunTool("tc", ["qdisc", "replace", "dev", lab.DeviceName, "root", .. qdiscKind.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        }

        string qdisc = EndToEndHarness.RunTool("tc", ["qdisc", "show", "dev", lab.DeviceName]);
        using var receiver = new CountingReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, RemotePort), 256 * 1024 * 1024);
        ReceivePhase capturing = receiver.Begin(records);
        byte[][] frames = Capture(lab, records);
        CountingReceiver.WaitQuiet(capturing, Quiet, Limit); // the capture's datagrams are not counted into a row
        string sockets = EndToEndHarness.PacketSockets();
        output.WriteLine($"lab {lab}; qdisc: {qdisc}; {frames.Length} frames; packet sockets before the rows open theirs: {(sockets.Length == 0 ? "none" : sockets)}");

        using PacketSocket plain = PacketSocket.Open(lab.DeviceName, lab.DeviceIndex);
        plain.Prepare(frames);
        using PacketSocket bypass = PacketSocket.Open(lab.DeviceName, lab.DeviceIndex, bypassQdisc: true);
        bypass.PrepareAs(plain);
        using PacketRing ring = PacketRing.Open(lab.DeviceName, lab.DeviceIndex, bypassQdisc: false);
        using PacketRing bypassRing = PacketRing.Open(lab.DeviceName, lab.DeviceIndex, bypassQdisc: true);
        (byte[] arena, int[] lengths, int[] offsets) = plain.Prepared;

        var rows = new (string Path, Func<int, long> Send)[]
        {
            (Paths.PacketSocket, count => { long d = plain.Dropped; for (int i = 0; i < count; i++) { plain.Send(frames[i]); } return plain.Dropped - d; }),
            (Paths.PacketSocketBatch, count => { long d = plain.Dropped; for (int i = 0; i < count; i += FramesPerCall) { plain.SendPrepared(i, Math.Min(FramesPerCall, count - i)); } return plain.Dropped - d; }),
            (Paths.PacketSocketBatchBypass, count => { long d = bypass.Dropped; for (int i = 0; i < count; i += FramesPerCall) { bypass.SendPrepared(i, Math.Min(FramesPerCall, count - i)); } return bypass.Dropped - d; }),
            (Paths.TransmitRing, count => { long d = ring.Dropped; ring.Send(arena, lengths, offsets, 0, count, FramesPerCall); return ring.Dropped - d; }),
            (Paths.TransmitRingBypass, count => { long d = bypassRing.Dropped; bypassRing.Send(arena, lengths, offsets, 0, count, FramesPerCall); return bypassRing.Dropped - d; }),
        };

        var results = new List<PathResult>();
        for (int round = 0; round <= rounds; round++)
        {
            int count = round == 0 ? Math.Max(1000, records / 10) : records; // round 0: warm-up, not reported
            for (int k = 0; k < rows.Length; k++)
            {
                (string path, Func<int, long> send) = rows[(k + round) % rows.Length];
                ReceivePhase phase = receiver.Begin(count);
                var measured = Measurement.Begin(appThread, 0, receiver.ThreadId);
                long drops = send(count);
                measured.EndLoop();
                measured.EndDrain();
                CountingReceiver.WaitQuiet(phase, Quiet, Limit);
                measured.Finish();
                var result = new PathResult
                {
                    Path = path,
                    Round = round,
                    Records = count,
                    Datagrams = count - drops,
                    SenderDrops = drops,
                    LoopSeconds = Stopwatch.GetElapsedTime(measured.Start, measured.LoopEnd).TotalSeconds,
                    DrainSeconds = Stopwatch.GetElapsedTime(measured.Start, measured.Drained).TotalSeconds,
                    ReceivedSeconds = Stopwatch.GetElapsedTime(measured.Start, phase.LastArrival == 0 ? measured.Drained : phase.LastArrival).TotalSeconds,
                    Received = phase.Received,
                    Duplicates = phase.Duplicates,
                    Malformed = phase.Malformed,
                    PayloadBytes = phase.Datagrams == 0 ? 0 : (double)phase.PayloadBytes / phase.Datagrams,
                    Measured = measured,
                };
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round} {path}: {result.RecordsPerSecond:N0} frames/s, {CpuPerFrame(result):F2} us CPU/frame, received {result.Received:N0}/{count:N0}, drops {drops}, dup {result.Duplicates}, bad {result.Malformed}"));
                if (round > 0)
                {
                    results.Add(result);
                }
            }
        }

        output.WriteLine($"transmit rings: (k) {ring.Calls} send(2) calls, {ring.WrongFormat} TP_STATUS_WRONG_FORMAT, {ring.NoBufferRetries} ENOBUFS retries, {ring.SlotWaits} slot waits; "
            + $"(l) {bypassRing.Calls} calls, {bypassRing.WrongFormat} wrong, {bypassRing.NoBufferRetries} retries, {bypassRing.SlotWaits} waits");

        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        Line("## Issue 19's kernel paths, no tap in the namespace");
        Line();
        Line($"Command: `{(string.IsNullOrEmpty(qdiscKind) ? "" : $"NETCONSOLE_BENCH_QDISC='{qdiscKind}' ")}bench/lab.sh kernel-paths {records} {rounds}` (root; inside `unshare -n`); "
            + $"{Environment.ProcessorCount} cores, kernel {Environment.OSVersion.Version}, {RuntimeInformation.FrameworkDescription}; {startedAt:yyyy-MM-dd HH:mm} UTC, "
            + $"run took {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s; load average (1 min) {loadBefore} before, {Report.LoadAverage()} after.");
        Line($"The veth's root qdisc: `{qdisc}`. Packet sockets in the namespace before the rows opened theirs: {(sockets.Length == 0 ? "none" : sockets)}.");
        Line($"{records:N0} frames ({frames[^1].Length} bytes) per row per round, {rounds} rounds after a warm-up, the rows' order rotating every round;");
        Line("records/s until the send loop ended, median round; CPU: the sending thread's (schedstat), per frame, median round.");
        Line();
        Line("| row | frames/s | vs (b) | vs (f) | sending thread CPU per frame | CPU vs (f) | lost at receiver | sender drops |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|");
        PathResult b = Median(results, Paths.PacketSocket);
        PathResult f = Median(results, Paths.PacketSocketBatch);
        foreach ((string path, _) in rows)
        {
            PathResult r = Median(results, path);
            Line(string.Create(CultureInfo.InvariantCulture, $"| {path} | {r.RecordsPerSecond:N0} | {r.RecordsPerSecond / b.RecordsPerSecond:F2} | {r.RecordsPerSecond / f.RecordsPerSecond:F2} | {CpuPerFrame(r):F2} us | {CpuPerFrame(f) / CpuPerFrame(r):F2} | "
                + $"{results.Where(x => x.Path == path).Sum(x => x.LostAtReceiver)} | {results.Where(x => x.Path == path).Sum(x => x.SenderDrops)} |"));
        }

        Line();
        Line($"CPU vs (f): (f)'s CPU per frame over the row's (above 1: cheaper). Transmit rings: {ring.WrongFormat + bypassRing.WrongFormat} frames TP_STATUS_WRONG_FORMAT, "
            + $"{ring.NoBufferRetries + bypassRing.NoBufferRetries} ENOBUFS retries, {ring.SlotWaits + bypassRing.SlotWaits} waits for a slot.");
        string report = text.ToString();
        File.WriteAllText(outputPath, report);
        output.WriteLine();
        output.WriteLine(report);
        output.WriteLine($"(written to {outputPath})");
        return 0;
    }

    private static double CpuPerFrame(PathResult r) => r.Measured.AppCpu.RunNanoseconds / 1000.0 / r.Records;

    private static PathResult Median(List<PathResult> results, string path)
    {
        PathResult[] sorted = [.. results.Where(r => r.Path == path).OrderBy(r => r.RecordsPerSecond)];
        return sorted[(sorted.Length - 1) / 2];
    }

    // The library's frames for records 0..count-1: logged through the provider on the packet-socket
    // transport (a send-only socket) with a tap copying every frame; then all of it closed.
    private static byte[][] Capture(NetworkLab lab, int count)
    {
        var transports = new RecordingTransportFactory(PacketSocketTransportFactory.Open);
        var frames = new List<byte[]>(count);
        transports.Recording = frames;
        string target = $"+{LocalPort}@{lab.DeviceIPv4}/{lab.DeviceName},{RemotePort}@{lab.PeerIPv4}/{EndToEndHarness.FormatMac(lab.PeerMac.GetAddressBytes())}";
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddNetconsole(options =>
        {
            options.Targets.Add(target);
            options.QueueFullMode = NetconsoleQueueFullMode.Wait;
            options.ManagerOptions = () => new TargetManagerOptions { TransportFactory = transports };
        }));
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            ILogger logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Shop.Orders");
            for (int i = 0; i < count; i++)
            {
                Shipped(logger, i, "north-3", null);
            }

            if (!provider.GetRequiredService<NetconsoleLoggerProvider>().Flush(Limit))
            {
                throw new TimeoutException("the capture did not drain");
            }
        }

        return frames.Count == count ? [.. frames] : throw new InvalidOperationException($"the capture produced {frames.Count} frames for {count} records");
    }
}
