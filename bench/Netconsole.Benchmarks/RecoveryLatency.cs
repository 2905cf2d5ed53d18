using System.Diagnostics;
using System.Globalization;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Targets;

namespace Netconsole.Benchmarks;

/// <summary>
/// Recovery latency: the lab deletes the target's interface, waits for the target to be
/// Deactivated, then re-creates the interface; measured is the time from the re-creation
/// starting (the `ip link add` of RecreateDevice) to the target being Enabled again, and from
/// RecreateDevice returning (the lab waits for carrier) to Enabled. Median and worst of N tries,
/// for the rtnetlink watcher and the polling watcher (default 1 s interval).
/// </summary>
internal static class RecoveryLatency
{
    public static int Run(string[] args, TextWriter output)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The network lab and the rtnetlink watcher exist only on Linux.");
        }

        int tries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        output.WriteLine($"recovery latency, {tries} tries per watcher, {Environment.ProcessorCount} cores");
        output.WriteLine("| watcher | median from re-creation start | worst | median after RecreateDevice returned | worst |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (string kind in new[] { "rtnetlink", "polling (1 s default)" })
        {
            var fromStart = new List<double>();
            var fromReturn = new List<double>();
            using NetworkLab lab = NetworkLab.Create();
            using IDeviceWatcher watcher = kind == "rtnetlink" ? new RtnetlinkDeviceWatcher() : new PollingDeviceWatcher();
            using var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher });
            var options = NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{lab.PeerIPv6}/");
            options.Name = "latency";
            NetconsoleTarget target = manager.Add(options);
            if (manager.Enable(target.Name).State != TargetState.Enabled)
            {
                throw new InvalidOperationException($"could not enable: {target.StateReason}");
            }

            using var enabled = new ManualResetEventSlim();
            long enabledAt = 0;
            target.StateChanged += (_, e) =>
            {
                if (e.NewState == TargetState.Enabled)
                {
                    Volatile.Write(ref enabledAt, Stopwatch.GetTimestamp());
                    enabled.Set();
                }
            };

            for (int i = 0; i < tries; i++)
            {
                lab.DeleteDevice();
                Wait(target, TargetState.Deactivated);
                enabled.Reset();
                long start = Stopwatch.GetTimestamp();
                lab.RecreateDevice();
                long returned = Stopwatch.GetTimestamp();
                if (!enabled.Wait(TimeSpan.FromSeconds(10)))
                {
                    throw new TimeoutException($"{kind}: not Enabled 10 s after re-creation ({target.StateReason})");
                }

                long at = Volatile.Read(ref enabledAt);
                fromStart.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
                fromReturn.Add(Stopwatch.GetElapsedTime(returned, at).TotalMilliseconds);
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {kind} | {Median(fromStart):F1} ms | {fromStart.Max():F1} ms | {Median(fromReturn):F1} ms | {fromReturn.Max():F1} ms |"));
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void Wait(NetconsoleTarget target, TargetState state)
    {
        var deadline = Stopwatch.StartNew();
        while (target.State != state)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"not {state}: {target.State} ({target.StateReason})");
            }

            Thread.Sleep(1);
        }
    }
}
