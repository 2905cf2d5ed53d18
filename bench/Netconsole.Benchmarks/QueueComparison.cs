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
/// The lock-free queue against the locked queue in the logger-call benchmarks (issue 11), with
/// the two interleaved: each pair of runs measures one and then the other (alternating which goes
/// first), every run a separate BenchmarkDotNet run (ShortRun, in process) of one benchmark
/// method. Prints the per-run means, medians, ratios and the spread, so a noisy machine shows as
/// such. <c>dotnet run -c Release --project bench/Netconsole.Benchmarks -- queues [PAIRS]</c>.
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

    // One BenchmarkDotNet run of one method (every parameter value): the mean per record, by call (and parameters).
    private static Dictionary<string, double> Measure(Type type, string method, string call, ILogger logger)
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
