using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Netconsole.Benchmarks.EndToEnd;

namespace Netconsole.Benchmarks;

/// <summary>
/// The lock-free queue against the locked queue in the logger-call benchmarks (issue 11), the two
/// interleaved so that both see the same load from other processes:
/// <list type="bullet">
/// <item><c>queues [PAIRS]</c>: pairs of BenchmarkDotNet runs (ShortRun, in process), one benchmark
/// method each, alternating which goes first; prints per-run means, medians, ratios and spread;</item>
/// <item><c>queues-interleaved [BATCHES]</c>: in one process, 1, 2 and 4 logging threads log batches
/// of 2000 records through either provider in the order A B B A ..., timed per batch (wall clock
/// and the logging threads' CPU time); prints medians and quartiles per variant. Fine-grained
/// interleaving makes a loaded machine's noise hit both queues alike.</item>
/// </list>
/// <c>dotnet run -c Release --project bench/Netconsole.Benchmarks -- queues 7</c>.
/// </summary>
internal static class QueueComparison
{
    private static readonly (Type Type, string LockFree, string Locked, string Call)[] Cases =
    [
        (typeof(LoggerCallBenchmarks), nameof(LoggerCallBenchmarks.Netconsole_TwoArguments), nameof(LoggerCallBenchmarks.NetconsoleLockedQueue_TwoArguments), "one thread, two arguments"),
        (typeof(LoggerCallBenchmarks), nameof(LoggerCallBenchmarks.Netconsole_Exception), nameof(LoggerCallBenchmarks.NetconsoleLockedQueue_Exception), "one thread, exception"),
        (typeof(LoggerThreadsBenchmarks), nameof(LoggerThreadsBenchmarks.LockFreeQueue), nameof(LoggerThreadsBenchmarks.LockedQueue), "threads"),
    ];

    public static int Run(string[] args, TextWriter output)
    {
        int pairs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        string log = Path.Combine(Path.GetTempPath(), "netconsole-queue-comparison.log");
        string loadBefore = Report.LoadAverage();
        DateTimeOffset started = DateTimeOffset.UtcNow;

        // (call, params) -> per pair: lock-free mean, locked mean (ns per record)
        var results = new SortedDictionary<string, List<(double LockFree, double Locked)>>(StringComparer.Ordinal);
        using (var logger = new StreamLogger(log))
        {
            for (int pair = 1; pair <= pairs; pair++)
            {
                bool lockFreeFirst = pair % 2 == 1;
                foreach ((Type type, string lockFree, string locked, string call) in Cases)
                {
                    Dictionary<string, double> first = Measure(type, lockFreeFirst ? lockFree : locked, call, logger);
                    Dictionary<string, double> second = Measure(type, lockFreeFirst ? locked : lockFree, call, logger);
                    foreach ((string key, double value) in first)
                    {
                        (double a, double b) = lockFreeFirst ? (value, second[key]) : (second[key], value);
                        if (!results.TryGetValue(key, out List<(double, double)>? list))
                        {
                            results[key] = list = [];
                        }

                        list.Add((a, b));
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pair {pair}: {key}: lock-free {a:F1} ns, locked {b:F1} ns, locked/lock-free {b / a:F3}"));
                    }
                }
            }
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{pairs} interleaved pairs of runs, {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; load average (1 min) {loadBefore} before, {Report.LoadAverage()} after; BenchmarkDotNet log: {log}"));
        output.WriteLine();
        output.WriteLine("| call | lock-free median ns | locked median ns | locked / lock-free (medians) | per-pair ratios (min-median-max) | lock-free spread (max-min)/median | locked spread |");
        output.WriteLine("|---|---:|---:|---:|---|---:|---:|");
        foreach ((string key, List<(double LockFree, double Locked)> runs) in results)
        {
            double a = Median(runs.Select(r => r.LockFree));
            double b = Median(runs.Select(r => r.Locked));
            double[] ratios = [.. runs.Select(r => r.Locked / r.LockFree).Order()];
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {key} | {a:F1} | {b:F1} | {b / a:F3} | {ratios[0]:F3} - {Median(ratios):F3} - {ratios[^1]:F3} | {Spread(runs.Select(r => r.LockFree)):P0} | {Spread(runs.Select(r => r.Locked)):P0} |"));
        }

        return 0;
    }

    public static int RunInterleaved(string[] args, TextWriter output)
    {
        int batches = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        string loadBefore = Report.LoadAverage();
        DateTimeOffset started = DateTimeOffset.UtcNow;
        var lines = new List<string>();
        foreach (int threads in new[] { 1, 2, 4 })
        {
            using var loggers = new InterleavedLoggers(threads);
            for (int i = 0; i < Math.Max(100, batches / 10); i++)
            {
                loggers.Batch(i % 2 == 0); // warm-up, both
            }

            var lockFree = new List<(double Wall, double Cpu, double Bytes)>();
            var locked = new List<(double Wall, double Cpu, double Bytes)>();
            (long dropsLockFree, long dropsLocked) = (loggers.Dropped(lockFree: true), loggers.Dropped(lockFree: false));
            for (int i = 0; i < 2 * batches; i++)
            {
                bool isLockFree = (i % 4) is 0 or 3; // A B B A: neither always follows the other
                (isLockFree ? lockFree : locked).Add(loggers.Batch(isLockFree));
            }

            double dropShareLockFree = (double)(loggers.Dropped(lockFree: true) - dropsLockFree) / (batches * InterleavedLoggers.RecordsPerBatch);
            double dropShareLocked = (double)(loggers.Dropped(lockFree: false) - dropsLocked) / (batches * InterleavedLoggers.RecordsPerBatch);
            (double a25, double a50, double a75) = Quartiles(lockFree.Select(x => x.Wall));
            (double b25, double b50, double b75) = Quartiles(locked.Select(x => x.Wall));
            double aCpu = Median(lockFree.Select(x => x.Cpu));
            double bCpu = Median(locked.Select(x => x.Cpu));
            lines.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"| {threads} | {a50:F1} ({a25:F0}-{a75:F0}) | {b50:F1} ({b25:F0}-{b75:F0}) | {b50 / a50:F3} | {aCpu:F1} | {bCpu:F1} | {bCpu / aCpu:F3} | {dropShareLockFree:P1} / {dropShareLocked:P1} | {lockFree.Average(x => x.Bytes):F1} / {locked.Average(x => x.Bytes):F1} |"));
            output.WriteLine(lines[^1]);
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{batches} batches of {InterleavedLoggers.RecordsPerBatch} records per queue and thread count, interleaved A B B A; {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; load average (1 min) {loadBefore} before, {Report.LoadAverage()} after."));
        output.WriteLine("Wall: ns per record from the start of a batch until every thread is done (median, quartiles); CPU: the logging threads' CPU time per record (median). Drops: the share DropWrite dropped (queue full). Bytes: allocated by the logging threads per record (mean; the call itself allocates 144 B).");
        output.WriteLine();
        output.WriteLine("| logging threads | lock-free wall ns (p25-p75) | locked wall ns (p25-p75) | locked / lock-free wall | lock-free CPU ns | locked CPU ns | locked / lock-free CPU | dropped lock-free / locked | B/record lock-free / locked |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---|---|");
        lines.ForEach(output.WriteLine);
        return 0;
    }

    private static (double P25, double P50, double P75) Quartiles(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return (sorted[sorted.Length / 4], Median(sorted), sorted[sorted.Length * 3 / 4]);
    }

    // One BenchmarkDotNet run of one method (every parameter value): the mean per record, by call (and parameters).
    private static Dictionary<string, double> Measure(Type type, string method, string call, BenchmarkDotNet.Loggers.ILogger logger)
    {
        IConfig config = ManualConfig.CreateEmpty()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(logger)
            .AddFilter(new NameFilter(name => name == method))
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "netconsole-queue-comparison"))
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
        Summary summary = BenchmarkRunner.Run(type, config);
        var means = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (BenchmarkReport report in summary.Reports)
        {
            string parameters = report.BenchmarkCase.Parameters.Count == 0 ? string.Empty : $" ({report.BenchmarkCase.Parameters.DisplayInfo})";
            means[call + parameters] = report.ResultStatistics?.Mean ?? double.NaN;
        }

        return means;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Spread(IEnumerable<double> values)
    {
        double[] all = [.. values];
        return (all.Max() - all.Min()) / Median(all);
    }
}
