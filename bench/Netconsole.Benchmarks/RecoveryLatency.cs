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
/// RecreateDevice returning (the lab waits for carrier) to Enabled, and from the watcher's
/// event about the device that let it resume (the last one raised before Enabled: the kernel's
/// rtnetlink message as the watcher hands it on, or the poll that saw the device) to Enabled:
/// the library's own part. Median and worst of N tries, for the rtnetlink watcher and the
/// polling watcher (default 1 s interval), each with a target given the peer's MAC (nothing to
/// resolve: the library's part alone) and one that resolves it (NDP). NETCONSOLE_BENCH_VERBOSE=1
/// prints every device event and state change with its time.
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
        output.WriteLine("| watcher | target | median from re-creation start | worst | median after RecreateDevice returned | worst | median from the watcher's event | worst |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string kind, bool withMac) in new[] { ("rtnetlink", true), ("rtnetlink", false), ("polling (1 s default)", true), ("polling (1 s default)", false) })
        {
            var fromStart = new List<double>();
            var fromReturn = new List<double>();
            var fromEvent = new List<double>();
            using NetworkLab lab = NetworkLab.Create();
            using IDeviceWatcher watcher = kind == "rtnetlink" ? new RtnetlinkDeviceWatcher() : new PollingDeviceWatcher();
            using var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher });
            // With the peer's MAC nothing is resolved: the resume is the library's alone. Without it,
            // the resume includes a neighbour solicitation, which waits for the peer's side of the
            // lab (its address) to be ready.
            string mac = withMac ? MacAddressText.Format(lab.PeerMac) : "";
            var options = NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{lab.PeerIPv6}/{mac}");
            options.Name = "latency";
            NetconsoleTarget target = manager.Add(options);
            if (manager.Enable(target.Name).State != TargetState.Enabled)
            {
                throw new InvalidOperationException($"could not enable: {target.StateReason}");
            }

            using var enabled = new ManualResetEventSlim();
            long enabledAt = 0;
            long lastEventAt = 0;
            long eventAtEnable = 0;

            // Subscribed after the manager: this handler runs after the manager's has queued the resume.
            watcher.DeviceChanged += (_, e) =>
            {
                if (e.Device.Name == lab.DeviceName && e.Kind != DeviceChangeKind.Unregistered)
                {
                    Volatile.Write(ref lastEventAt, Stopwatch.GetTimestamp());
                }
            };
            bool verbose = Environment.GetEnvironmentVariable("NETCONSOLE_BENCH_VERBOSE") == "1";
            long t0 = Stopwatch.GetTimestamp();
            if (verbose)
            {
                watcher.DeviceChanged += (_, e) => output.WriteLine($"  {Stopwatch.GetElapsedTime(t0).TotalMilliseconds:F1} ms event {e}");
            }

            target.StateChanged += (_, e) =>
            {
                if (verbose)
                {
                    output.WriteLine($"  {Stopwatch.GetElapsedTime(t0).TotalMilliseconds:F1} ms {e.OldState} -> {e.NewState}: {e.Reason}");
                }

                if (e.NewState == TargetState.Enabled)
                {
                    long now = Stopwatch.GetTimestamp();
                    Volatile.Write(ref eventAtEnable, Volatile.Read(ref lastEventAt));
                    Volatile.Write(ref enabledAt, now);
                    enabled.Set();
                }
            };

            for (int i = 0; i < tries; i++)
            {
                lab.DeleteDevice();
                Wait(target, TargetState.Deactivated);
                enabled.Reset();
                Volatile.Write(ref lastEventAt, 0);
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
                long eventAt = Volatile.Read(ref eventAtEnable);
                if (eventAt != 0)
                {
                    fromEvent.Add(Stopwatch.GetElapsedTime(eventAt, at).TotalMilliseconds);
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {kind} | {(withMac ? "peer MAC given" : "next hop resolved (NDP)")} | {Median(fromStart):F1} ms | {fromStart.Max():F1} ms | {Median(fromReturn):F1} ms | {fromReturn.Max():F1} ms | {Median(fromEvent):F2} ms | {fromEvent.Max():F2} ms |"));
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
