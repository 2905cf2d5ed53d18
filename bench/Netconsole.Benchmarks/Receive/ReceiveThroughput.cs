using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Benchmarks.Receive;

/// <summary>
/// Receive throughput against Meta's netconsd on the same datagram stream, in one run (issue 16):
/// <c>bench/lab.sh receive [RECORDS] [ROUNDS]</c>, inside a private network namespace, as root.
/// </summary>
/// <remarks>
/// <para>
/// The stream: one record formatted by this library's <see cref="RecordFormatter"/> (a
/// one-datagram extended record of 120 bytes of text, or a 5 KiB record in six <c>ncfrag</c>
/// fragments), replayed by bench/receive/sendstream.c with only the ten sequence digits changing,
/// from 127.0.0.x to 127.0.0.1 on loopback, with sendmmsg from one core (CPU 0).
/// </para>
/// <para>
/// The receivers, one after the other on the same stream, each on its own core (CPU 1): netconsd
/// (built from a copy of its source, default threads: one listener, two workers) with a module
/// that only counts (bench/receive/nccount.c); NetconsoleReceiver with default options and one
/// reader draining ReadAllAsync in a process of its own (<see cref="ReceiveChild"/>);
/// netconsole-listen writing to a file; netconsd with its example printer module writing to a
/// file. Every receiver's UDP socket gets the same receive buffer (bench/receive/rcvbuf.c).
/// </para>
/// <para>
/// Two ways to load them. Stream: the sender sends as fast as it can while the receiver runs; the
/// rate is the records the receiver handled between the sender's first and last send divided by
/// that time (sampled every millisecond; a warm-up stream first), and the kernel's drops
/// (/proc/net/snmp RcvbufErrors) over the datagrams sent. Backlog: the receiver is stopped
/// (SIGSTOP), the whole stream is queued in its socket buffer, and the rate is how fast it
/// drains it after SIGCONT: its own work, with no sender competing for the machine and no drop.
/// </para>
/// </remarks>
internal static class ReceiveThroughput
{
    private const ulong FirstSequence = 1_000_000_000;
    private const string Destination = "127.0.0.1";
    private const int StreamReceiveBuffer = 4 * 1024 * 1024; // NetconsoleReceiver's default
    private const int BacklogReceiveBuffer = 1024 * 1024 * 1024;
    private const int ReceiverCpu = 1;
    private const int SenderCpu = 0;
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(700); // > netconsd's 200 ms reorder hold

    public static int Run(string[] args, TextWriter output)
    {
        if (Stopwatch.Frequency != 1_000_000_000 || !OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The receive benchmark needs Linux (Stopwatch on CLOCK_MONOTONIC in nanoseconds).");
        }

        var settings = Settings.Parse(args);
        using var tools = Tools.Build(output);
        output.WriteLine($"receive throughput: CPUs {File.ReadAllText("/sys/devices/system/cpu/online").Trim()}; load: {Uptime()}");
        if (tools.BeforeAssembly is not null)
        {
            output.WriteLine($"before: NetconsoleReceiver of {tools.BeforeLabel} ({tools.BeforeAssembly})");
        }
        output.WriteLine($"netconsd: {tools.NetconsdSource} built in {tools.Folder}");
        output.WriteLine();

        if (settings.Parts.Contains("one-core"))
        {
            foreach (StreamKind kind in new[] { StreamKind.OneDatagram, StreamKind.Fragmented })
            {
                OneCore(tools, settings, kind, output);
            }
        }

        if (settings.Parts.Contains("scaling"))
        {
            foreach (StreamKind kind in new[] { StreamKind.OneDatagram, StreamKind.Fragmented })
            {
                Scaling(tools, settings, kind, output);
            }
        }

        output.WriteLine($"load at the end: {Uptime()}");
        return 0;
    }

    private static void OneCore(Tools tools, Settings settings, StreamKind kind, TextWriter output)
    {
        Template template = Template.Build(kind);
        int records = kind == StreamKind.Fragmented ? settings.Records / 6 : settings.Records;
        var receivers = new List<ReceiverSpec>
        {
            ReceiverSpec.Netconsd(tools, listeners: 1),
            ReceiverSpec.Library(tools, sockets: 1),
            ReceiverSpec.LibraryOneAtATime(tools),
        };
        if (tools.BeforeAssembly is not null)
        {
            receivers.Add(ReceiverSpec.LibraryBefore(tools));
        }

        receivers.Add(ReceiverSpec.Listen(tools));
        receivers.Add(ReceiverSpec.NetconsdPrinter(tools));
        string[] sources = ["127.0.0.2"];

        output.WriteLine($"### {template.Description}: {records:N0} records ({records * template.Datagrams.Count:N0} datagrams) per run, one sender, receiver on CPU {ReceiverCpu}, sender on CPU {SenderCpu}");
        output.WriteLine();
        output.WriteLine("Stream (sender as fast as it can, while the receiver runs):");
        output.WriteLine();
        output.WriteLine("| round | receiver | sender's datagrams/s | records/s handled while sending | ratio vs netconsd | records handled | datagrams dropped by the kernel |");
        output.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
        var stream = new Dictionary<string, List<double>>();
        for (int round = 1; round <= settings.Rounds; round++)
        {
            double baseline = 0;
            foreach (ReceiverSpec receiver in receivers)
            {
                Result r = Measure(tools, receiver, template, records, sources, Mode.Stream, ReceiverCpu.ToString(CultureInfo.InvariantCulture));
                baseline = receiver.IsBaseline ? r.Rate : baseline;
                Add(stream, receiver.Name, r.Rate);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {receiver.Name} | {r.Offered:N0} | {r.Rate:N0} | {r.Rate / baseline:F2} | {r.Handled:N0} of {r.Expected:N0}{r.Note} | {r.Dropped:N0} of {r.Sent:N0} ({100.0 * r.Dropped / r.Sent:F1}%) |"));
            }
        }

        output.WriteLine();
        output.WriteLine("Backlog (the stream queued while the receiver is stopped, then drained):");
        output.WriteLine();
        output.WriteLine("| round | receiver | records/s draining | ratio vs netconsd | records handled | datagrams dropped by the kernel | cores busy |");
        output.WriteLine("|---:|---|---:|---:|---:|---:|---|");
        var backlog = new Dictionary<string, List<double>>();
        int backlogRecords = Math.Min(records, kind == StreamKind.Fragmented ? settings.BacklogRecords / 6 : settings.BacklogRecords);
        for (int round = 1; round <= settings.Rounds; round++)
        {
            double baseline = 0;
            foreach (ReceiverSpec receiver in receivers)
            {
                Result r = Measure(tools, receiver, template, backlogRecords, sources, Mode.Backlog, ReceiverCpu.ToString(CultureInfo.InvariantCulture));
                baseline = receiver.IsBaseline ? r.Rate : baseline;
                Add(backlog, receiver.Name, r.Rate);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {receiver.Name} | {r.Rate:N0} | {r.Rate / baseline:F2} | {r.Handled:N0} of {r.Expected:N0}{r.Note} | {r.Dropped:N0} of {r.Sent:N0} | {r.Cpu} |"));
            }
        }

        output.WriteLine();
        output.WriteLine($"Medians ({template.Description}):");
        output.WriteLine();
        output.WriteLine("| receiver | stream records/s | ratio | backlog records/s | ratio |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        double streamBase = Median(stream[receivers[0].Name]);
        double backlogBase = Median(backlog[receivers[0].Name]);
        foreach (ReceiverSpec receiver in receivers)
        {
            double s = Median(stream[receiver.Name]);
            double b = Median(backlog[receiver.Name]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {receiver.Name} | {s:N0} | {s / streamBase:F2} | {b:N0} | {b / backlogBase:F2} |"));
        }

        output.WriteLine();
    }

    private static void Scaling(Tools tools, Settings settings, StreamKind kind, TextWriter output)
    {
        Template template = Template.Build(kind);
        int records = settings.BacklogRecords / template.Datagrams.Count / settings.Senders;
        string[] sources = Enumerable.Range(0, settings.Senders).Select(i => $"127.0.0.{10 + i}").ToArray();
        (ReceiverSpec Receiver, string Cpus)[] runs =
        [
            (ReceiverSpec.Netconsd(tools, listeners: 1), "1"),
            (ReceiverSpec.Netconsd(tools, listeners: 1), "0,1"),
            (ReceiverSpec.Netconsd(tools, listeners: 2), "0,1"),
            (ReceiverSpec.Library(tools, sockets: 1), "1"),
            (ReceiverSpec.Library(tools, sockets: 1), "0,1"),
            (ReceiverSpec.Library(tools, sockets: 2), "0,1"),
        ];

        output.WriteLine($"### More cores: {template.Description}, {settings.Senders} senders x {records:N0} records, backlog");
        output.WriteLine();
        output.WriteLine("The stream queued while the receiver is stopped, then drained on one core (CPU 1) or both (CPUs 0-1); the sender is done before the receiver resumes, so it takes no core.");
        output.WriteLine();
        output.WriteLine("| round | receiver | CPUs | records/s draining | vs the same receiver on one core | records handled | bytes queued per socket | cores busy |");
        output.WriteLine("|---:|---|---|---:|---:|---:|---|---|");
        var rates = new Dictionary<string, List<double>>();
        for (int round = 1; round <= settings.Rounds; round++)
        {
            var oneCore = new Dictionary<string, double>();
            foreach ((ReceiverSpec receiver, string cpus) in runs)
            {
                Result r = Measure(tools, receiver, template, records, sources, Mode.Backlog, cpus);
                string family = receiver.Name.StartsWith("netconsd", StringComparison.Ordinal) ? "netconsd" : "library";
                if (cpus == "1")
                {
                    oneCore[family] = r.Rate;
                }

                string key = $"{receiver.Name} | {cpus.Replace(",", "-", StringComparison.Ordinal)}";
                Add(rates, key, r.Rate / oneCore[family]);
                Add(rates, key + " rate", r.Rate);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {key} | {r.Rate:N0} | {r.Rate / oneCore[family]:F2} | {r.Handled:N0} of {r.Expected:N0}{r.Note} | {r.QueuedPerSocket} | {r.Cpu} |"));
            }
        }

        output.WriteLine();
        output.WriteLine($"Medians (more cores, {template.Description}):");
        output.WriteLine();
        output.WriteLine("| receiver | CPUs | records/s draining | vs one core |");
        output.WriteLine("|---|---|---:|---:|");
        foreach ((ReceiverSpec receiver, string cpus) in runs)
        {
            string key = $"{receiver.Name} | {cpus.Replace(",", "-", StringComparison.Ordinal)}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {key} | {Median(rates[key + " rate"]):N0} | {Median(rates[key]):F2} |"));
        }

        output.WriteLine();
    }

    private static void Add(Dictionary<string, List<double>> rates, string name, double rate)
    {
        if (!rates.TryGetValue(name, out List<double>? list))
        {
            rates[name] = list = [];
        }

        list.Add(rate);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static Result Measure(Tools tools, ReceiverSpec spec, Template template, int records, string[] sources, Mode mode, string cpus)
    {
        int port = 20_000 + Random.Shared.Next(20_000);
        string counters = Path.Combine(tools.Folder, "counters");
        string outputFile = Path.Combine(tools.Folder, "records.out");
        CounterFile.Create(counters);
        File.Delete(outputFile);
        // About 2 million datagrams: the runtime's tiered compilation (with its profile-guided
        // rounds) settles after ~1.5 million here; less measures a receiver still compiling.
        int warmup = 2_000_000 / template.Datagrams.Count / sources.Length;
        int rcvbuf = mode == Mode.Backlog ? BacklogReceiveBuffer : StreamReceiveBuffer;

        using var receiver = ReceiverProcess.Start(tools, spec, port, counters, outputFile, rcvbuf, cpus);
        using CounterFile counterView = CounterFile.Open(counters);
        Func<long> sample = spec.WritesFile ? () => FileLength(outputFile) : () => counterView.Complete;

        receiver.WaitUntilBound(port);
        UdpCounters snmpWarmup = UdpCounters.Read();
        tools.Send(template, port, warmup, FirstSequence, sources);
        WaitQuiet(sample, receiver);
        if (!spec.WritesFile)
        {
            // A receiver that pauses longer than the quiet time (the thread-pool receive loop of
            // before) would otherwise have the warm-up's tail counted as measured.
            long dropped = (UdpCounters.Read().RcvbufErrors - snmpWarmup.RcvbufErrors) / template.Datagrams.Count;
            var waited = Stopwatch.StartNew();
            while (counterView.Complete + counterView.Incomplete + dropped < (long)warmup * sources.Length && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(20);
                receiver.ThrowIfExited();
            }

            WaitQuiet(sample, receiver);
        }
        Thread.Sleep(1000); // the runtime's background compilation of what the warm-up ran
        long before = sample();
        UdpCounters snmpBefore = UdpCounters.Read();
        var samples = new List<(long Time, long Value)>();
        long resumed = 0;
        string queuedPerSocket = "";
        string cpu = "";
        Tools.SendResult sent;
        if (mode == Mode.Stream)
        {
            using var sampler = new Sampler(sample, samples);
            sent = tools.Send(template, port, records, FirstSequence + (ulong)warmup, sources);
            WaitQuiet(sample, receiver);
        }
        else
        {
            receiver.Signal(Signals.Stop);
            sent = tools.Send(template, port, records, FirstSequence + (ulong)warmup, sources);
            queuedPerSocket = QueuedPerSocket(port);
            Dictionary<string, double> cpuBefore = receiver.CpuSeconds();
            using (var sampler = new Sampler(sample, samples))
            {
                resumed = Stopwatch.GetTimestamp();
                receiver.Signal(Signals.Continue);
                WaitQuiet(sample, receiver);
            }

            cpu = CpuUse(cpuBefore, receiver.CpuSeconds(), Seconds(DoneAt(samples, sample()) - resumed));
        }

        UdpCounters snmpAfter = UdpCounters.Read();
        long quiet = sample();
        receiver.Stop();
        long after = spec.WritesFile ? FileLength(outputFile) : quiet;

        long handled;
        double rate;
        long incomplete = spec.WritesFile ? 0 : counterView.Incomplete;
        if (spec.WritesFile)
        {
            var lines = new LineIndex(outputFile);
            long extra = spec.ExitLines;
            handled = lines.LinesBefore(after) - extra - lines.LinesBefore(before);
            rate = mode == Mode.Stream
                ? (lines.LinesBefore(Interpolate(samples, sent.EndNs)) - lines.LinesBefore(Interpolate(samples, sent.StartNs))) / Seconds(sent.EndNs - sent.StartNs)
                : (lines.LinesBefore(Math.Min(quiet, after)) - lines.LinesBefore(before)) / Seconds(DoneAt(samples, quiet) - resumed);
        }
        else
        {
            handled = after - before;
            rate = mode == Mode.Stream
                ? (Interpolate(samples, sent.EndNs) - Interpolate(samples, sent.StartNs)) / Seconds(sent.EndNs - sent.StartNs)
                : handled / Seconds(DoneAt(samples, after) - resumed);
        }

        string note = incomplete > 0 ? string.Create(CultureInfo.InvariantCulture, $" (+{incomplete:N0} incomplete)") : "";
        double offered = sent.Datagrams / Seconds(sent.EndNs - sent.StartNs);
        return new Result(rate, handled, (long)records * sources.Length, sent.Datagrams, snmpAfter.RcvbufErrors - snmpBefore.RcvbufErrors, note, queuedPerSocket, offered, cpu);
    }

    private static double Seconds(long nanoseconds) => nanoseconds / 1e9;

    // The value at a time, linearly between the samples around it.
    private static long Interpolate(List<(long Time, long Value)> samples, long time)
    {
        for (int i = 1; i < samples.Count; i++)
        {
            if (samples[i].Time >= time)
            {
                (long t0, long v0) = samples[i - 1];
                (long t1, long v1) = samples[i];
                return t1 == t0 ? v1 : v0 + (long)((v1 - v0) * (double)(time - t0) / (t1 - t0));
            }
        }

        return samples[^1].Value;
    }

    // When the value first reached its final one.
    private static long DoneAt(List<(long Time, long Value)> samples, long final)
    {
        foreach ((long time, long value) in samples)
        {
            if (value >= final)
            {
                return time;
            }
        }

        return samples[^1].Time;
    }

    private static void WaitQuiet(Func<long> sample, ReceiverProcess receiver)
    {
        long last = sample();
        long changed = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(changed) < Quiet)
        {
            Thread.Sleep(5);
            receiver.ThrowIfExited();
            long now = sample();
            if (now != last)
            {
                last = now;
                changed = Stopwatch.GetTimestamp();
            }
        }
    }

    private static long FileLength(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    // The bytes waiting in each socket bound to the port (/proc/net/udp6 and udp, rx_queue).
    private static string QueuedPerSocket(int port)
    {
        string hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        var queues = new List<string>();
        foreach (string file in new[] { "/proc/net/udp6", "/proc/net/udp" })
        {
            foreach (string line in File.ReadLines(file).Skip(1))
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 4 && fields[1].EndsWith(hexPort, StringComparison.Ordinal))
                {
                    long bytes = long.Parse(fields[4].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    queues.Add(string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F0} MiB"));
                }
            }
        }

        return string.Join(" / ", queues);
    }

    private static string Uptime()
    {
        string[] load = File.ReadAllText("/proc/loadavg").Split(' ');
        return $"load average {load[0]}, {load[1]}, {load[2]} (1, 5, 15 min)";
    }

    private enum Mode
    {
        Stream,
        Backlog,
    }

    internal enum StreamKind
    {
        OneDatagram,
        Fragmented,
    }

    private sealed record Result(double Rate, long Handled, long Expected, long Sent, long Dropped, string Note, string QueuedPerSocket, double Offered, string Cpu);

    // Cores the receiver kept busy while draining (its threads' user + system time over the
    // drain), and how much of it NetconsoleReceiver's receive threads took.
    private static string CpuUse(Dictionary<string, double> before, Dictionary<string, double> after, double seconds)
    {
        double Used(Func<string, bool> which) => after.Where(e => which(e.Key)).Sum(e => e.Value - before.GetValueOrDefault(e.Key)) / seconds;
        double total = Used(_ => true);
        double receive = Used(thread => thread.StartsWith("Netconsole rece", StringComparison.Ordinal));
        return receive > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{total:F2} (receive threads {receive:F2})")
            : string.Create(CultureInfo.InvariantCulture, $"{total:F2}");
    }

    private sealed record Settings(int Records, int BacklogRecords, int Rounds, int Senders, HashSet<string> Parts)
    {
        // receive [RECORDS] [ROUNDS] [one-core|scaling]
        public static Settings Parse(string[] args)
        {
            int records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
            int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
            HashSet<string> parts = args.Length > 2 ? [args[2]] : ["one-core", "scaling"];
            return new Settings(records, Math.Min(records, 600_000), rounds, 8, parts);
        }
    }

    /// <summary>One record as the sender sends it, with where its sequence digits are.</summary>
    internal sealed record Template(string Description, IReadOnlyList<(byte[] Payload, int SequenceOffset)> Datagrams)
    {
        public static Template Build(StreamKind kind)
        {
            var options = new NetconsoleTargetOptions
            {
                LocalAddress = IPAddress.Parse("192.0.2.1"),
                RemoteAddress = IPAddress.Parse("192.0.2.2"),
                Extended = true,
            };
            options.Userdata["host"] = "web-1";
            var formatter = new RecordFormatter(options.ToRecordFormat());
            int textBytes = kind == StreamKind.Fragmented ? 5 * 1024 : 120;
            byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("order 4711 shipped to warehouse 3; ", (textBytes / 35) + 1))[..textBytes]);
            var record = new NetconsoleRecord(6, text)
            {
                Sequence = FirstSequence,
                TimestampMicroseconds = 123_456_789,
                Dictionary = [new("CATEGORY", "Shop.Orders")],
            };
            var datagrams = new List<(byte[], int)>();
            byte[] digits = Encoding.ASCII.GetBytes("," + FirstSequence.ToString(CultureInfo.InvariantCulture) + ",");
            foreach (ReadOnlySpan<byte> datagram in formatter.Format(record))
            {
                int at = datagram.IndexOf(digits);
                if (at < 0)
                {
                    throw new InvalidOperationException("The formatted datagram has no sequence field where expected.");
                }

                datagrams.Add((datagram.ToArray(), at + 1));
            }

            int size = datagrams.Sum(d => d.Item1.Length);
            string description = kind == StreamKind.Fragmented
                ? $"5 KiB extended records in {datagrams.Count} ncfrag fragments ({size} bytes)"
                : $"one-datagram extended records ({size} bytes: 120 bytes of text, a dictionary line, a userdata line)";
            return new Template(description, datagrams);
        }

        public void Write(string path)
        {
            using var file = new BinaryWriter(File.Create(path));
            file.Write((uint)Datagrams.Count);
            foreach ((byte[] payload, int offset) in Datagrams)
            {
                file.Write((uint)payload.Length);
                file.Write((uint)offset);
                file.Write(payload);
            }
        }
    }

    /// <summary>What runs as a receiver under test, and where it puts its count.</summary>
    private sealed record ReceiverSpec(string Name, string[] Command, bool WritesFile, int ExitLines, bool IsBaseline, int Parallelism)
    {
        public static ReceiverSpec Netconsd(Tools tools, int listeners) => new(
            listeners == 1 ? "netconsd (counting module)" : $"netconsd -l {listeners} (counting module)",
            [tools.Daemon, "-l", listeners.ToString(CultureInfo.InvariantCulture), "-u", "{port}", tools.CountModule],
            WritesFile: false,
            ExitLines: 0,
            IsBaseline: listeners == 1,
            Parallelism: listeners);

        public static ReceiverSpec NetconsdPrinter(Tools tools) => new(
            "netconsd (printer module) > file",
            [tools.Daemon, "-u", "{port}", tools.PrinterModule],
            WritesFile: true,
            ExitLines: 1, // "From exit hook"
            IsBaseline: false,
            Parallelism: 1);

        public static ReceiverSpec Library(Tools tools, int sockets) => new(
            sockets == 1 ? "NetconsoleReceiver (reader in process)" : $"NetconsoleReceiver, ReceiveSockets = {sockets}",
            ["dotnet", tools.BenchmarkAssembly, "receive-child", "{port}", sockets.ToString(CultureInfo.InvariantCulture), "{counters}"],
            WritesFile: false,
            ExitLines: 0,
            IsBaseline: false,
            Parallelism: sockets);

        public static ReceiverSpec LibraryOneAtATime(Tools tools) => new(
            "NetconsoleReceiver, one datagram per system call",
            ["dotnet", tools.BenchmarkAssembly, "receive-child", "{port}", "1", "{counters}", "one-at-a-time"],
            WritesFile: false,
            ExitLines: 0,
            IsBaseline: false,
            Parallelism: 1);

        public static ReceiverSpec LibraryBefore(Tools tools) => new(
            $"NetconsoleReceiver before ({tools.BeforeLabel})",
            ["dotnet", tools.BeforeAssembly!, "receive-child", "{port}", "1", "{counters}"],
            WritesFile: false,
            ExitLines: 0,
            IsBaseline: false,
            Parallelism: 1);

        public static ReceiverSpec Listen(Tools tools) => new(
            "netconsole-listen > file",
            ["dotnet", tools.ListenAssembly, "--port", "{port}"],
            WritesFile: true,
            ExitLines: 0,
            IsBaseline: false,
            Parallelism: 1);
    }

    /// <summary>A receiver under test running: <c>taskset -c CPUS</c>, output to a file, stopped with SIGTERM.</summary>
    private sealed class ReceiverProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _name;
        private readonly string _errors;

        private ReceiverProcess(Process process, string name, string errors)
        {
            _process = process;
            _name = name;
            _errors = errors;
        }

        public static ReceiverProcess Start(Tools tools, ReceiverSpec spec, int port, string counters, string outputFile, int receiveBuffer, string cpus)
        {
            string errors = Path.Combine(tools.Folder, "receiver.err");
            var start = new ProcessStartInfo("taskset") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(cpus);
            start.ArgumentList.Add("sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$@\" >\"$OUT\" 2>\"$ERR\"");
            start.ArgumentList.Add("sh");
            foreach (string part in spec.Command)
            {
                start.ArgumentList.Add(part.Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{counters}", counters, StringComparison.Ordinal));
            }

            start.Environment["OUT"] = spec.WritesFile ? outputFile : "/dev/null";
            start.Environment["ERR"] = errors;
            start.Environment["NCCOUNT_FILE"] = counters;
            start.Environment["LD_PRELOAD"] = tools.ReceiveBufferShim;
            start.Environment["RCVBUF_BYTES"] = receiveBuffer.ToString(CultureInfo.InvariantCulture);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + spec.Name);
            return new ReceiverProcess(process, spec.Name, errors);
        }

        public void WaitUntilBound(int port)
        {
            string hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                ThrowIfExited();
                bool bound = new[] { "/proc/net/udp6", "/proc/net/udp" }.Any(file =>
                    File.ReadLines(file).Skip(1).Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].EndsWith(hexPort, StringComparison.Ordinal)));
                if (bound)
                {
                    Thread.Sleep(200); // modules loaded, reader started
                    return;
                }

                Thread.Sleep(20);
            }

            throw new TimeoutException($"{_name} did not bind port {port} within 30 s: {File.ReadAllText(_errors)}");
        }

        public void ThrowIfExited()
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with {_process.ExitCode}: {File.ReadAllText(_errors)}");
            }
        }

        public void Signal(int signal) => _ = Signals.Kill(_process.Id, signal);

        /// <summary>User + system seconds of each of the process's threads so far, by thread name (/proc/PID/task/TID/stat).</summary>
        public Dictionary<string, double> CpuSeconds()
        {
            var seconds = new Dictionary<string, double>();
            foreach (string task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
            {
                try
                {
                    string stat = File.ReadAllText(Path.Combine(task, "stat"));
                    int open = stat.IndexOf('(', StringComparison.Ordinal);
                    int close = stat.LastIndexOf(')');
                    string name = stat[(open + 1)..close] + " " + Path.GetFileName(task);
                    string[] fields = stat[(close + 2)..].Split(' ');
                    // After the name: state is field 3, utime 14 and stime 15 (in clock ticks of 1/100 s).
                    seconds[name] = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
                }
                catch (IOException)
                {
                    // The thread ended meanwhile.
                }
            }

            return seconds;
        }

        public void Stop()
        {
            Signal(Signals.Continue);
            Signal(Signals.Terminate);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }

    /// <summary>Samples a value every millisecond on a thread of its own, with the time.</summary>
    private sealed class Sampler : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public Sampler(Func<long> sample, List<(long Time, long Value)> samples)
        {
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    samples.Add((Stopwatch.GetTimestamp(), sample()));
                    Thread.Sleep(1);
                }

                samples.Add((Stopwatch.GetTimestamp(), sample()));
            })
            { IsBackground = true, Name = "sampler" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }

    /// <summary>Counts the lines of a file before any byte offset.</summary>
    private sealed class LineIndex
    {
        private readonly List<long> _ends = [];

        public LineIndex(string path)
        {
            using FileStream file = File.OpenRead(path);
            byte[] buffer = new byte[1 << 20];
            long offset = 0;
            int read;
            while ((read = file.Read(buffer)) > 0)
            {
                for (int i = buffer.AsSpan(0, read).IndexOf((byte)'\n'); i >= 0;)
                {
                    _ends.Add(offset + i);
                    int next = buffer.AsSpan(i + 1, read - i - 1).IndexOf((byte)'\n');
                    i = next < 0 ? -1 : i + 1 + next;
                }

                offset += read;
            }
        }

        public long LinesBefore(long offset)
        {
            int index = _ends.BinarySearch(offset);
            return index >= 0 ? index : ~index;
        }
    }

    /// <summary>The namespace's UDP counters (/proc/net/snmp and snmp6).</summary>
    private readonly record struct UdpCounters(long RcvbufErrors)
    {
        public static UdpCounters Read()
        {
            string[] lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToArray();
            string[] names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long v4 = long.Parse(values[Array.IndexOf(names, "RcvbufErrors")], CultureInfo.InvariantCulture);
            long v6 = File.ReadLines("/proc/net/snmp6")
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length == 2 && f[0] == "Udp6RcvbufErrors")
                .Select(f => long.Parse(f[1], CultureInfo.InvariantCulture))
                .FirstOrDefault();
            return new UdpCounters(v4 + v6);
        }
    }

    private static class Signals
    {
        public const int Terminate = 15;
        public const int Stop = 19;
        public const int Continue = 18;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
