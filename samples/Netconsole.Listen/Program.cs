using System.Runtime.InteropServices;
using Netconsole.Listen;

// Ctrl+C and SIGTERM stop listening cleanly: the summary is printed and the exit code is 0.
using var stop = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await ListenTool.RunProcessAsync(args, Console.Out, Console.Error, stop.Token);
