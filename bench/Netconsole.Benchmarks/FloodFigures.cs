using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using Netconsole.Receiving;
using Netconsole.Tests.Support;

namespace Netconsole.Benchmarks;

/// <summary>
/// The receiver under hostile traffic (issue 16), as figures: (1) the CPU to handle one
/// 65,500-byte datagram of short dictionary lines against one of plain text, in one run; (2) the
/// lab floods of tests/Netconsole.Tests/Integration/FloodLabTests.cs (spoofed senders on a veth,
/// a legitimate TargetManager among them, made by the same HostileFlood), longer, with each
/// receiver's peak memory and the legitimate sender's share. Informational: no test asserts on
/// the times.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class FloodFigures
{
    private const string Usage =
        "usage: flood [cpu [DATAGRAMS]] | [lab [SCALE]] | run KIND SENDERS DATAGRAMS RATE SPOOFED_PER_LEGITIMATE RECEIVER";

    public static int Run(string[] args, TextWriter output)
    {
        string what = args.Length > 0 ? args[0] : "all";
        switch (what)
        {
            case "all":
                Cpu(2_000, output);
                output.WriteLine();
                return Lab(2, output);
            case "cpu":
                Cpu(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000, output);
                return 0;
            case "lab":
                return Lab(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2, output);
            case "run" when args.Length == 7:
                var plan = new FloodPlan(
                    Enum.Parse<FloodKind>(args[1]),
                    int.Parse(args[2], CultureInfo.InvariantCulture),
                    int.Parse(args[3], CultureInfo.InvariantCulture),
                    double.Parse(args[4], CultureInfo.InvariantCulture),
                    int.Parse(args[5], CultureInfo.InvariantCulture));
                output.WriteLine(Flood(plan, Enum.Parse<FloodReceiver>(args[6])));
                return 0;
            default:
                output.WriteLine(Usage);
                return 2;
        }
    }

    /// <summary>
    /// Microseconds of <see cref="RecordReassembler.Add"/> (parse, decode, deliver) per datagram,
    /// the three kinds interleaved so they share the machine's state: short lines with the default
    /// cap of 256 dictionary entries, short lines with every line decoded (no cap: the work before
    /// issue 16), and plain text, the baseline.
    /// </summary>
    private static void Cpu(int datagrams, TextWriter output)
    {
        Handler[] handlers =
        [
            new("65,500 bytes of short lines (`\\n a=b`), default cap (256 entries)", Payload(FloodKind.ShortLines), new RecordReassemblerOptions()),
            new("65,500 bytes: 256 short lines, then one long line (left out)", FirstLinesThenOneLine, new RecordReassemblerOptions()),
            new("65,500 bytes of empty lines (`\\n\\n\\n...`)", EmptyLines, new RecordReassemblerOptions()),
            new("65,500 bytes of short lines, every line decoded (MaxDictionaryEntries = int.MaxValue)", Payload(FloodKind.ShortLines), new RecordReassemblerOptions { MaxDictionaryEntries = int.MaxValue }),
            new("first fragment (1000 of 8191 bytes) of a record never completed, 256 senders in turn", Payload(FloodKind.IncompleteFragments), new RecordReassemblerOptions(), senders: 256),
            new("65,500 bytes of plain text (baseline)", Payload(FloodKind.PlainText), new RecordReassemblerOptions()),
        ];
        for (int i = 0; i < 200; i++)
        {
            Array.ForEach(handlers, h => h.Handle(measure: false)); // warm-up: tiered JIT, caches
        }

        for (int i = 0; i < datagrams; i++)
        {
            Array.ForEach(handlers, h => h.Handle(measure: true));
        }

        double baseline = handlers[^1].Percentile(0.5);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU to handle one datagram (RecordReassembler.Add: parse, decode, deliver), {datagrams} of each kind interleaved, {Environment.ProcessorCount} cores, load {Load()}"));
        output.WriteLine("| datagram | median µs | p99 µs | worst µs | median vs plain text |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (Handler h in handlers)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {h.Name} | {h.Percentile(0.5):0.0} | {h.Percentile(0.99):0.0} | {h.Percentile(1):0.0} | {h.Percentile(0.5) / baseline:0.00} |"));
        }
    }

    private static Func<ulong, byte[], int> Payload(FloodKind kind) =>
        (sequence, datagram) => HostileFlood.WritePayload(kind, sequence, sequence, '-', 0, datagram);

    // Nothing but newlines after the text: no entry at all, ~65,000 lines to step over.
    private static int EmptyLines(ulong sequence, byte[] datagram)
    {
        int length = HostileFlood.WritePayload(FloodKind.PlainText, sequence, sequence, '-', 0, datagram);
        int text = datagram.AsSpan(0, length).IndexOf((byte)';') + 2;
        datagram.AsSpan(text, length - text).Fill((byte)'\n');
        return length;
    }

    // The short-line datagram's first 256 entries, then one long line to the same length: what
    // decoding the kept entries costs, with one line left out to count instead of ~12,800.
    private static int FirstLinesThenOneLine(ulong sequence, byte[] datagram)
    {
        int length = HostileFlood.WritePayload(FloodKind.ShortLines, sequence, sequence, '-', 0, datagram);
        int afterEntries = datagram.AsSpan(0, length).IndexOf((byte)'x') + 1 + (256 * 5);
        datagram[afterEntries] = (byte)'\n';
        datagram.AsSpan(afterEntries + 1, length - afterEntries - 1).Fill((byte)'x');
        return length;
    }

    /// <summary>The floods of the lab tests, <paramref name="scale"/> times as long, against every receiver.</summary>
    private static int Lab(int scale, TextWriter output)
    {
        (string Case, FloodPlan Plan)[] cases =
        [
            ("a. 64 KiB plain text, 8 senders x 200/s (baseline)", new FloodPlan(FloodKind.PlainText, 8, 4_800 * scale, 1_600, 8)),
            ("a. 64 KiB short lines, 8 senders x 200/s", new FloodPlan(FloodKind.ShortLines, 8, 4_800 * scale, 1_600, 8)),
            ("b. small records, 2048 senders in turn, 20,000/s", new FloodPlan(FloodKind.SmallRecords, 2048, 60_000 * scale, 20_000, 1_500)),
            ("b'. small records, each from a new sender, 20,000/s", new FloodPlan(FloodKind.SmallRecords, 60_000 * scale, 60_000 * scale, 20_000, 1_500)),
            ("c. 64 KiB c/+ groups never closed, 64 senders, 1000/s", new FloodPlan(FloodKind.ContinuedGroups, 64, 3_000 * scale, 1_000, 5)),
            ("d. first fragments of 8191-byte records never completed, 256 senders, 40,000/s", new FloodPlan(FloodKind.IncompleteFragments, 256, 40_000 * 3 * scale / 2, 40_000, 200)),
        ];
        FloodReceiver[] receivers = [FloodReceiver.InProcess, FloodReceiver.InProcessUnread, FloodReceiver.ListenToFile, FloodReceiver.ListenToUnreadPipe];
        output.WriteLine($"lab floods ({Environment.ProcessorCount} cores, load {Load()} before): spoofed senders 198.51.100.x on a veth (MTU 65,535), a legitimate TargetManager (192.0.2.1:6665) among them; every 7th legitimate number skipped on purpose");
        output.WriteLine("| case | receiver | spoofed sent / s | peak memory MiB | legitimate share | legitimate missing (skipped) | counted lost + dropped unread | kernel drops |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, FloodPlan plan) in cases)
        {
            foreach (FloodReceiver receiver in receivers)
            {
                if (plan.Kind is FloodKind.SmallRecords or FloodKind.IncompleteFragments && receiver == FloodReceiver.InProcessUnread)
                {
                    continue; // few or small records: an unread queue says nothing more there
                }

                FloodOutcome o = Flood(plan, receiver);
                string counted = o.Statistics is { } s
                    ? string.Create(CultureInfo.InvariantCulture, $"{s.Reassembler.RecordsLost} + {s.RecordsDroppedUnread}")
                    : string.Create(CultureInfo.InvariantCulture, $"{o.ReportedLost.Count} named on stderr ({o.ReportedDroppedUnread} dropped unread in all)");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Describe(receiver)} | {o.SpoofedSent / o.Duration.TotalSeconds:N0} | {o.PeakMemoryBytes / 1048576.0:0.0} | {o.Share:P1} | {o.Missing.Count} ({o.LegitimateSkipped}) | {counted} | {o.KernelDrops} |"));
            }
        }

        output.WriteLine("peak memory: in process, the GC heap's growth from before the receiver was created, garbage not yet collected included (sampled every 10 ms); netconsole-listen, its peak resident set (VmHWM).");
        return 0;
    }

    private static FloodOutcome Flood(FloodPlan plan, FloodReceiver receiver)
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Netconsole.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException("Netconsole.sln not found above the benchmark");
        }

        string listen = Path.Combine(root, "samples", "Netconsole.Listen", "bin", "Release", "net10.0", "netconsole-listen.dll");
        string dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        return HostileFlood.RunAsync(plan, receiver, listen, dotnet, Console.Error).GetAwaiter().GetResult();
    }

    private static string Describe(FloodReceiver receiver) => receiver switch
    {
        FloodReceiver.InProcess => "NetconsoleReceiver, read",
        FloodReceiver.InProcessUnread => "NetconsoleReceiver, unread until the end",
        FloodReceiver.ListenToFile => "netconsole-listen > file",
        _ => "netconsole-listen \\| unread pipe",
    };

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private sealed class Handler(string name, Func<ulong, byte[], int> payload, RecordReassemblerOptions options, int senders = 1)
    {
        private readonly RecordReassembler _reassembler = new(options);
        private readonly IPEndPoint[] _senders = [.. Enumerable.Range(0, senders).Select(HostileFlood.SpoofedSender)];
        private readonly List<ReceivedRecord> _output = [];
        private readonly byte[] _datagram = new byte[65_536];
        private readonly List<double> _microseconds = [];
        private ulong _sequence;

        public string Name { get; } = name;

        public void Handle(bool measure)
        {
            _sequence++;
            int length = payload(_sequence, _datagram);
            long start = Stopwatch.GetTimestamp();
            _reassembler.Add(_senders[(int)(_sequence % (ulong)_senders.Length)], _datagram.AsSpan(0, length), start, _output);
            long end = Stopwatch.GetTimestamp();
            _output.Clear();
            if (measure)
            {
                _microseconds.Add((end - start) * 1_000_000.0 / Stopwatch.Frequency);
            }
        }

        public double Percentile(double p)
        {
            List<double> sorted = [.. _microseconds.Order()];
            return sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
        }
    }
}
