using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using System.Runtime.InteropServices;
using Netconsole.Devices;
using Netconsole.Logging;
using Netconsole.Targets;

namespace Netconsole.Benchmarks;

/// <summary>
/// CaptureProcessDeath's cost on the logging call (issue 21), robust to a loaded machine: two
/// providers in one process, one with the option, one without (DropWrite, target on a missing
/// device, as in LoggerCallBenchmarks: nothing is injected), their loggers called in batches of
/// 2000, alternately (A B B A ...), so both see the same load. Per batch, the logging thread's CPU
/// time (clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanoseconds, less sensitive to other load) and its wall
/// time per call; medians over the batches, and the ratio watched / plain. Two calls: a message
/// with two arguments, and one with an exception.
/// </summary>
internal static partial class ProcessDeathCost
{
    private const int Batch = 2000;
    private static readonly InvalidOperationException Failure = new("the card was declined");

    public static int Run(string[] args, TextWriter output)
    {
        int batches = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
        using var watcher = new ManualDeviceWatcher();
        using NetconsoleLoggerProvider plain = Provider(watcher, capture: false);
        using NetconsoleLoggerProvider watched = Provider(watcher, capture: true);
        if (watched.DeathWatch is null)
        {
            throw new InvalidOperationException("CaptureProcessDeath is on but the watchdog did not start");
        }

        ILogger a = plain.CreateLogger("Shop.Orders");
        ILogger b = watched.CreateLogger("Shop.Orders");
        output.WriteLine($"CaptureProcessDeath on the logging call: {batches} batches of {Batch} per provider, interleaved; load before {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine("| call | plain CPU ns | watched CPU ns | CPU ratio | plain wall ns | watched wall ns | wall ratio |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, Action<ILogger> call) in new (string, Action<ILogger>)[]
        {
            ("two arguments", static l => l.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north")),
            ("exception", static l => l.LogError(Failure, "payment failed for order {OrderId}", 4711)),
        })
        {
            var cpu = (Plain: new List<double>(), Watched: new List<double>());
            var wall = (Plain: new List<double>(), Watched: new List<double>());
            for (int i = 0; i < batches; i++)
            {
                bool watchedFirst = i % 2 == 1; // A B B A ...
                foreach (bool isWatched in watchedFirst ? new[] { true, false } : new[] { false, true })
                {
                    ILogger logger = isWatched ? b : a;
                    long before = ThreadCpuNanoseconds();
                    long start = Stopwatch.GetTimestamp();
                    for (int k = 0; k < Batch; k++)
                    {
                        call(logger);
                    }

                    double wallNs = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Batch;
                    double cpuNs = (double)(ThreadCpuNanoseconds() - before) / Batch;
                    (isWatched ? cpu.Watched : cpu.Plain).Add(cpuNs);
                    (isWatched ? wall.Watched : wall.Plain).Add(wallNs);
                }

                // Let both senders drain, so neither queue stays full (a full queue drops: cheaper).
                plain.Flush(TimeSpan.FromSeconds(5));
                watched.Flush(TimeSpan.FromSeconds(5));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Median(cpu.Plain):F0} | {Median(cpu.Watched):F0} | **{Median(cpu.Watched) / Median(cpu.Plain):F2}** | {Median(wall.Plain):F0} | {Median(wall.Watched):F0} | **{Median(wall.Watched) / Median(wall.Plain):F2}** |"));
        }

        NetconsoleLoggerStatistics p = plain.GetStatistics();
        NetconsoleLoggerStatistics w = watched.GetStatistics();
        output.WriteLine($"dropped (queue full): plain {p.RecordsDroppedQueueFull}, watched {w.RecordsDroppedQueueFull}; load after {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static NetconsoleLoggerProvider Provider(ManualDeviceWatcher watcher, bool capture)
    {
        var options = new NetconsoleLoggerOptions
        {
            QueueFullMode = NetconsoleQueueFullMode.DropWrite,
            MaxQueueLength = 2 * Batch,
            ManagerOptions = () => new TargetManagerOptions { Watcher = watcher },
            CaptureProcessDeath = capture,
            DiagnosticsToStandardError = NetconsoleStandardErrorMode.Never,
        };
        options.Targets.Add("+@/nodev0,@2001:db8::2/");
        return new NetconsoleLoggerProvider(options);
    }

    private static long ThreadCpuNanoseconds()
    {
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out TimeSpec now);
        return (now.Seconds * 1_000_000_000L) + now.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
