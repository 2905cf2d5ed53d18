// netconsole-crash-demo TARGET N [killed]: the smallest crash-reporting setup. It logs N records
// to a netconsole target, then dies of an unhandled exception; the provider's crash handler sends
// what is still queued and then the exception itself as an emergency (level 0) record.
// With "killed": no handler can run. CaptureProcessDeath is on, and the process is killed with
// SIGKILL (as the OOM killer kills) right after logging, its records still queued; its watchdog
// sends them, then a record naming the death.
//
//   netconsole-crash-demo "+@/lo,@::1/" 5      (root; receive with: netconsole-listen --address ::1)
using System.Diagnostics;
using Microsoft.Extensions.Logging;

if (args.Length is not (2 or 3) || !int.TryParse(args[1], out int count) || count < 0 || (args.Length == 3 && args[2] != "killed"))
{
    Console.Error.WriteLine("usage: netconsole-crash-demo TARGET N [killed]   (for example: netconsole-crash-demo \"+@/lo,@::1/\" 5)");
    return 2;
}

if (args.Length == 3)
{
    // CaptureProcessDeath starts a watchdog process that shares a memory ring with this one: each
    // record is written there as it is queued. SIGKILL runs no code in this process; the watchdog
    // sees the death through its pidfd and sends what this process had not sent yet.
    ILoggerFactory watched = LoggerFactory.Create(logging => logging.AddNetconsole(options =>
    {
        options.Targets.Add(args[0]);
        options.CaptureProcessDeath = true;
    }));
    ILogger killedLogger = watched.CreateLogger("Netconsole.CrashDemo");
    Console.Error.WriteLine($"netconsole-crash-demo: logging {count} records to {args[0]}, then SIGKILL");
    for (int i = 1; i <= count; i++)
    {
        Log.Record(killedLogger, i, count);
    }

    Console.Error.WriteLine($"netconsole-crash-demo: killed with SIGKILL at {Stopwatch.GetTimestamp()} (Stopwatch ticks)");
    Process.GetCurrentProcess().Kill(); // kill(getpid(), SIGKILL): nothing after this runs
    return 1; // never reached
}

// CaptureUnhandledExceptions hooks AppDomain.UnhandledException: when the process is about to
// die, the provider drains its queue and sends the exception as an emergency record.
// The factory is deliberately never disposed: a crashing process does not get that far.
ILoggerFactory factory = LoggerFactory.Create(logging => logging.AddNetconsole(options =>
{
    options.Targets.Add(args[0]);
    options.CaptureUnhandledExceptions = true;
}));
ILogger logger = factory.CreateLogger("Netconsole.CrashDemo");

Console.Error.WriteLine($"netconsole-crash-demo: logging {count} records to {args[0]}");
for (int i = 1; i <= count; i++)
{
    Log.Record(logger, i, count);
}

// Any thread will do: an exception nobody catches ends the whole process.
var worker = new Thread(() =>
{
    // Stopwatch ticks are the monotonic clock, comparable across processes on Linux (the test
    // uses this line to measure how long the crash record takes to arrive).
    Console.Error.WriteLine($"netconsole-crash-demo: crashing at {Stopwatch.GetTimestamp()} (Stopwatch ticks)");
    throw new InvalidOperationException("the demo crashes on purpose");
});
worker.Start();
worker.Join();
return 0; // never reached

// Source-generated logging methods: the message template is parsed once, at build time.
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "record {Index} of {Count}")]
    public static partial void Record(ILogger logger, int index, int count);
}
