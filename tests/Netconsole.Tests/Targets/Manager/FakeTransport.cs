using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Opens <see cref="FakeTransport"/>s; can refuse, or hold an open until released.</summary>
internal sealed class FakeTransportFactory : IFrameTransportFactory
{
    public static readonly PhysicalAddress TransportMac = PhysicalAddress.Parse("02-00-00-00-00-01");

    private readonly ConcurrentQueue<FakeTransport> _opened = new();
    private readonly ConcurrentDictionary<FakeTransport, bool> _live = new();
    private int _opens;

    /// <summary>When set, Open throws it.</summary>
    public FrameTransportException? OpenError { get; set; }

    /// <summary>When set, Open signals <see cref="OpenEntered"/> and waits for this gate.</summary>
    public ManualResetEventSlim? OpenGate { get; set; }

    public ManualResetEventSlim OpenEntered { get; } = new();

    /// <summary>Keep each frame's bytes (off in the race test).</summary>
    public bool KeepFrames { get; set; } = true;

    public int Opens => Volatile.Read(ref _opens);

    public IReadOnlyList<FakeTransport> Opened => _opened.ToArray();

    public FakeTransport Last => _opened.Last();

    /// <summary>The transports opened and not disposed yet.</summary>
    public IReadOnlyCollection<FakeTransport> Live => (IReadOnlyCollection<FakeTransport>)_live.Keys;

    public IFrameTransport Open(string deviceName)
    {
        Interlocked.Increment(ref _opens);
        if (OpenGate is { } gate)
        {
            OpenEntered.Set();
            gate.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("the test releases the open");
        }

        if (OpenError is { } error)
        {
            throw error;
        }

        var transport = new FakeTransport(deviceName, TransportMac, KeepFrames, t => _live.TryRemove(t, out _));
        _live[transport] = true;
        _opened.Enqueue(transport);
        return transport;
    }
}

/// <summary>Records the frames it is given; can be told to fail every send with one error. Cannot receive frames.</summary>
internal sealed class FakeTransport : IFrameTransport
{
    private readonly bool _keepFrames;
    private readonly Action<FakeTransport>? _disposed;
    private readonly ConcurrentQueue<byte[]> _frames = new();
    private long _sent;
    private int _isDisposed;
    private FrameTransportError? _fail;

    public FakeTransport(string deviceName, PhysicalAddress mac, bool keepFrames, Action<FakeTransport>? disposed = null)
    {
        _disposed = disposed;
        DeviceName = deviceName;
        DeviceMac = mac;
        _keepFrames = keepFrames;
    }

    public string DeviceName { get; }

    public PhysicalAddress DeviceMac { get; }

    public bool IsLoopback => false;

    public IReadOnlyList<byte[]> Frames => _frames.ToArray();

    public long Sent => Interlocked.Read(ref _sent);

    public bool IsDisposed => Volatile.Read(ref _isDisposed) != 0;

    /// <summary>Every send fails with this error while set.</summary>
    public FrameTransportError? Fail
    {
        get => _fail;
        set => _fail = value;
    }

    /// <summary>Every send throws this (not a transport error) while set.</summary>
    public Exception? ThrowOnSend { get; set; }

    /// <summary>The frame count of each <see cref="SendBatch"/> call, in order.</summary>
    public IReadOnlyList<int> Batches
    {
        get
        {
            lock (_batches)
            {
                return [.. _batches];
            }
        }
    }

    /// <summary>
    /// Fails the sends with these attempt numbers (0 for the first frame this transport is given;
    /// failed attempts count too) with <see cref="FailAttemptsWith"/>: {3} fails the 4th frame once
    /// (a batch then returns short and the frame, tried again first in the next, goes); {3, 4}
    /// fails it again when it is tried again (the batch's next call throws the reason).
    /// </summary>
    public IReadOnlySet<long> FailAttempts { get; set; } = new HashSet<long>();

    /// <summary>The error of <see cref="FailAttempts"/>.</summary>
    public FrameTransportError FailAttemptsWith { get; set; } = FrameTransportError.Other;

    private readonly List<int> _batches = [];
    private long _attempts;

    /// <summary>As the interface's own: frame by frame through <see cref="Send"/>; records the batch's size.</summary>
    public int SendBatch(ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths)
    {
        lock (_batches)
        {
            _batches.Add(frameLengths.Length);
        }

        return FrameBatch.SendEach(this, frames, frameLengths);
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        long attempt = Interlocked.Increment(ref _attempts) - 1;
        if (FailAttempts.Contains(attempt))
        {
            throw new FrameTransportException(FailAttemptsWith, DeviceName, $"fake {FailAttemptsWith}, attempt {attempt}");
        }

        if (IsDisposed)
        {
            throw new FrameTransportException(FrameTransportError.Closed, DeviceName, "the fake transport was disposed");
        }

        if (ThrowOnSend is { } exception)
        {
            throw exception;
        }

        if (_fail is { } error)
        {
            throw new FrameTransportException(error, DeviceName, $"fake {error}");
        }

        if (_keepFrames)
        {
            _frames.Enqueue(frame.ToArray());
        }

        Interlocked.Increment(ref _sent);
    }

    public void EnsureCanReach(System.Net.IPAddress remoteAddress)
    {
    }

    /// <summary>A fake transport cannot receive: setup gets the neighbour table only.</summary>
    public IFrameCapture? OpenCapture() => null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _isDisposed, 1) == 0)
        {
            _disposed?.Invoke(this);
        }
    }
}
