using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Netconsole.Receiving;

namespace Netconsole.Benchmarks.Receive;

/// <summary>
/// The in-process receiver under test (<c>receive-child PORT SOCKETS COUNTER_FILE [one-at-a-time]</c>):
/// a <see cref="NetconsoleReceiver"/> with its default options on <c>[::]:PORT</c> and one reader
/// draining <see cref="NetconsoleReceiver.ReadAllAsync"/>, publishing how many records it read
/// in the counter file. Stops on SIGTERM and prints the receiver's statistics on stderr.
/// </summary>
/// <remarks>
/// Runs against an earlier Netconsole.dll too (the benchmark's "before" row, copied over this
/// one): what that one lacks is touched only in methods of their own, called only when asked.
/// </remarks>
internal static class ReceiveChild
{
    public static async Task<int> RunAsync(string[] args)
    {
        int port = int.Parse(args[0], CultureInfo.InvariantCulture);
        int sockets = int.Parse(args[1], CultureInfo.InvariantCulture);
        using CounterFile counters = CounterFile.Open(args[2]);
        using var stop = new CancellationTokenSource();
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        var options = new NetconsoleReceiverOptions();
        if (sockets != 1)
        {
            SetReceiveSockets(options, sockets);
        }

        if (args.Length > 3 && args[3] == "one-at-a-time")
        {
            ReceiveOneAtATime();
        }

        NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Any, port), options);
        long read = 0;
        try
        {
            await foreach (ReceivedRecord _ in receiver.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                counters.SetComplete(0, ++read);
            }
        }
        catch (OperationCanceledException)
        {
            // SIGTERM.
        }

        await receiver.DisposeAsync().ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"receive-child: read {read}; {receiver.GetStatistics()}").ConfigureAwait(false);
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SetReceiveSockets(NetconsoleReceiverOptions options, int sockets) => options.ReceiveSockets = sockets;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReceiveOneAtATime() => NetconsoleReceiver.BatchReceive = false;
}
