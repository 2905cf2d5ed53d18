using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Benchmarks;

/// <summary>
/// Records per second through the lab's veth, in one run: (1) this library's send path
/// (format + frame + libpcap injection) and (2) a plain OS UDP socket sending the same
/// payloads from the same address, each counted by a real UDP receiver in the peer namespace.
/// One-datagram extended records. Rates are informational: no test asserts on them.
/// </summary>
internal static class LabRate
{
    public static int Run(string[] args, TextWriter output)
    {
        int records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        using NetworkLab lab = NetworkLab.Create();
        var options = new NetconsoleTargetOptions
        {
            DeviceName = lab.DeviceName,
            LocalAddress = lab.DeviceIPv4,
            RemoteAddress = lab.PeerIPv4,
            RemoteMac = lab.PeerMac,
            Extended = true,
        };
        options.Userdata["host"] = "bench-1";
        byte[] text = Encoding.UTF8.GetBytes("order 4711 shipped to warehouse 3; customer notified by mail"); // one datagram

        output.WriteLine($"lab: {lab.DeviceName} -> {lab.PeerName} ({lab.PeerNamespace}), {records} one-datagram records per run, {rounds} rounds, {Environment.ProcessorCount} cores");
        output.WriteLine("| round | path | records/s | received | lost at receiver | ratio vs UDP socket |");
        output.WriteLine("|---|---|---:|---:|---:|---:|");
        for (int round = 1; round <= rounds; round++)
        {
            var injected = Measure(lab, 6666, count => Inject(lab, options, text, count), records);
            var udp = Measure(lab, 6667, count => SendUdp(lab, options, text, count), records);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | libpcap injection (format + frame + inject) | {injected.Rate:N0} | {injected.Received:N0} | {records - injected.Received:N0} | {injected.Rate / udp.Rate:F2} |"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | OS UDP socket (same payloads, format included) | {udp.Rate:N0} | {udp.Received:N0} | {records - udp.Received:N0} | 1.00 |"));
        }

        return 0;
    }

    private static (double Rate, long Received) Measure(NetworkLab lab, int port, Action<int> send, int records)
    {
        using var receiver = new NetconsoleReceiver(
            lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, port),
            new NetconsoleReceiverOptions { Capacity = 1000, ReceiveBufferSize = 64 * 1024 * 1024 });
        using var drain = new CancellationTokenSource();
        Task reader = Task.Run(async () =>
        {
            try
            {
                await foreach (ReceivedRecord _ in receiver.ReadAllAsync(drain.Token))
                {
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        send(1000); // warm-up
        Thread.Sleep(300);
        long before = receiver.GetStatistics().RecordsReceived;
        long start = Stopwatch.GetTimestamp();
        send(records);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Thread.Sleep(500); // let the receiver catch up
        long received = receiver.GetStatistics().RecordsReceived - before;
        drain.Cancel();
        reader.Wait(TimeSpan.FromSeconds(5));
        return (records / seconds, received);
    }

    private static ulong s_sequence;

    private static void Inject(NetworkLab lab, NetconsoleTargetOptions options, byte[] text, int count)
    {
        var formatter = new RecordFormatter(options.ToRecordFormat());
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(lab.DeviceName);
        var frames = new FrameBuilder(transport.DeviceMac, options.RemoteMac!, options.LocalAddress!, 6665, options.RemoteAddress!, 6666);
        var frame = new byte[frames.MaxFrameLength];
        for (int i = 0; i < count; i++)
        {
            var record = new NetconsoleRecord(6, text) { Sequence = s_sequence++, TimestampMicroseconds = (ulong)i };
            foreach (ReadOnlySpan<byte> datagram in formatter.Format(record))
            {
                transport.Send(frame.AsSpan(0, frames.Build(datagram, frame)));
            }
        }
    }

    private static void SendUdp(NetworkLab lab, NetconsoleTargetOptions options, byte[] text, int count)
    {
        var formatter = new RecordFormatter(options.ToRecordFormat());
        using Socket socket = lab.OpenDeviceUdpSocket(AddressFamily.InterNetwork, 6665);
        var destination = new IPEndPoint(options.RemoteAddress!, 6667);
        for (int i = 0; i < count; i++)
        {
            var record = new NetconsoleRecord(6, text) { Sequence = s_sequence++, TimestampMicroseconds = (ulong)i };
            foreach (ReadOnlySpan<byte> datagram in formatter.Format(record))
            {
                socket.SendTo(datagram, SocketFlags.None, destination);
            }
        }
    }
}
