using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

// Shared by the flood lab tests (tests/Netconsole.Tests/Integration/FloodLabTests.cs) and the
// flood figures (bench/lab.sh flood), which link this file: the tests assert on what a run
// counted, the benchmark prints it.
namespace Netconsole.Tests.Support;

/// <summary>What the spoofed senders send (issue 16).</summary>
internal enum FloodKind
{
    /// <summary>65,500-byte records of short dictionary lines (<c>x\n a=b\n a=b...</c>): ~20 times their size once decoded, were it not capped.</summary>
    ShortLines,

    /// <summary>65,500-byte records of plain text, no dictionary: the baseline the others are compared with.</summary>
    PlainText,

    /// <summary>Short one-line records (~60 bytes): many senders, one datagram each in turn.</summary>
    SmallRecords,

    /// <summary>65,500-byte short-line records that open a continued group (<c>c</c>) and then only add to it (<c>+</c>), never closing it.</summary>
    ContinuedGroups,

    /// <summary>First fragments (<c>ncfrag=0/8191</c>, 1000 bytes) of records whose other fragments never come: a buffer of the whole record held for each until the timeout.</summary>
    IncompleteFragments,
}

/// <summary>Who receives the flood, in the lab's peer namespace on 192.0.2.2:6666.</summary>
internal enum FloodReceiver
{
    /// <summary>A <see cref="NetconsoleReceiver"/> with its default options, read as records come.</summary>
    InProcess,

    /// <summary>A <see cref="NetconsoleReceiver"/> with its default options, not read until the flood is over (a stalled application).</summary>
    InProcessUnread,

    /// <summary>netconsole-listen as a child process, its standard output to a file.</summary>
    ListenToFile,

    /// <summary>netconsole-listen as a child process, its standard output in a pipe nobody reads until the flood is over.</summary>
    ListenToUnreadPipe,
}

/// <summary>
/// One flood: <paramref name="Datagrams"/> spoofed datagrams of <paramref name="Kind"/> from
/// <paramref name="Senders"/> spoofed senders in turn, at <paramref name="DatagramsPerSecond"/>, with one
/// legitimate record after every <paramref name="SpoofedPerLegitimate"/> of them.
/// </summary>
internal sealed record FloodPlan(FloodKind Kind, int Senders, int Datagrams, double DatagramsPerSecond, int SpoofedPerLegitimate)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Kind} from {Senders} spoofed senders, {Datagrams} datagrams at {DatagramsPerSecond:0} a second, a legitimate record every {SpoofedPerLegitimate}");
}

/// <summary>What one flood run saw and counted.</summary>
internal sealed record FloodOutcome
{
    public required FloodPlan Plan { get; init; }

    public required FloodReceiver Receiver { get; init; }

    /// <summary>Spoofed datagrams injected.</summary>
    public long SpoofedSent { get; init; }

    /// <summary>How long the flood took (the spoofed datagrams and the legitimate records among them).</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The legitimate sender's highest sequence number: its records are numbered 1 to this.</summary>
    public ulong LastSequence { get; init; }

    /// <summary>Legitimate records put on the wire (the numbers skipped on purpose were not).</summary>
    public int LegitimateSent { get; init; }

    /// <summary>Numbers the legitimate sender skipped on purpose (lost on the way, as far as any receiver can tell).</summary>
    public int LegitimateSkipped { get; init; }

    /// <summary>Legitimate records the application read (in process) or netconsole-listen printed; the last one, sent after the flood, included.</summary>
    public required IReadOnlySet<ulong> Delivered { get; init; }

    /// <summary>Legitimate records put on the wire during the flood (the first and the last are sent before and after it).</summary>
    public int LegitimateSentDuringFlood { get; init; }

    /// <summary>The legitimate sender's share: of its records sent during the flood, those the application read or the tool printed.</summary>
    public double Share => LegitimateSentDuringFlood == 0 ? 1 : Delivered.Count(n => n > 1 && n < LastSequence) / (double)LegitimateSentDuringFlood;

    /// <summary>Numbers from 1 to <see cref="LastSequence"/> neither read nor printed, the skipped ones included.</summary>
    public IReadOnlyList<ulong> Missing => [.. Enumerable.Range(1, checked((int)LastSequence)).Select(n => (ulong)n).Where(n => !Delivered.Contains(n))];

    /// <summary>In process: the receiver's counters at the end.</summary>
    public NetconsoleReceiverStatistics? Statistics { get; init; }

    /// <summary>In process: the legitimate sender's counters at the end (since its state was last created).</summary>
    public SenderStatistics? LegitimateStatistics { get; init; }

    /// <summary>netconsole-listen: the legitimate sender's numbers it reported lost on stderr (<c>192.0.2.1:6665: N records lost (seq A-B)</c>).</summary>
    public IReadOnlySet<ulong> ReportedLost { get; init; } = new HashSet<ulong>();

    /// <summary>netconsole-listen: records it reported dropped unread on stderr, all senders together.</summary>
    public long ReportedDroppedUnread { get; init; }

    /// <summary>netconsole-listen: its exit code after SIGTERM (0: stopped cleanly, with its summary).</summary>
    public int? ExitCode { get; init; }

    /// <summary>netconsole-listen: the legitimate sender's records, datagrams and duplicates in the summary at exit (since its state was last created).</summary>
    public (long Records, long Datagrams, long Duplicates)? LegitimateSummary { get; init; }

    /// <summary>netconsole-listen: the summary it printed at exit (the lines from the total on).</summary>
    public IReadOnlyList<string> Summary { get; init; } = [];

    /// <summary>
    /// Memory at its highest. In process: the GC heap's growth from before the receiver was
    /// created (sampled every 10 ms, garbage not yet collected included). netconsole-listen: its
    /// peak resident set (VmHWM).
    /// </summary>
    public long PeakMemoryBytes { get; init; }

    /// <summary>In process: what the heap held at the end of the flood after a full collection, less the same before the receiver was created.</summary>
    public long HeldAfterFloodBytes { get; init; }

    /// <summary>In process: the GC's committed memory at its highest (as of the last collection: live objects, garbage and free space), less the same before the receiver was created.</summary>
    public long PeakCommittedBytes { get; init; }

    /// <summary>In process: the highest <see cref="NetconsoleReceiverStatistics.BytesQueued"/> plus <see cref="ReassemblerStatistics.BytesBuffered"/> sampled.</summary>
    public long PeakCountedBytes { get; init; }

    /// <summary>Datagrams the kernel dropped before the receiver saw them: UDP receive buffer errors in the peer namespace, and frames the veth dropped.</summary>
    public long KernelDrops { get; init; }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Receiver}, {Plan}: {SpoofedSent} spoofed in {Duration.TotalSeconds:0.0} s; legitimate 1-{LastSequence}: {LegitimateSent} sent, {LegitimateSkipped} skipped, {Delivered.Count} delivered ({Share:P1} during the flood), {Missing.Count} missing; ");
        text.Append(CultureInfo.InvariantCulture, $"peak memory {PeakMemoryBytes / 1048576.0:0.0} MiB");
        if (Receiver is FloodReceiver.InProcess or FloodReceiver.InProcessUnread)
        {
            text.Append(CultureInfo.InvariantCulture, $", committed {PeakCommittedBytes / 1048576.0:0.0} MiB, held after the flood {HeldAfterFloodBytes / 1048576.0:0.0} MiB, counted at most {PeakCountedBytes / 1048576.0:0.0} MiB");
        }

        text.Append(CultureInfo.InvariantCulture, $"; kernel drops {KernelDrops}");
        if (Statistics is not null)
        {
            text.Append("\n  receiver: ").Append(Statistics);
            text.Append("\n  legitimate sender: ").Append(LegitimateStatistics?.ToString() ?? "not tracked");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  reported lost {ReportedLost.Count}, reported dropped unread {ReportedDroppedUnread}, exit code {ExitCode}");
            foreach (string line in Summary)
            {
                text.Append("\n  ").Append(line);
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// Issue 16 the way it was found: UDP datagrams from spoofed source addresses (198.51.100.0/24,
/// a documentation range) injected with libpcap through the lab's veth, while a legitimate sender
/// (this library's <see cref="TargetManager"/>, 192.0.2.1:6665) sends numbered records on the same
/// path, against a receiver in the peer namespace. Both veth ends get a 65,535-byte MTU, so a
/// 65,500-byte datagram crosses as one frame, as it does on <c>lo</c>.
/// </summary>
/// <remarks>
/// The spoofed records carry random sequence numbers (all an attacker needs), so a receiver counts
/// no record of theirs lost: <see cref="ReceiveStatistics.RecordsLost"/> is the legitimate
/// sender's alone, whatever senders are evicted. Continued groups need consecutive numbers, so
/// with <see cref="FloodKind.ContinuedGroups"/> a part the kernel drops is counted lost too
/// (<see cref="FloodOutcome.KernelDrops"/> bounds how many).
/// </remarks>
[SupportedOSPlatform("linux")]
internal static partial class HostileFlood
{
    /// <summary>The payload of the large spoofed datagrams, in bytes, as in the issue.</summary>
    public const int LargePayload = 65_500;

    /// <summary>Every <see cref="SkipEvery"/>th number the legitimate sender skips: records lost on the way that a receiver must count.</summary>
    public const int SkipEvery = 7;

    private const int Port = 6666;
    private const int LegitimatePort = 6665;
    private const int FrameHeaderLength = 42; // Ethernet 14 + IPv4 20 + UDP 8
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>The spoofed senders: 198.51.100.1-254, then the same addresses from the next port.</summary>
    public static IPEndPoint SpoofedSender(int index) =>
        new(new IPAddress([198, 51, 100, (byte)(1 + (index % 254))]), 1024 + (index / 254));

    /// <summary>
    /// Runs one flood against a new lab and receiver. Needs root, libpcap and a private network
    /// namespace (the caller checks).
    /// </summary>
    /// <param name="plan">What to send.</param>
    /// <param name="receiver">Who receives.</param>
    /// <param name="listenDll">netconsole-listen.dll, for the listen receivers.</param>
    /// <param name="dotnetHost">The dotnet host to run it with.</param>
    /// <param name="log">Progress, or null.</param>
    public static async Task<FloodOutcome> RunAsync(FloodPlan plan, FloodReceiver receiver, string listenDll, string dotnetHost, TextWriter? log = null)
    {
        using NetworkLab lab = NetworkLab.Create();
        Prepare(lab);
        var legitimate = new IPEndPoint(lab.DeviceIPv4, LegitimatePort);
        long dropsBefore = KernelDrops(lab);
        await using ReceiverUnderTest under = receiver is FloodReceiver.InProcess or FloodReceiver.InProcessUnread
            ? new InProcessReceiver(lab, legitimate, reading: receiver == FloodReceiver.InProcess)
            : await ListenReceiver.StartAsync(lab, listenDll, dotnetHost, unreadPipe: receiver == FloodReceiver.ListenToUnreadPipe);
        await using var manager = new TargetManager();
        NetconsoleTargetOptions options = NetconsoleTargetOptions.Parse($"+@{lab.DeviceIPv4}/{lab.DeviceName},{Port}@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}");
        options.Name = "legitimate";
        manager.Add(options);
        EnableResult enabled = manager.Enable(options.Name);
        if (enabled.State != TargetState.Enabled)
        {
            throw new InvalidOperationException($"the legitimate sender's target did not enable: {enabled.Reason}");
        }

        // Proof the path works before the flood: the first record (number 1) arrives.
        long clock = Stopwatch.GetTimestamp();
        Send(manager, 1, Timestamp(clock), "first");
        await under.WaitForFirstAsync();
        log?.WriteLine($"{receiver}: receiver up, {plan}");

        using SharpPcapTransport spoofing = SharpPcapTransportFactory.Open(lab.DeviceName);
        var flood = new Flood(plan, spoofing, lab, manager, clock);
        Thread floodThread = new(flood.Run) { Name = "spoofed flood", IsBackground = true };
        floodThread.Start();
        while (!floodThread.Join(10))
        {
            under.Sample();
        }

        flood.Failure?.Throw();
        under.Sample();
        long held = under.HeldAfterFlood();

        // The last record, after the flood: any legitimate record missing before it is a gap to count.
        ulong last = flood.LastSequence + 1;
        if (last % SkipEvery == 0)
        {
            last++;
        }

        // Sent again (the same record: a copy is a duplicate, ignored) until it arrives: a receiver
        // still behind the flood when it ends may find its socket buffer full.
        await under.FloodOverAsync();
        ulong lastTimestamp = Timestamp(clock);
        Task arrived = under.WaitForAsync(last);
        do
        {
            Send(manager, last, lastTimestamp, "last");
        }
        while (await Task.WhenAny(arrived, Task.Delay(500)) != arrived);

        await arrived;
        FloodOutcome outcome = await under.FinishAsync(new FloodOutcome
        {
            Plan = plan,
            Receiver = receiver,
            SpoofedSent = flood.SpoofedSent,
            Duration = flood.Duration,
            LastSequence = last,
            LegitimateSent = flood.LegitimateSent + 2,
            LegitimateSkipped = flood.LegitimateSkipped + (int)(last - flood.LastSequence - 1),
            Delivered = new HashSet<ulong>(),
            LegitimateSentDuringFlood = flood.LegitimateSent,
            HeldAfterFloodBytes = held,
            KernelDrops = KernelDrops(lab) - dropsBefore,
        });
        log?.WriteLine(outcome);
        return outcome;
    }

    private static void Send(TargetManager manager, ulong sequence, ulong timestamp, string what) =>
        manager.Send(new NetconsoleRecord(6, Encoding.ASCII.GetBytes($"legitimate record {sequence} ({what})"))
        {
            Sequence = sequence,
            TimestampMicroseconds = timestamp,
        });

    // Microseconds since the legitimate sender started.
    private static ulong Timestamp(long clock) => 1 + (ulong)Stopwatch.GetElapsedTime(clock).Ticks / 10;

    // A 65,535-byte MTU on both ends, so a 65,500-byte datagram crosses as one frame; no reverse
    // path filter in the peer namespace, so datagrams from addresses it has no route to arrive.
    private static void Prepare(NetworkLab lab)
    {
        Ip("link", "set", "dev", lab.DeviceName, "mtu", "65535");
        Ip("-n", lab.PeerNamespace, "link", "set", "dev", lab.PeerName, "mtu", "65535");
        lab.RunInPeerNamespace(() =>
        {
            File.WriteAllText("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{lab.PeerName}/rp_filter", "0");
        });
    }

    private static string Ip(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process ip = Process.Start(start)!;
        string output = ip.StandardOutput.ReadToEnd();
        string error = ip.StandardError.ReadToEnd();
        ip.WaitForExit();
        return ip.ExitCode == 0 ? output : throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {error.Trim()}");
    }

    // UDP receive buffer errors in the peer namespace (/proc/thread-self: /proc/net would show the
    // main thread's namespace), and frames the veth could not hand to its peer.
    private static long KernelDrops(NetworkLab lab)
    {
        long receiveBufferErrors = lab.RunInPeerNamespace(() =>
        {
            string[] udp = File.ReadLines("/proc/thread-self/net/snmp").Where(l => l.StartsWith("Udp: ", StringComparison.Ordinal)).ToArray();
            string[] names = udp[0].Split(' ');
            string[] values = udp[1].Split(' ');
            return long.Parse(values[Array.IndexOf(names, "RcvbufErrors")], CultureInfo.InvariantCulture);
        });
        using JsonDocument link = JsonDocument.Parse(Ip("-j", "-s", "link", "show", "dev", lab.DeviceName));
        return receiveBufferErrors + link.RootElement[0].GetProperty("stats64").GetProperty("tx").GetProperty("dropped").GetInt64();
    }

    /// <summary>
    /// Writes the Ethernet, IPv4 and UDP headers in front of a payload already at
    /// <c>frame[42..]</c>: any source, any size up to 65,507 bytes, checksums computed.
    /// <see cref="FrameBuilder"/> builds one target's frames, at most 1000 bytes of payload, as
    /// netconsole sends them; a hostile sender sends what it likes.
    /// </summary>
    public static int BuildFrame(Span<byte> frame, PhysicalAddress sourceMac, PhysicalAddress destinationMac, IPEndPoint source, IPEndPoint destination, int payloadLength)
    {
        destinationMac.GetAddressBytes().CopyTo(frame);
        sourceMac.GetAddressBytes().CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], Ethernet.EtherTypeIPv4);
        Span<byte> ip = frame[14..34];
        ip.Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payloadLength));
        ip[8] = 64;
        ip[9] = 17;
        source.Address.TryWriteBytes(ip[12..], out _);
        destination.Address.TryWriteBytes(ip[16..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~Checksum.Fold(Checksum.Add(0, ip)));

        Span<byte> udp = frame[34..(FrameHeaderLength + payloadLength)];
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)destination.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udp.Length);
        udp[6] = 0;
        udp[7] = 0;
        ulong sum = Checksum.Add(Checksum.Add(Checksum.Add(0, ip[12..20]), (ushort)17), (ushort)udp.Length);
        ushort checksum = (ushort)~Checksum.Fold(Checksum.Add(sum, udp));
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xffff : checksum);
        return FrameHeaderLength + payloadLength;
    }

    /// <summary>The record a spoofed sender sends: header <c>6,SEQ,TS,FLAG[,ncfrag=0/8191];</c>, then the kind's body.</summary>
    public static int WritePayload(FloodKind kind, ulong sequence, ulong timestamp, char flag, int index, Span<byte> payload)
    {
        string fragment = kind == FloodKind.IncompleteFragments ? ",ncfrag=0/8191" : "";
        int at = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"6,{sequence},{timestamp},{flag}{fragment};"), payload);
        switch (kind)
        {
            case FloodKind.SmallRecords:
                return at + Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"spoofed record from sender {index}"), payload[at..]);
            case FloodKind.IncompleteFragments:
                payload[at..(at + 1000)].Fill((byte)'x');
                return at + 1000;
            case FloodKind.PlainText:
                payload[at..LargePayload].Fill((byte)'x');
                return LargePayload;
            default:
                // "x" then "\n a=b" to the end: one dictionary entry per 5 bytes.
                payload[at++] = (byte)'x';
                while (at + 5 <= LargePayload)
                {
                    "\n a=b"u8.CopyTo(payload[at..]);
                    at += 5;
                }

                return at;
        }
    }

    // The spoofed datagrams, with the legitimate records among them, on a thread of its own.
    private sealed class Flood(FloodPlan plan, SharpPcapTransport transport, NetworkLab lab, TargetManager manager, long clock)
    {
        private readonly Random _random = new(16);
        private readonly ulong[] _groupNext = new ulong[plan.Senders]; // ContinuedGroups: each sender's next number, 0 before its group

        public ulong LastSequence { get; private set; } = 1;

        public int LegitimateSent { get; private set; }

        public int LegitimateSkipped { get; private set; }

        public long SpoofedSent { get; private set; }

        public TimeSpan Duration { get; private set; }

        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Failure { get; private set; }

        public void Run()
        {
            try
            {
                byte[] frame = new byte[FrameHeaderLength + 65_507];
                var destination = new IPEndPoint(lab.PeerIPv4, Port);
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < plan.Datagrams; i++)
                {
                    // Paced: the i-th datagram goes out at i / rate seconds, in bursts at the finest a millisecond apart.
                    while (Stopwatch.GetElapsedTime(start).TotalSeconds < i / plan.DatagramsPerSecond)
                    {
                        Thread.Sleep(1);
                    }

                    int sender = i % plan.Senders;
                    int length = WriteSpoofed(sender, frame.AsSpan(FrameHeaderLength));
                    BuildFrame(frame, lab.DeviceMac, lab.PeerMac, SpoofedSender(sender), destination, length);
                    transport.Send(frame.AsSpan(0, FrameHeaderLength + length));
                    SpoofedSent++;
                    if ((i + 1) % plan.SpoofedPerLegitimate == 0)
                    {
                        SendLegitimate();
                    }
                }

                Duration = Stopwatch.GetElapsedTime(start);
            }
            catch (Exception e)
            {
                Failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        }

        private void SendLegitimate()
        {
            ulong next = LastSequence + 1;
            if (next % SkipEvery == 0)
            {
                LegitimateSkipped++;
                next++;
            }

            LastSequence = next;
            Send(manager, next, Timestamp(clock), "during the flood");
            LegitimateSent++;
        }

        private int WriteSpoofed(int sender, Span<byte> payload)
        {
            ulong timestamp = (ulong)_random.NextInt64(1, long.MaxValue);
            if (plan.Kind != FloodKind.ContinuedGroups)
            {
                return WritePayload(plan.Kind, (ulong)_random.NextInt64(1, long.MaxValue), timestamp, '-', sender, payload);
            }

            // A group opened at a random number and added to with the next ones, never closed.
            if (_groupNext[sender] == 0)
            {
                ulong first = (ulong)_random.NextInt64(1, long.MaxValue / 2);
                _groupNext[sender] = first + 1;
                return WritePayload(plan.Kind, first, timestamp, 'c', sender, payload);
            }

            return WritePayload(plan.Kind, _groupNext[sender]++, timestamp, '+', sender, payload);
        }
    }

    private abstract class ReceiverUnderTest : IAsyncDisposable
    {
        /// <summary>Waits until the receiver has the legitimate record 1, without reading what a stalled reader would not.</summary>
        public abstract Task WaitForFirstAsync();

        /// <summary>Waits until the legitimate record <paramref name="sequence"/> was read or printed.</summary>
        public abstract Task WaitForAsync(ulong sequence);

        public virtual Task FloodOverAsync() => Task.CompletedTask;

        public abstract void Sample();

        public virtual long HeldAfterFlood() => 0;

        public abstract Task<FloodOutcome> FinishAsync(FloodOutcome outcome);

        public abstract ValueTask DisposeAsync();

        protected static async Task Until(Func<bool> condition, string what)
        {
            var deadline = Stopwatch.StartNew();
            while (!condition())
            {
                if (deadline.Elapsed > Wait)
                {
                    throw new TimeoutException($"{what} not within {Wait.TotalSeconds:0} s");
                }

                await Task.Delay(10);
            }
        }
    }

    private sealed class InProcessReceiver : ReceiverUnderTest
    {
        private readonly NetconsoleReceiver _receiver;
        private readonly IPEndPoint _legitimate;
        private readonly ConcurrentDictionary<ulong, bool> _delivered = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly long _baseline;
        private readonly long _baselineCommitted;
        private Task? _reader;
        private long _peakHeap;
        private long _peakCommitted;
        private long _peakCounted;

        public InProcessReceiver(NetworkLab lab, IPEndPoint legitimate, bool reading)
        {
            _legitimate = legitimate;
            _baseline = GC.GetTotalMemory(forceFullCollection: true);
            _baselineCommitted = GC.GetGCMemoryInfo().TotalCommittedBytes;
            _receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, Port));
            if (reading)
            {
                _reader = Task.Run(ReadAsync);
            }
        }

        public override Task WaitForFirstAsync() =>
            Until(() => _receiver.GetSenderStatistics(_legitimate)?.RecordsReceived >= 1, "legitimate record 1 received");

        public override async Task WaitForAsync(ulong sequence)
        {
            _reader ??= Task.Run(ReadAsync); // a reader that did not read during the flood reads now
            await Until(() => _delivered.ContainsKey(sequence) || _reader.IsCompleted, $"legitimate record {sequence}");
            if (_reader.IsCompleted)
            {
                await _reader; // the receiver failed: say how
                throw new InvalidOperationException("the receiver's queue completed: it stopped");
            }
        }

        public override void Sample()
        {
            _peakHeap = Math.Max(_peakHeap, GC.GetTotalMemory(forceFullCollection: false) - _baseline);
            _peakCommitted = Math.Max(_peakCommitted, GC.GetGCMemoryInfo().TotalCommittedBytes - _baselineCommitted);
            NetconsoleReceiverStatistics statistics = _receiver.GetStatistics();
            _peakCounted = Math.Max(_peakCounted, statistics.BytesQueued + statistics.Reassembler.BytesBuffered);
        }

        public override long HeldAfterFlood() => GC.GetTotalMemory(forceFullCollection: true) - _baseline;

        public override Task<FloodOutcome> FinishAsync(FloodOutcome outcome)
        {
            Sample();
            return Task.FromResult(outcome with
            {
                Delivered = _delivered.Keys.ToHashSet(),
                Statistics = _receiver.GetStatistics(),
                LegitimateStatistics = _receiver.GetSenderStatistics(_legitimate),
                PeakMemoryBytes = _peakHeap,
                PeakCountedBytes = _peakCounted,
                PeakCommittedBytes = _peakCommitted,
            });
        }

        public override async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _receiver.DisposeAsync();
            if (_reader is not null)
            {
                try
                {
                    await _reader;
                }
                catch (OperationCanceledException)
                {
                }
            }

            _stop.Dispose();
        }

        private async Task ReadAsync()
        {
            await foreach (ReceivedRecord record in _receiver.ReadAllAsync(_stop.Token))
            {
                if (record.Sender.Equals(_legitimate))
                {
                    _delivered[record.Sequence] = true;
                }
            }
        }
    }

    private sealed partial class ListenReceiver : ReceiverUnderTest
    {
        private readonly Process _process;
        private readonly string? _outputFile;
        private readonly ConcurrentDictionary<ulong, bool> _delivered = new();
        private readonly List<string> _errors = [];
        private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _errorReader;
        private Task? _outputReader;
        private long _peakResident;

        private ListenReceiver(Process process, string? outputFile)
        {
            _process = process;
            _outputFile = outputFile;
            _errorReader = Task.Run(ReadErrorsAsync);
            if (outputFile is not null)
            {
                _outputReader = Task.Run(() => FollowFileAsync(outputFile));
            }
        }

        public static async Task<ReceiverUnderTest> StartAsync(NetworkLab lab, string listenDll, string dotnetHost, bool unreadPipe)
        {
            string[] listen = ["ip", "netns", "exec", lab.PeerNamespace, dotnetHost, listenDll, "--address", lab.PeerIPv4.ToString(), "--port", Port.ToString(CultureInfo.InvariantCulture)];
            string? file = unreadPipe ? null : Path.Combine(Path.GetTempPath(), $"netconsole-flood-{Guid.NewGuid():N}.txt");
            var start = new ProcessStartInfo(unreadPipe ? listen[0] : "/bin/sh")
            {
                RedirectStandardOutput = unreadPipe, // never read during the flood: the pipe fills and every write blocks
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (file is not null)
            {
                // exec all the way down (sh, then ip netns exec): the process is netconsole-listen itself.
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add("exec \"$@\" > \"$0\"");
                start.ArgumentList.Add(file);
            }

            foreach (string argument in unreadPipe ? listen[1..] : listen)
            {
                start.ArgumentList.Add(argument);
            }

            var receiver = new ListenReceiver(Process.Start(start)!, file);
            await receiver._listening.Task.WaitAsync(Wait);
            return receiver;
        }

        public override async Task WaitForFirstAsync()
        {
            if (_outputFile is not null)
            {
                await WaitForAsync(1);
                return;
            }

            // The pipe is read up to the first record, then not again until the flood is over.
            using var deadline = new CancellationTokenSource(Wait);
            while (!_delivered.ContainsKey(1))
            {
                Printed(await _process.StandardOutput.ReadLineAsync(deadline.Token)
                    ?? throw new InvalidOperationException($"netconsole-listen ended; it printed on stderr: {string.Join(" | ", Errors().TakeLast(20))}"));
            }
        }

        public override async Task WaitForAsync(ulong sequence)
        {
            await Until(() => _delivered.ContainsKey(sequence) || _process.HasExited, $"netconsole-listen printing legitimate record {sequence}");
            if (!_delivered.ContainsKey(sequence))
            {
                throw new InvalidOperationException($"netconsole-listen exited ({_process.ExitCode}); it printed on stderr: {string.Join(" | ", Errors().TakeLast(20))}");
            }
        }

        public override Task FloodOverAsync()
        {
            _outputReader ??= Task.Run(() => FollowAsync(_process.StandardOutput)); // the unread pipe is read from now on
            return Task.CompletedTask;
        }

        public override void Sample()
        {
            if (Resident("VmRSS:") is long resident)
            {
                _peakResident = Math.Max(_peakResident, resident);
            }
        }

        public override async Task<FloodOutcome> FinishAsync(FloodOutcome outcome)
        {
            long peak = Math.Max(_peakResident, Resident("VmHWM:") ?? 0);
            using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            await _process.WaitForExitAsync().WaitAsync(Wait);
            await _errorReader.WaitAsync(Wait);
            if (_outputReader is not null)
            {
                await _outputReader.WaitAsync(Wait);
            }

            if (_outputFile is not null)
            {
                // Everything it wrote, now that it has exited.
                foreach (string line in File.ReadLines(_outputFile))
                {
                    Printed(line);
                }
            }

            string[] errors = Errors();
            var lost = new HashSet<ulong>();
            long droppedUnread = 0;
            foreach (string line in errors)
            {
                if (LegitimateLost().Match(line) is { Success: true } gap)
                {
                    ulong first = ulong.Parse(gap.Groups["first"].Value, CultureInfo.InvariantCulture);
                    ulong last = gap.Groups["last"].Success ? ulong.Parse(gap.Groups["last"].Value, CultureInfo.InvariantCulture) : first;
                    for (ulong n = first; n <= last; n++)
                    {
                        lost.Add(n);
                    }
                }
                else if (DroppedUnread().Match(line) is { Success: true } dropped)
                {
                    droppedUnread += long.Parse(dropped.Groups["n"].Value, CultureInfo.InvariantCulture);
                }
            }

            (long, long, long)? legitimate = errors.Select(line => LegitimateSummaryLine().Match(line)).Where(m => m.Success)
                .Select(m => ((long, long, long)?)(Number(m, "records"), Number(m, "datagrams"), Number(m, "duplicates")))
                .LastOrDefault();
            int summary = Array.FindLastIndex(errors, line => line.StartsWith("netconsole-listen: ", StringComparison.Ordinal) && line.Contains(" from ", StringComparison.Ordinal));
            return outcome with
            {
                Delivered = _delivered.Keys.ToHashSet(),
                PeakMemoryBytes = peak,
                ReportedLost = lost,
                ReportedDroppedUnread = droppedUnread,
                ExitCode = _process.ExitCode,
                LegitimateSummary = legitimate,
                Summary = summary < 0 ? [] : errors[summary..].Where(l => !l.StartsWith("  198.51.100.", StringComparison.Ordinal)).ToArray(),
            };
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            if (_outputFile is not null)
            {
                File.Delete(_outputFile);
            }
        }

        private string[] Errors()
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }

        private long? Resident(string field)
        {
            try
            {
                string? line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
                return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
            catch (IOException)
            {
                return null; // exited
            }
        }

        private async Task ReadErrorsAsync()
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_errors)
                {
                    // The spoofed senders' restarts (one a datagram: random numbers) are not kept.
                    if (!line.EndsWith("(the sender restarted)", StringComparison.Ordinal))
                    {
                        _errors.Add(line);
                    }
                }

                if (line.Contains("listening on", StringComparison.Ordinal))
                {
                    _listening.TrySetResult();
                }
            }

            _listening.TrySetException(new InvalidOperationException($"netconsole-listen ended before listening: {string.Join(" | ", Errors())}"));
        }

        private async Task FollowAsync(StreamReader output)
        {
            while (await output.ReadLineAsync() is { } line)
            {
                Printed(line);
            }
        }

        // Lines as they are written to the file, until the process has exited (then read whole).
        private async Task FollowFileAsync(string file)
        {
            await using var stream = new FileStream(file, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            byte[] buffer = new byte[1 << 16];
            var pending = new List<byte>();
            while (true)
            {
                int read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    if (_process.HasExited)
                    {
                        return;
                    }

                    await Task.Delay(20);
                    continue;
                }

                int from = 0;
                for (int i = 0; i < read; i++)
                {
                    if (buffer[i] == (byte)'\n')
                    {
                        pending.AddRange(buffer.AsSpan(from, i - from));
                        Printed(Encoding.UTF8.GetString(pending.ToArray()));
                        pending.Clear();
                        from = i + 1;
                    }
                }

                pending.AddRange(buffer.AsSpan(from, read - from));
            }
        }

        private void Printed(string line)
        {
            if (LegitimatePrinted().Match(line) is { Success: true } match)
            {
                _delivered[ulong.Parse(match.Groups["seq"].Value, CultureInfo.InvariantCulture)] = true;
            }
        }

        [GeneratedRegex(@"^192\.0\.2\.1:6665 seq=(?<seq>\d+) ")]
        private static partial Regex LegitimatePrinted();

        [GeneratedRegex(@"^192\.0\.2\.1:6665: \d+ records? lost \(seq (?<first>\d+)(?:-(?<last>\d+))?\)$")]
        private static partial Regex LegitimateLost();

        private static long Number(Match match, string group) => long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

        [GeneratedRegex(@"^  192\.0\.2\.1:6665: (?<records>\d+) records?, (?<datagrams>\d+) datagrams?, \d+ fragments?, \d+ lost, \d+ out of order, (?<duplicates>\d+) duplicates?, ")]
        private static partial Regex LegitimateSummaryLine();

        [GeneratedRegex(@"^netconsole-listen: (?<n>\d+) records? dropped unread")]
        private static partial Regex DroppedUnread();
    }
}
