// netconsole-test-app MODE [--key=value ...]: test infrastructure, not a sample. The tests run it
// as a real child process to see what an application sees when it ends the way applications end
// (tests/Netconsole.Tests/Logging/ProcessExitTests.cs). Everything after MODE is configuration
// (Microsoft.Extensions.Configuration.CommandLine), such as
//
//   netconsole-test-app return-from-main --count=200 --Logging:Netconsole:Targets:0=+@/lo,@::1/
//
// Modes (the records are "record i of N", category Netconsole.TestApp, level Information):
//   return-from-main     logs --count records (default 200) and returns 0 from Main WITHOUT
//                        disposing the logger factory: only the provider's ProcessExit handler
//                        can get the queued records out.
//   exit-after-critical  logs --count records (default 200), then LogCritical("last words ...")
//                        and Environment.Exit(1) at once, with the records still queued.
//   plain                a plain console app: LoggerFactory.Create with the netconsole provider
//                        only, 3 records, the factory disposed, exit 0.
//   log-and-hang         logs --count records (default 200), waits until the provider's metric
//                        netconsole.records.buffered shows them all waiting in the replay
//                        buffer (its target cannot send), prints "buffered N" on stdout and
//                        sleeps until killed: the test kills it with SIGKILL (the spool tests).
//   host                 a Generic Host app: Host.CreateApplicationBuilder with its default
//                        providers (console among them) plus AddNetconsole(); a hosted service
//                        logs 3 records and stops the host; exit 0.
//   die --how=HOW        CaptureProcessDeath on: logs --count records (default 200), prints
//                        "dying T" (T: Stopwatch.GetTimestamp(), the monotonic clock every
//                        process shares) and ends at once, HOW: sigkill (kills itself with
//                        SIGKILL, as the OOM killer would), stackoverflow (unbounded recursion),
//                        segv (strlen on a bad pointer through P/Invoke), failfast
//                        (Environment.FailFast), return (returns 0 from Main without disposing:
//                        the ProcessExit path), dispose (disposes the factory, returns 0), hang
//                        (sleeps until killed: the caller kills it, and knows when). With
//                        --settle-ms=N it waits N ms after creating the logger factory, before
//                        logging (a process that has been running a while: its watchdog has set
//                        up its targets). The core-dump limit is set to 0 first, so no crash
//                        leaves a core file.
// The app prints nothing of its own (except a usage error, exit 2): what appears on stdout or
// stderr comes from the logging providers or the runtime.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Netconsole.TestApp;

const string Usage = "usage: netconsole-test-app return-from-main|exit-after-critical|log-and-hang|plain|host|die [--count=N] [--how=HOW] [--Logging:Netconsole:Targets:0=TARGET ...]";
if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string[] configurationArgs = args[1..];
IConfiguration configuration = new ConfigurationBuilder().AddCommandLine(configurationArgs).Build();
int count = 200;
if (configuration["count"] is { } countText && (!int.TryParse(countText, out count) || count < 0))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

switch (args[0])
{
    case "return-from-main":
    {
        // Deliberately never disposed: the application forgets to, and returns from Main.
        ILoggerFactory factory = CreateFactory(configuration);
        LogRecords(factory.CreateLogger(Log.Category), count);
        return 0;
    }

    case "exit-after-critical":
    {
        ILoggerFactory factory = CreateFactory(configuration);
        ILogger logger = factory.CreateLogger(Log.Category);
        LogRecords(logger, count);
        Log.LastWords(logger, count);
        Environment.Exit(1);
        return 1; // never reached
    }

    case "log-and-hang":
    {
        ILoggerFactory factory = CreateFactory(configuration);
        LogRecords(factory.CreateLogger(Log.Category), count);
        long buffered = Buffered.WaitFor(count, TimeSpan.FromSeconds(30));
        Console.Out.WriteLine($"buffered {buffered}");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 1; // never reached
    }

    case "plain":
    {
        using (ILoggerFactory factory = CreateFactory(configuration))
        {
            LogRecords(factory.CreateLogger(Log.Category), 3);
        }

        return 0;
    }

    case "host":
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(configurationArgs);
        builder.Logging.AddNetconsole();
        builder.Services.AddHostedService<ThreeRecords>();
        await builder.Build().RunAsync();
        return 0;
    }

    case "die":
    {
        string how = configuration["how"] ?? "";
        if (how is not ("sigkill" or "stackoverflow" or "segv" or "failfast" or "return" or "dispose" or "hang"))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        Death.NoCoreDump();
        ILoggerFactory factory = CreateFactory(configuration);
        Thread.Sleep(int.TryParse(configuration["settle-ms"], out int settle) ? settle : 0);
        LogRecords(factory.CreateLogger(Log.Category), count);
        if (how == "dispose")
        {
            factory.Dispose();
        }

        Console.Out.WriteLine($"dying {System.Diagnostics.Stopwatch.GetTimestamp()}");
        Console.Out.Flush();
        Death.Die(how);
        return 0; // return, dispose
    }

    default:
        Console.Error.WriteLine(Usage);
        return 2;
}

// A factory without a host, configured the way a host configures one: the Logging section (here
// from the command line), then the provider.
static ILoggerFactory CreateFactory(IConfiguration configuration) =>
    LoggerFactory.Create(logging => logging.AddConfiguration(configuration.GetSection("Logging")).AddNetconsole());

static void LogRecords(ILogger logger, int count)
{
    for (int i = 1; i <= count; i++)
    {
        Log.Record(logger, i, count);
    }
}

namespace Netconsole.TestApp
{
    /// <summary>The host mode's work: logs 3 records, then stops the host (the host disposes the providers).</summary>
    internal sealed class ThreeRecords(ILoggerFactory loggers, IHostApplicationLifetime lifetime) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            ILogger logger = loggers.CreateLogger(Log.Category);
            for (int i = 1; i <= 3; i++)
            {
                Log.Record(logger, i, 3);
            }

            lifetime.StopApplication();
            return Task.CompletedTask;
        }
    }

    /// <summary>The provider's netconsole.records.buffered metric, summed over targets, read through a MeterListener.</summary>
    internal static class Buffered
    {
        /// <summary>Polls the metric until it reaches <paramref name="count"/> or <paramref name="limit"/> passes; returns the last value.</summary>
        public static long WaitFor(long count, TimeSpan limit)
        {
            long value = 0;
            using var listener = new System.Diagnostics.Metrics.MeterListener
            {
                InstrumentPublished = static (instrument, l) =>
                {
                    if (instrument.Name == "netconsole.records.buffered")
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => value += measurement);
            listener.Start();
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                value = 0;
                listener.RecordObservableInstruments();
                if (value >= count || deadline.Elapsed > limit)
                {
                    return value;
                }

                Thread.Sleep(10);
            }
        }
    }

    /// <summary>The ways the die mode ends the process.</summary>
    internal static partial class Death
    {
        public static void Die(string how)
        {
            switch (how)
            {
                case "sigkill":
                    System.Diagnostics.Process.GetCurrentProcess().Kill(); // kill(getpid(), SIGKILL)
                    Thread.Sleep(Timeout.Infinite);
                    break;
                case "stackoverflow":
                    Recurse(0);
                    break;
                case "segv":
                    StringLength(1); // address 1: SIGSEGV in native code
                    break;
                case "failfast":
                    Environment.FailFast("netconsole-test-app: failing fast");
                    break;
                case "hang":
                    Thread.Sleep(Timeout.Infinite);
                    break;
            }
        }

        /// <summary>RLIMIT_CORE 0: a crash leaves no core file behind.</summary>
        public static void NoCoreDump()
        {
            var none = new ResourceLimit();
            _ = SetResourceLimit(4 /* RLIMIT_CORE */, ref none);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static int Recurse(int depth) => Recurse(depth + 1) + 1;

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "strlen")]
        private static partial nuint StringLength(nint text);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setrlimit")]
        private static partial int SetResourceLimit(int resource, ref ResourceLimit limit);

        private struct ResourceLimit
        {
            public ulong Current;
            public ulong Maximum;
        }
    }

    /// <summary>The records, as source-generated logging methods.</summary>
    internal static partial class Log
    {
        public const string Category = "Netconsole.TestApp";

        [LoggerMessage(Level = LogLevel.Information, Message = "record {Index} of {Count}")]
        public static partial void Record(ILogger logger, int index, int count);

        [LoggerMessage(Level = LogLevel.Critical, Message = "last words after {Count} records: exiting with code 1")]
        public static partial void LastWords(ILogger logger, int count);
    }
}
