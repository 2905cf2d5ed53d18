using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging;
using Netconsole.Devices;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Benchmarks;

/// <summary>
/// The sender side abused on purpose (issue 20), as figures: every count must add up.
/// (1) 8 threads logging as fast as they can for 10 s through the provider, in both queue modes,
/// to an IPv6 target on lo through real libpcap; (2) the same, disposed after 3 s while the threads
/// go on logging; (3) disposal while a device open blocks 5 s (the issue's 5,013 ms); (4) 20 s of
/// concurrent Add/Remove/Enable/Disable/Reconfigure with device-event storms while 4 threads
/// send; (5) 10,000 targets. (3) to (5) use a device watcher driven by calls and transports that
/// count frames. Informational: no test asserts on the times.
/// </summary>
internal static class AbuseFigures
{
    private const string Usage = "usage: abuse [SECONDS_LOGGING [SECONDS_STORM [TARGETS]]]   (defaults 10 20 10000)";
    private const int LoggingThreads = 8;

    public static int Run(string[] args, TextWriter output)
    {
        if (args.Length > 3)
        {
            output.WriteLine(Usage);
            return 2;
        }

        int logSeconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        int stormSeconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        int targets = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10_000;
        bool ok = true;
        output.WriteLine($"# Abuse figures, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, load {LoadAverage()}");
        output.WriteLine();
        output.WriteLine("| scene | calls | delivered | undelivered | dropped queue full | dropped disposed | delivered + undelivered + dropped = calls | target sent + dropped + buffered = offered | dispose ms |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (NetconsoleQueueFullMode mode in new[] { NetconsoleQueueFullMode.DropWrite, NetconsoleQueueFullMode.Wait })
        {
            ok &= LogFlood(output, mode, TimeSpan.FromSeconds(logSeconds), disposeAfter: null);
            ok &= LogFlood(output, mode, TimeSpan.FromSeconds(logSeconds), disposeAfter: TimeSpan.FromSeconds(3));
        }

        output.WriteLine();
        ok &= BlockedOpen(output);
        output.WriteLine();
        ok &= Storm(output, TimeSpan.FromSeconds(stormSeconds));
        output.WriteLine();
        ok &= ManyTargets(output, targets);
        output.WriteLine();
        output.WriteLine(ok ? "every count adds up" : "SOME COUNT DOES NOT ADD UP");
        return ok ? 0 : 1;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    // 8 threads log as fast as they can for `duration` (or until disposal plus 1 s): every call
    // is counted by the thread that made it, then compared with the provider's and the target's counts.
    private static bool LogFlood(TextWriter output, NetconsoleQueueFullMode mode, TimeSpan duration, TimeSpan? disposeAfter)
    {
        var options = new NetconsoleLoggerOptions { QueueFullMode = mode, StandardError = () => TextWriter.Null };
        options.Targets.Add("+@/lo,@::1/");
        var provider = new NetconsoleLoggerProvider(options);
        if (provider.Manager.Targets[0].State != TargetState.Enabled)
        {
            output.WriteLine($"| {mode}: target not enabled ({provider.Manager.Targets[0].StateReason}); run through bench/lab.sh | | | | | | | | |");
            provider.Dispose();
            return false;
        }

        NetconsoleTarget target = provider.Manager.Targets[0];
        ILogger logger = provider.CreateLogger("Abuse");
        long[] calls = new long[LoggingThreads];
        using var stop = new CancellationTokenSource();
        Thread[] threads = Enumerable.Range(0, LoggingThreads).Select(t => new Thread(() =>
        {
            long n = 0;
            while (!stop.IsCancellationRequested)
            {
                logger.Log(LogLevel.Information, new EventId(t), "abuse thread {Thread} call {Call}", t, n);
                n++;
            }

            calls[t] = n;
        }) { IsBackground = true, Name = $"abuse-{t}" }).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        long disposeMs = -1;
        if (disposeAfter is { } after)
        {
            Thread.Sleep(after);
            var clock = Stopwatch.StartNew();
            provider.Dispose();
            disposeMs = clock.ElapsedMilliseconds;
            Thread.Sleep(1000); // logging goes on after disposal: counted as dropped, never thrown
            stop.Cancel();
        }
        else
        {
            Thread.Sleep(duration);
            stop.Cancel();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        if (disposeAfter is null)
        {
            provider.Flush(TimeSpan.FromSeconds(60));
            var clock = Stopwatch.StartNew();
            provider.Dispose();
            disposeMs = clock.ElapsedMilliseconds;
        }

        NetconsoleLoggerStatistics s = provider.GetStatistics();
        long attempted = calls.Sum();
        long accounted = s.RecordsDelivered + s.RecordsUndelivered + s.RecordsDroppedQueueFull + s.RecordsDroppedDisposed;
        bool providerAddsUp = accounted == attempted && s.Errors == 0;

        // The target (the only one) was offered every record handed over and every drop notice;
        // notices are not in the provider's counts, so the target's side is checked on its own:
        // what it was offered is sent + dropped + buffered + replayed, and it sent all it got.
        TargetStatistics t = target.GetStatistics();
        long offered = t.RecordsSent + t.RecordsReplayed + t.RecordsDropped + t.RecordsBuffered;
        bool targetAddsUp = offered >= s.RecordsDelivered + s.RecordsUndelivered && t.RecordsSent + t.RecordsReplayed >= s.RecordsDelivered;
        string targetText = string.Create(CultureInfo.InvariantCulture, $"{t.RecordsSent + t.RecordsReplayed:N0} + {t.RecordsDropped:N0} + {t.RecordsBuffered:N0} = {offered:N0} (of which {offered - s.RecordsDelivered - s.RecordsUndelivered:N0} drop notices)");

        string scene = disposeAfter is null ? $"{mode}, {LoggingThreads} threads {duration.TotalSeconds:0} s" : $"{mode}, {LoggingThreads} threads, disposed after {disposeAfter.Value.TotalSeconds:0} s, logging 1 s more";
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {scene} | {attempted:N0} | {s.RecordsDelivered:N0} | {s.RecordsUndelivered:N0} | {s.RecordsDroppedQueueFull:N0} | {s.RecordsDroppedDisposed:N0} | {(providerAddsUp ? "yes" : $"NO ({accounted:N0}, errors {s.Errors})")} | {targetText}{(targetAddsUp ? "" : " NO")} | {disposeMs:N0} |"));
        return providerAddsUp && targetAddsUp;
    }

    // The issue's case: a device open held 5 s (a resume on the manager's worker, under the
    // configuration lock) while the manager, then the provider, is disposed.
    private static bool BlockedOpen(TextWriter output)
    {
        output.WriteLine("Disposal while a device open blocks for 5 s (a resume on the worker, under the configuration lock):");
        output.WriteLine();
        output.WriteLine("| disposed | time limit | Dispose returned after | open returned after | late transport closed |");
        output.WriteLine("|---|---|---|---|---|");
        bool ok = true;
        foreach (bool throughProvider in new[] { false, true })
        {
            var watcher = new ManualDeviceWatcher();
            var factory = new CountingTransportFactory { OpenDelay = TimeSpan.FromSeconds(5) };
            var managerOptions = new TargetManagerOptions { Watcher = watcher, TransportFactory = factory, RouteLookup = null, NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, "") };
            TargetManager manager;
            NetconsoleLoggerProvider? provider = null;
            if (throughProvider)
            {
                var options = new NetconsoleLoggerOptions { ManagerOptions = () => managerOptions, StandardError = () => TextWriter.Null, DisposeTimeout = TimeSpan.FromSeconds(1) };
                options.Targets.Add("@/veth0,@192.0.2.2/");
                provider = new NetconsoleLoggerProvider(options);
                manager = provider.Manager;
            }
            else
            {
                manager = new TargetManager(managerOptions);
                manager.Add(new NetconsoleTargetOptions { Name = "t", DeviceName = "veth0", RemoteAddress = IPAddress.Parse("192.0.2.2") });
                manager.Enable("t");
            }

            watcher.Register("veth0", PhysicalAddress.Parse("02-00-00-00-00-0A"), [IPAddress.Parse("192.0.2.1")]);
            SpinWait.SpinUntil(() => factory.OpensStarted == 1, TimeSpan.FromSeconds(10));
            long entered = Stopwatch.GetTimestamp();
            if (provider is not null)
            {
                provider.Dispose();
            }
            else
            {
                manager.Dispose();
            }

            long disposed = (long)Stopwatch.GetElapsedTime(entered).TotalMilliseconds;
            SpinWait.SpinUntil(() => factory.Opened == 1 && factory.Live == 0, TimeSpan.FromSeconds(20));
            long openReturned = (long)Stopwatch.GetElapsedTime(entered, factory.OpenReturned).TotalMilliseconds;
            bool closed = factory.Opened == 1 && factory.Live == 0;
            ok &= closed;
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {(throughProvider ? "the provider (DisposeTimeout 1 s)" : "TargetManager (default limit)")} | {(throughProvider ? "1 s" : TargetManagerOptionsDisposeTimeout())} | {disposed:N0} ms | {openReturned:N0} ms | {(closed ? "yes" : "NO")} |"));
            watcher.Dispose();
        }

        return ok;
    }

    private static string TargetManagerOptionsDisposeTimeout() =>
        typeof(TargetManagerOptions).GetProperty("DisposeTimeout") is { } property
            ? string.Create(CultureInfo.InvariantCulture, $"{((TimeSpan)property.GetValue(new TargetManagerOptions())!).TotalSeconds:0.#} s")
            : "none";

    // Concurrent configuration calls against device-event storms while records are sent: nothing
    // may throw into the caller but the documented refusals, the worker must never fail, every
    // target's counts must add up, and every transport opened must be closed after disposal.
    private static bool Storm(TextWriter output, TimeSpan duration)
    {
        var watcher = new ManualDeviceWatcher();
        var factory = new CountingTransportFactory();
        var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher, TransportFactory = factory, RouteLookup = null, NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, ""), CarrierTimeout = TimeSpan.Zero });
        string[] devices = ["veth0", "veth1", "veth2"];
        foreach (string device in devices)
        {
            watcher.Register(device, PhysicalAddress.Parse("02-00-00-00-00-0A"), [IPAddress.Parse("192.0.2.1")]);
        }

        var offered = new ConcurrentDictionary<NetconsoleTarget, long>();
        long configCalls = 0, refusals = 0, unexpected = 0, events = 0, sends = 0;
        var unexpectedKinds = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var threads = new List<Thread>();
        for (int c = 0; c < 4; c++)
        {
            int seed = c;
            threads.Add(new Thread(() =>
            {
                var random = new Random(seed);
                while (!stop.IsCancellationRequested)
                {
                    string name = "t" + random.Next(8).ToString(CultureInfo.InvariantCulture);
                    try
                    {
                        switch (random.Next(5))
                        {
                            case 0: manager.Add(new NetconsoleTargetOptions { Name = name, DeviceName = devices[random.Next(devices.Length)], RemoteAddress = IPAddress.Parse("192.0.2.2") }); break;
                            case 1: manager.Remove(name); break;
                            case 2: manager.Enable(name); break;
                            case 3: manager.Disable(name); break;
                            default: manager.Reconfigure(name, o => o.RemotePort = 6666 + random.Next(10)); break;
                        }
                    }
                    catch (Exception e) when (e is KeyNotFoundException or ArgumentException or InvalidOperationException)
                    {
                        Interlocked.Increment(ref refusals); // no such target, a duplicate name, reconfiguring an enabled target
                    }
                    catch (Exception e)
                    {
                        Interlocked.Increment(ref unexpected);
                        unexpectedKinds.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                    }

                    Interlocked.Increment(ref configCalls);
                }
            }) { IsBackground = true });
        }

        threads.Add(new Thread(() =>
        {
            var random = new Random(99);
            while (!stop.IsCancellationRequested)
            {
                string device = devices[random.Next(devices.Length)];
                switch (random.Next(4))
                {
                    case 0: watcher.Unregister(device); watcher.Register(device, PhysicalAddress.Parse("02-00-00-00-00-0A"), [IPAddress.Parse("192.0.2.1")]); break;
                    case 1: watcher.SetUp(device, false); watcher.SetUp(device, true); break;
                    case 2: watcher.SetCarrier(device, false); watcher.SetCarrier(device, true); break;
                    default: watcher.SetMac(device, PhysicalAddress.Parse(random.Next(2) == 0 ? "02-00-00-00-00-0A" : "02-00-00-00-00-0B")); break;
                }

                Interlocked.Add(ref events, 2);
                Thread.Sleep(random.Next(2)); // a storm, not a spin: the worker gets the lock too
            }
        }) { IsBackground = true });
        for (int s = 0; s < 4; s++)
        {
            threads.Add(new Thread(() =>
            {
                ulong sequence = 0;
                while (!stop.IsCancellationRequested)
                {
                    IReadOnlyList<NetconsoleTarget> now = manager.Targets;
                    foreach (NetconsoleTarget target in now)
                    {
                        target.TrySend(NetconsoleRecord.FromString(6, "storm") with { Sequence = ++sequence }, out _);
                        offered.AddOrUpdate(target, 1, (_, n) => n + 1);
                    }

                    Interlocked.Increment(ref sends);
                }
            }) { IsBackground = true });
        }

        var clock = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        Thread.Sleep(duration);
        stop.Cancel();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        manager.WaitForWorkerIdle(TimeSpan.FromSeconds(30));
        SpinWait.SpinUntil(() => offered.Keys.All(t => t.GetStatistics().RecordsBuffered == 0 || t.State != TargetState.Enabled), TimeSpan.FromSeconds(10));
        long mismatched = 0, totalOffered = 0;
        foreach ((NetconsoleTarget target, long count) in offered)
        {
            TargetStatistics t = target.GetStatistics();
            totalOffered += count;
            if (t.RecordsSent + t.RecordsReplayed + t.RecordsDropped + t.RecordsBuffered != count)
            {
                mismatched++;
            }
        }

        int workerFailures = manager.WorkerFailures;
        var disposeClock = Stopwatch.StartNew();
        manager.Dispose();
        long disposeMs = disposeClock.ElapsedMilliseconds;
        bool allClosed = factory.Live == 0;
        watcher.Dispose();
        bool ok = unexpected == 0 && workerFailures == 0 && mismatched == 0 && allClosed;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Storm, {duration.TotalSeconds:0} s: {configCalls:N0} configuration calls from 4 threads ({refusals:N0} refused as documented, {unexpected:N0} other exceptions{(unexpectedKinds.IsEmpty ? "" : ": " + string.Join(", ", unexpectedKinds.Select(k => $"{k.Key} {k.Value}")))}), {events:N0} device events, {totalOffered:N0} records offered to {offered.Count:N0} targets by 4 sending threads; targets whose sent + replayed + dropped + buffered != offered: {mismatched}; worker failures {workerFailures}; transports opened {factory.Opened:N0}, left open after Dispose {factory.Live}; Dispose {disposeMs:N0} ms."));
        return ok;
    }

    // 10,000 targets on one manager: add and enable them all, send 100 records, dispose.
    private static bool ManyTargets(TextWriter output, int count)
    {
        var watcher = new ManualDeviceWatcher();
        watcher.Register("veth0", PhysicalAddress.Parse("02-00-00-00-00-0A"), [IPAddress.Parse("192.0.2.1")]);
        var factory = new CountingTransportFactory();
        var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher, TransportFactory = factory, RouteLookup = null, NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, "") });
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            manager.Add(new NetconsoleTargetOptions { Name = "t" + i.ToString(CultureInfo.InvariantCulture), DeviceName = "veth0", RemoteAddress = IPAddress.Parse("192.0.2.2"), RemotePort = 1024 + (i % 60000) });
        }

        long addMs = clock.ElapsedMilliseconds;
        clock.Restart();
        int enabled = 0;
        foreach (NetconsoleTarget target in manager.Targets)
        {
            enabled += manager.Enable(target.Name).IsEnabled ? 1 : 0;
        }

        long enableMs = clock.ElapsedMilliseconds;
        clock.Restart();
        const int Records = 100;
        long sentToTargets = 0;
        for (int r = 1; r <= Records; r++)
        {
            sentToTargets += manager.Send(NetconsoleRecord.FromString(6, "to every target") with { Sequence = (ulong)r });
        }

        long sendMs = clock.ElapsedMilliseconds;
        long sentCounted = manager.Targets.Sum(t => t.GetStatistics().RecordsSent);
        clock.Restart();
        manager.Dispose();
        long disposeMs = clock.ElapsedMilliseconds;
        bool ok = enabled == count && sentToTargets == (long)count * Records && sentCounted == sentToTargets && factory.Frames == sentToTargets && factory.Live == 0;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{count:N0} targets: Add {addMs:N0} ms, Enable {enableMs:N0} ms ({enabled:N0} enabled), {Records} records sent to all: {sendMs:N0} ms ({sentToTargets:N0} sends, {sentCounted:N0} counted sent, {factory.Frames:N0} frames), Dispose {disposeMs:N0} ms, transports left open {factory.Live}."));
        watcher.Dispose();
        return ok;
    }

    /// <summary>Opens transports that count the frames they are given; an open can be made to take <see cref="OpenDelay"/>.</summary>
    private sealed class CountingTransportFactory : IFrameTransportFactory
    {
        private long _frames;
        private int _opensStarted;
        private int _opened;
        private int _live;
        private long _openReturned;

        public TimeSpan OpenDelay { get; init; }

        public int OpensStarted => Volatile.Read(ref _opensStarted);

        public int Opened => Volatile.Read(ref _opened);

        public int Live => Volatile.Read(ref _live);

        public long Frames => Interlocked.Read(ref _frames);

        /// <summary>The <see cref="Stopwatch"/> timestamp when the last open returned.</summary>
        public long OpenReturned => Volatile.Read(ref _openReturned);

        public IFrameTransport Open(string deviceName)
        {
            Interlocked.Increment(ref _opensStarted);
            if (OpenDelay > TimeSpan.Zero)
            {
                Thread.Sleep(OpenDelay);
            }

            Interlocked.Increment(ref _live);
            Interlocked.Increment(ref _opened);
            Volatile.Write(ref _openReturned, Stopwatch.GetTimestamp());
            return new Transport(this, deviceName);
        }

        private sealed class Transport(CountingTransportFactory factory, string deviceName) : IFrameTransport
        {
            private int _disposed;

            public string DeviceName { get; } = deviceName;

            public PhysicalAddress DeviceMac { get; } = PhysicalAddress.Parse("02-00-00-00-00-01");

            public bool IsLoopback => false;

            public void EnsureCanReach(IPAddress remoteAddress)
            {
            }

            public IFrameCapture? OpenCapture() => null;

            public void Send(ReadOnlySpan<byte> frame)
            {
                if (Volatile.Read(ref _disposed) != 0)
                {
                    throw new FrameTransportException(FrameTransportError.Closed, DeviceName, "sent through after it was closed");
                }

                Interlocked.Increment(ref factory._frames);
            }

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Interlocked.Decrement(ref factory._live);
                }
            }
        }
    }
}
