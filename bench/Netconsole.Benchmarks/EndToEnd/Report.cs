using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>The harness's markdown report, ready for bench/RESULTS.md.</summary>
internal sealed class Report(
    int records,
    int rounds,
    DateTimeOffset startedAt,
    TimeSpan duration,
    IReadOnlyList<PathResult> results,
    OverloadResult netconsoleOverload,
    OverloadResult nlogOverload,
    PathResult capture,
    string loadBefore,
    double renderBytes,
    string qdisc)
{
    private readonly StringBuilder _text = new();

    public string ToMarkdown()
    {
        Dictionary<string, PathResult> median = Paths.Order.ToDictionary(path => path, Median);
        PathResult e2e = median[Paths.EndToEnd];
        PathResult a = median[Paths.Injection];
        PathResult b = median[Paths.PacketSocket];
        PathResult c = median[Paths.Udp];

        Line("## End-to-end harness (issue 7)");
        Line();
        Line($"Command: `bench/lab.sh e2e {records} {rounds}` (root; inside `unshare -n`; one process, one lab veth, one");
        Line("receiver: a plain UDP socket thread in the peer namespace that checks the id and text of every record).");
        Line($"Machine: {CpuModel()}, {Environment.ProcessorCount} cores, {OsName()} (kernel {Environment.OSVersion.Version}), {RuntimeInformation.FrameworkDescription}, "
            + $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC; {startedAt:yyyy-MM-dd HH:mm} UTC, run took {duration.TotalSeconds:F0} s; "
            + $"load average (1 min) {loadBefore} before, {LoadAverage()} after.");
        Line();
        Line($"Each round sends the same {records:N0} records through every path, in this order: E2E, E2E signed, E2E watched, (a), (b), (c), (d), (e), (f),");
        Line("(j), (k), (l), E2E packet socket, (h), (i);");
        Line($"the veth's root qdisc: `{qdisc}` (NETCONSOLE_BENCH_QDISC sets another).");
        Line($"{rounds} rounds after a warm-up round. The message: `LoggerMessage.Define<int, string>` of");
        Line("`order {OrderId} shipped to warehouse {Warehouse}; customer notified by mail` (63-68 bytes of text), one application");
        Line("thread logging as fast as it can. Netconsole: extended target (`+6665@192.0.2.1/veth,6666@192.0.2.2/peer-mac`), Wait");
        Line("queue-full mode, default queue (10 000). (a)/(b)/(c) replay exactly the frames / UDP payloads the library produced for");
        Line($"those records (captured from a first logged run through a tap on the library's transport; {capture.PayloadBytes:F0}-byte payloads).");
        Line("(d) NLog 5.5.1 via NLog.Extensions.Logging 5.5.0 (default options), AsyncTargetWrapper (Block, queue 10 000, batch 200)");
        Line("around NLog's own NetworkTarget (udp4://, default layout, OnQueueOverflow=Block: its default, Discard, lost ~70% silently).");
        Line("NLog 5.5.1 because NLog 6 moved NetworkTarget into the");
        Line("NLog.Targets.Network package, which the package source here does not serve.");
        Line("(e) is a stage, not a baseline: TargetManager.Send of the same records (format + frame + inject) on the same target,");
        Line("without the logger and its queue.");
        Line();
        Line("records/s: records / time from the first record until the sender side drained (a send loop's end; the provider's or");
        Line("NLog's Flush returning). Ratios are of those rates (median round of each path). Bytes/record: the application thread's");
        Line("allocations (GC.GetAllocatedBytesForCurrentThread) during its loop, and the rest of the process (GC.GetTotalAllocatedBytes");
        Line("minus the application thread) until drained: for E2E that is the netconsole-logger sender thread plus the runtime.");
        Line($"{Environment.ProcessorCount} cores only: the receiver thread and the kernel's delivery to it compete for CPU with the senders,");
        Line("the same for every path; the logger paths have one more busy thread (their sender) than the send loops.");
        Line();
        Line("| path | records/s | datagrams/s | vs (a) | vs (b) | vs (c) | lost at receiver | sender-side drops | B/record app thread | B/record other threads | payload B |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string path in Paths.Order)
        {
            PathResult r = median[path];
            Line($"| {path} | {r.RecordsPerSecond:N0} | {r.DatagramsPerSecond:N0} | {r.RecordsPerSecond / a.RecordsPerSecond:F2} | {r.RecordsPerSecond / b.RecordsPerSecond:F2} | {r.RecordsPerSecond / c.RecordsPerSecond:F2} | "
                + $"{Sum(path, x => x.LostAtReceiver)} | {Sum(path, x => x.SenderDrops)} | {r.ThreadBytesPerRecord:F1} | {r.BackgroundBytesPerRecord:F1} | {r.PayloadBytes:F0} |");
        }

        Line();
        Line($"Lost and drops are summed over the {rounds} rounds ({records * rounds:N0} records per path); the other columns are the median round.");
        Line();
        double injectionRatio = a.RecordsPerSecond / b.RecordsPerSecond;
        Line($"- **(a)/(b) = {injectionRatio:F2}**: libpcap injection runs at {injectionRatio:P0} of the raw AF_PACKET send() loop; "
            + "one system call per frame either way; the Linux default is the packet-socket transport, which also sends a run of frames in one (issue 19, below).");
        Line($"  By CPU time of the sending thread (less sensitive to other load): (a) {Us(a.Measured.AppCpu.RunNanoseconds, a)} us, "
            + $"(b) {Us(b.Measured.AppCpu.RunNanoseconds, b)} us per frame, so by CPU (a)/(b) = {CpuRatio(b, a):F2}.");
        double endToEnd = e2e.RecordsPerSecond / a.RecordsPerSecond;
        Line($"- **E2E/(a) = {endToEnd:F2}** (goal: at least 0.90): " + (endToEnd >= 0.9 ? "met." : "not met; see the CPU table."));
        Line($"  CPU per record, whole process: E2E {Us(e2e.Measured.ProcessCpu.RunNanoseconds, e2e)} us (logging thread {Us(e2e.Measured.AppCpu.RunNanoseconds, e2e)}, "
            + $"sender thread {Us(e2e.Measured.LibraryCpu.RunNanoseconds, e2e)}), (a) {Us(a.Measured.ProcessCpu.RunNanoseconds, a)} us, "
            + $"(e) {Us(median[Paths.Stage].Measured.ProcessCpu.RunNanoseconds, median[Paths.Stage])} us.");
        Line($"- E2E allocations: {e2e.ThreadBytesPerRecord:F1} B/record on the logging thread, {e2e.BackgroundBytesPerRecord:F1} B/record on all other threads "
            + $"(the sender thread's goal is 0), {e2e.ProcessBytesPerRecord:F1} B/record process-wide; NLog: {median[Paths.NLog].ThreadBytesPerRecord:F1} / "
            + $"{median[Paths.NLog].BackgroundBytesPerRecord:F1} / {median[Paths.NLog].ProcessBytesPerRecord:F1}. "
            + $"Of the logging thread's bytes, {renderBytes:F1} B/record are Microsoft.Extensions.Logging rendering the message "
            + "(measured through a logger that only calls the formatter).");
        Line($"- Loss at the receiver below the injection ceiling (E2E, all rounds): {Sum(Paths.EndToEnd, x => x.LostAtReceiver)} records.");
        PathResult f = median[Paths.PacketSocketBatch];
        Line($"- **(f)/(b) = {f.RecordsPerSecond / b.RecordsPerSecond:F2}**: sendmmsg(2) of 64 pre-built frames per call against send(2) one at a time, "
            + $"the ceiling batched injection can reach (issue 19); E2E/(f) = {e2e.RecordsPerSecond / f.RecordsPerSecond:F2}. "
            + $"CPU per frame of the sending thread: (f) {Us(f.Measured.AppCpu.RunNanoseconds, f)} us, (b) {Us(b.Measured.AppCpu.RunNanoseconds, b)} us.");
        PathResult e2ePacket = median[Paths.EndToEndPacketSocket];
        PathResult h = median[Paths.PacketSocketTransport];
        PathResult i = median[Paths.PacketSocketTransportBatch];
        Line($"- Issue 19, the packet-socket transport: **E2E packet socket / E2E = {e2ePacket.RecordsPerSecond / e2e.RecordsPerSecond:F2}**, "
            + $"E2E packet socket / (b) = {e2ePacket.RecordsPerSecond / b.RecordsPerSecond:F2}; (h)/(a) = {h.RecordsPerSecond / a.RecordsPerSecond:F2} "
            + $"(the transport's Send against libpcap's), (h)/(b) = {h.RecordsPerSecond / b.RecordsPerSecond:F2}; **(i)/(h) = {i.RecordsPerSecond / h.RecordsPerSecond:F2}** "
            + $"(SendBatch of 64 against Send, same transport), (i)/(f) = {i.RecordsPerSecond / f.RecordsPerSecond:F2}. CPU per frame of the sending thread: "
            + $"(h) {Us(h.Measured.AppCpu.RunNanoseconds, h)} us, (i) {Us(i.Measured.AppCpu.RunNanoseconds, i)} us; E2E packet socket sender thread "
            + $"{Us(e2ePacket.Measured.LibraryCpu.RunNanoseconds, e2ePacket)} us per record against {Us(e2e.Measured.LibraryCpu.RunNanoseconds, e2e)} us through libpcap.");
        double batchedVsSend = e2ePacket.RecordsPerSecond / b.RecordsPerSecond;
        double batchedVsCeiling = e2ePacket.RecordsPerSecond / f.RecordsPerSecond;
        Line($"- Issue 19's goals, through the Linux default (E2E packet socket, the sender taking runs of up to 64): **vs (b) = {batchedVsSend:F2}** "
            + $"(goal: at least 1.0: {(batchedVsSend >= 1.0 ? "met" : "not met")}); **vs (f) = {batchedVsCeiling:F2}** "
            + $"(stretch: at least 0.8 of the sendmmsg ceiling: {(batchedVsCeiling >= 0.8 ? "met" : "not met")}).");
        PathResult j = median[Paths.PacketSocketBatchBypass];
        PathResult k = median[Paths.TransmitRing];
        PathResult l = median[Paths.TransmitRingBypass];
        Line($"- Issue 19, the kernel paths: **(j)/(f) = {j.RecordsPerSecond / f.RecordsPerSecond:F2}** (sendmmsg with PACKET_QDISC_BYPASS against without), "
            + $"**(k)/(f) = {k.RecordsPerSecond / f.RecordsPerSecond:F2}** (PACKET_TX_RING against sendmmsg), **(l)/(f) = {l.RecordsPerSecond / f.RecordsPerSecond:F2}** "
            + $"(TX_RING with bypass); against (b): (f) {f.RecordsPerSecond / b.RecordsPerSecond:F2}, (j) {j.RecordsPerSecond / b.RecordsPerSecond:F2}, "
            + $"(k) {k.RecordsPerSecond / b.RecordsPerSecond:F2}, (l) {l.RecordsPerSecond / b.RecordsPerSecond:F2}. CPU per frame of the sending thread: "
            + $"(f) {Us(f.Measured.AppCpu.RunNanoseconds, f)} us, (j) {Us(j.Measured.AppCpu.RunNanoseconds, j)} us, (k) {Us(k.Measured.AppCpu.RunNanoseconds, k)} us, "
            + $"(l) {Us(l.Measured.AppCpu.RunNanoseconds, l)} us; by CPU (j)/(f) = {CpuRatio(f, j):F2}, (k)/(f) = {CpuRatio(f, k):F2}, (l)/(f) = {CpuRatio(f, l):F2} "
            + $"(above 1: faster). TP_STATUS_WRONG_FORMAT (all rounds): (k) {Sum(Paths.TransmitRing, x => x.WrongFormat)}, (l) {Sum(Paths.TransmitRingBypass, x => x.WrongFormat)}.");
        PathResult signed = median[Paths.EndToEndSigned];
        Line($"- **E2E signed / E2E = {signed.RecordsPerSecond / e2e.RecordsPerSecond:F2}** (issue 17's goal: at least 0.85); per record, sender thread CPU "
            + $"{Us(signed.Measured.LibraryCpu.RunNanoseconds, signed)} us signed against {Us(e2e.Measured.LibraryCpu.RunNanoseconds, e2e)} us; "
            + $"{signed.BackgroundBytesPerRecord:F1} B/record on the other threads; {signed.PayloadBytes:F0} bytes of payload against {e2e.PayloadBytes:F0}; "
            + $"lost at the receiver (all rounds): {Sum(Paths.EndToEndSigned, x => x.LostAtReceiver)}.");
        PathResult watched = median[Paths.EndToEndWatched];
        Line($"- **E2E watched / E2E = {watched.RecordsPerSecond / e2e.RecordsPerSecond:F2}** (issue 21's goal: at least 0.90); per record, sender thread CPU "
            + $"{Us(watched.Measured.LibraryCpu.RunNanoseconds, watched)} us watched against {Us(e2e.Measured.LibraryCpu.RunNanoseconds, e2e)} us, "
            + $"application thread {Us(watched.Measured.AppCpu.RunNanoseconds, watched)} us against {Us(e2e.Measured.AppCpu.RunNanoseconds, e2e)} us; "
            + $"lost at the receiver (all rounds): {Sum(Paths.EndToEndWatched, x => x.LostAtReceiver)}.");
        Line();

        Line("Every round (records/s until drained; \"until received\" is until the receiver saw the last datagram):");
        Line();
        Line("| round | path | records/s | until received | vs (a), same round | loop s | received | lost | sender drops | duplicates | malformed |");
        Line("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (PathResult r in results)
        {
            PathResult roundA = results.First(x => x.Round == r.Round && x.Path == Paths.Injection);
            Line($"| {r.Round} | {r.Path} | {r.RecordsPerSecond:N0} | {r.ReceivedPerSecond:N0} | {r.RecordsPerSecond / roundA.RecordsPerSecond:F2} | {r.LoopSeconds:F3} | "
                + $"{r.Received:N0} | {r.LostAtReceiver} | {r.SenderDrops} | {r.Duplicates} | {r.Malformed} |");
        }

        Line();
        Line("Where the time goes (median round, microseconds per record; CPU and run-queue wait from /proc/self/task/*/schedstat;");
        Line("\"app\" is the logging or sending thread, \"sender\" the provider's netconsole-logger thread, \"other\" every other thread:");
        Line("NLog's writer, the runtime; kernel work of a send, including the veth delivery to the peer socket, counts to the sending thread;");
        Line("\"blocks\" are voluntary context switches per record: the thread went to sleep, on a futex, a full socket buffer or,");
        Line("for the receiver, an empty one: then every datagram wakes it, and the wake-up is paid by the sending thread's send):");
        Line();
        Line("| path | wall | app CPU | app waiting for a core | app blocks | sender CPU | sender waiting | sender blocks | receiver CPU | receiver blocks | other CPU | process CPU |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string path in Paths.Order)
        {
            PathResult r = median[path];
            Measurement m = r.Measured;
            long other = m.ProcessCpu.RunNanoseconds - m.AppCpu.RunNanoseconds - m.LibraryCpu.RunNanoseconds - m.ReceiverCpu.RunNanoseconds;
            bool hasSender = Paths.HasSender(path);
            Line($"| {path} | {r.DrainSeconds * 1e6 / r.Records:F2} | {Us(m.AppCpu.RunNanoseconds, r)} | {Us(m.AppCpu.WaitNanoseconds, r)} | {PerRecord(m.AppCpu.VoluntarySwitches, r)} | "
                + $"{(hasSender ? Us(m.LibraryCpu.RunNanoseconds, r) : "-")} | {(hasSender ? Us(m.LibraryCpu.WaitNanoseconds, r) : "-")} | {(hasSender ? PerRecord(m.LibraryCpu.VoluntarySwitches, r) : "-")} | "
                + $"{Us(m.ReceiverCpu.RunNanoseconds, r)} | {PerRecord(m.ReceiverCpu.VoluntarySwitches, r)} | {Us(other, r)} | {Us(m.ProcessCpu.RunNanoseconds, r)} |");
        }

        Line();
        Line($"Overload ({records:N0} records logged as fast as possible into a fresh provider in DropWrite mode, and into NLog with");
        Line("the async wrapper discarding on overflow; \"accepted\" = queued; for netconsole \"sent by sender\" counts the target's records,");
        Line("drop notices included, and the notices' announced counts are compared with the provider's):");
        Line();
        Line("| path | logged | loop s | accepted | dropped at queue (counted) | accepted + dropped = logged | sent by sender | dropped by sender | received | drop notices (announcing) | lost at receiver | duplicates / malformed |");
        Line("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (OverloadResult o in new[] { netconsoleOverload, nlogOverload })
        {
            bool balanced = o.Accepted + o.DroppedAtQueue == o.Logged;
            Line($"| {o.Path} | {o.Logged:N0} | {o.LoopSeconds:F3} | {o.Accepted:N0} | {o.DroppedAtQueue:N0} | {(balanced ? "yes" : "**no**")} | {o.SentBySender:N0} | {o.DroppedBySender:N0} | "
                + $"{o.Received:N0} | {o.Notices:N0} ({o.AnnouncedDrops:N0}) | {o.LostAtReceiver} | {o.Duplicates} / {o.Malformed} |");
        }

        return _text.ToString();
    }

    private static double CpuRatio(PathResult x, PathResult y) =>
        ((double)x.Measured.AppCpu.RunNanoseconds / x.Records) / ((double)y.Measured.AppCpu.RunNanoseconds / y.Records);

    private static string PerRecord(long count, PathResult r) => ((double)count / r.Records).ToString("F2", CultureInfo.InvariantCulture);

    private static string Us(long nanoseconds, PathResult r) => (nanoseconds / 1000.0 / r.Records).ToString("F2", CultureInfo.InvariantCulture);

    private PathResult Median(string path)
    {
        PathResult[] sorted = [.. results.Where(r => r.Path == path).OrderBy(r => r.RecordsPerSecond)];
        return sorted[(sorted.Length - 1) / 2];
    }

    private long Sum(string path, Func<PathResult, long> value) => results.Where(r => r.Path == path).Sum(value);

    private void Line(string text = "") => _text.Append(text.AsSpan()).Append('\n');

    /// <summary>The 1-minute load average (other processes competing for the cores).</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string OsName()
    {
        try
        {
            string? line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.OSDescription : line["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException)
        {
            return RuntimeInformation.OSDescription;
        }
    }
}
