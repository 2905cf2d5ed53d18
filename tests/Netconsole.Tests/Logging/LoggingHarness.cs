using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging;
using Netconsole.Devices;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Logging;

/// <summary>A device "veth0" on a <see cref="ManualDeviceWatcher"/> and transports that capture every frame (and can be held).</summary>
internal sealed class LoggingHarness : IDisposable
{
    public const string Extended = "+@/veth0,@192.0.2.2/";
    public const string Basic = "@/veth0,@192.0.2.2/";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int Ipv4Headers = 14 + 20 + 8;
    private static readonly IPEndPoint Sender = new(IPAddress.Parse("192.0.2.1"), 6665);

    private readonly StringWriter _standardError = new();

    public LoggingHarness(bool registerDevice = true)
    {
        StandardError = TextWriter.Synchronized(_standardError);
        if (registerDevice)
        {
            RegisterDevice();
        }
    }

    public ManualDeviceWatcher Watcher { get; } = new();

    public GatedTransportFactory Factory { get; } = new();

    /// <summary>The provider's standard error (its diagnostics when nothing else shows them): kept here, not printed.</summary>
    /// <remarks>A synchronized writer locks itself in each call (MethodImplOptions.Synchronized), so reading under that lock sees whole lines.</remarks>
    public TextWriter StandardError { get; }

    /// <summary>What the provider wrote to <see cref="StandardError"/>, a line each.</summary>
    public string[] StandardErrorLines()
    {
        lock (StandardError)
        {
            return _standardError.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    public void RegisterDevice() =>
        Watcher.Register("veth0", PhysicalAddress.Parse("02-00-00-00-00-0A"), [IPAddress.Parse("192.0.2.1")], up: true);

    public TargetManagerOptions ManagerOptions() => new() { Watcher = Watcher, TransportFactory = Factory };

    /// <summary>The text of a drop notice announcing <paramref name="dropped"/> drops, <paramref name="total"/> since start.</summary>
    public static string Notice(long dropped, long total) => $"netconsole: {dropped} records dropped (queue full), {total} since start";

    /// <summary>Holds the transport and logs r0 through <paramref name="logger"/>, returning once the sender is blocked sending it.</summary>
    public void BlockSenderOn(ILogger logger)
    {
        Factory.Hold();
        logger.LogInformation("r0");
        Factory.SendBlocked.Wait(Timeout).Should().BeTrue("the sender starts sending r0");
    }

    public NetconsoleLoggerOptions Options(params string[] targets)
    {
        // A fixed sequence base (first record 1) keeps the tests' sequence numbers exact; the
        // provider's own base is the clock (SequenceTests).
        var options = new NetconsoleLoggerOptions { ManagerOptions = ManagerOptions, SequenceBase = 0, StandardError = () => StandardError };
        foreach (string target in targets.Length == 0 ? [Extended] : targets)
        {
            options.Targets.Add(target);
        }

        return options;
    }

    public NetconsoleLoggerProvider Provider(params string[] targets) => new(Options(targets));

    /// <summary>Waits (at most <see cref="Timeout"/>) until the condition holds; false if it never did.</summary>
    public static bool WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Timeout)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    /// <summary>Every frame injected so far, reassembled into records (continued groups joined).</summary>
    public List<ReceivedRecord> Records()
    {
        var reassembler = new RecordReassembler();
        var records = new List<ReceivedRecord>();
        foreach (byte[] frame in Factory.Frames)
        {
            reassembler.Add(Sender, frame.AsSpan(Ipv4Headers), Stopwatch.GetTimestamp(), records);
        }

        reassembler.Flush(records);
        return records;
    }

    public List<string> Texts() => Records().Select(r => r.TextString).ToList();

    public void Dispose()
    {
        Factory.Release();
        Watcher.Dispose();
    }
}

/// <summary>Opens transports that keep every frame in one list and, while <see cref="Hold"/> is on, block each send until <see cref="Gate"/> opens.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The gate and the permits are released at the end of a test, never disposed: a send the provider left behind may still be on its way out of the gate.")]
internal sealed class GatedTransportFactory : IFrameTransportFactory
{
    private readonly ConcurrentQueue<byte[]> _frames = new();

    private readonly SemaphoreSlim _permits = new(0);
    private volatile bool _held;

    /// <summary>Set once <see cref="Release"/> lets every send through.</summary>
    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    /// <summary>Set when a send starts waiting at the closed gate.</summary>
    public SemaphoreSlim SendBlocked { get; } = new(0);

    public IReadOnlyList<byte[]> Frames => _frames.ToArray();

    /// <summary>The frame count of each <see cref="IFrameTransport.SendBatch"/> call, in order.</summary>
    public IReadOnlyList<int> Batches => _batches.ToArray();

    private readonly ConcurrentQueue<int> _batches = new();

    /// <summary>Forgets the frames kept so far (a memory test does not measure them).</summary>
    public void ForgetFrames() => _frames.Clear();

    /// <summary>Closes the gate: the next sends block until <see cref="Release"/>.</summary>
    public void Hold()
    {
        Gate.Reset();
        _held = true;
    }

    /// <summary>Lets exactly one held send through.</summary>
    public void Step() => _permits.Release();

    public void Release()
    {
        _held = false;
        Gate.Set();
        _permits.Release(1000);
    }

    /// <summary>When set, opening a transport throws it (permission denied, libpcap missing ...).</summary>
    public FrameTransportException? OpenFailure { get; set; }

    /// <summary>When set, every send throws it (a device set down: <see cref="FrameTransportError.DeviceDown"/>).</summary>
    public FrameTransportError? SendFailure { get; set; }

    public IFrameTransport Open(string deviceName) => OpenFailure is { } failure ? throw failure : new Transport(this, deviceName);

    private sealed class Transport(GatedTransportFactory factory, string deviceName) : IFrameTransport
    {
        public string DeviceName { get; } = deviceName;

        public PhysicalAddress DeviceMac { get; } = PhysicalAddress.Parse("02-00-00-00-00-01");

        public bool IsLoopback => false;

        public void EnsureCanReach(System.Net.IPAddress remoteAddress)
        {
        }

        public IFrameCapture? OpenCapture() => null; // cannot receive

        // As the interface's own (frame by frame through Send, each held at the gate); records the batch's size.
        public int SendBatch(ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths)
        {
            factory._batches.Enqueue(frameLengths.Length);
            return FrameBatch.SendEach(this, frames, frameLengths);
        }

        public void Send(ReadOnlySpan<byte> frame)
        {
            if (factory._held)
            {
                factory.SendBlocked.Release();
                factory._permits.Wait(TimeSpan.FromSeconds(30));
            }

            if (factory.SendFailure is { } error)
            {
                throw new FrameTransportException(error, DeviceName, $"fake {error}");
            }

            factory._frames.Enqueue(frame.ToArray());
        }

        public void Dispose()
        {
        }
    }
}
