using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Netconsole.Listen;

// Ctrl+C and SIGTERM stop listening cleanly: the summary is printed and the exit code is 0.
// Whatever the tool is doing: when the clean stop does not end within StopGrace (standard output
// is a pipe nobody reads, so a write never returns), the process exits anyway, with
// ListenTool.StoppedUnclean; a second signal does not wait for the grace.
using var stop = new CancellationTokenSource();
int signals = 0;
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    if (Interlocked.Increment(ref signals) > 1)
    {
        Environment.Exit(ListenTool.StoppedUnclean);
    }

    stop.Cancel();
    _ = Task.Delay(ListenTool.StopGrace).ContinueWith(static _ => Environment.Exit(ListenTool.StoppedUnclean), TaskScheduler.Default);
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
// Standard output and error as plain file descriptors, not Console.Out and Console.Error: on
// Unix those two share one lock, so a write blocked on a pipe nobody reads would also block
// every line on stderr, which is where the tool says what it drops meanwhile.
// Standard output is buffered (the tool flushes it whenever no record is waiting): a write per
// line held netconsole-listen to ~30,000 lines/s to a file.
using TextWriter stdout = OnUnix(1, buffered: true) ?? Console.Out;
using TextWriter stderr = OnUnix(2, buffered: false) ?? Console.Error;
return await ListenTool.RunProcessAsync(args, stdout, stderr, stop.Token);

static TextWriter? OnUnix(int descriptor, bool buffered) => OperatingSystem.IsWindows()
    ? null
    : TextWriter.Synchronized(new StreamWriter(
        new FileStream(new SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, bufferSize: 0),
        new UTF8Encoding(false),
        bufferSize: buffered ? 32 * 1024 : -1)
    { AutoFlush = !buffered });
