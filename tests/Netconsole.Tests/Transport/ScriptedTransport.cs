using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Transport;

namespace Netconsole.Tests.Transport;

/// <summary>
/// A transport that answers its own frames: what <see cref="Responder"/> returns for a sent frame
/// arrives in the capture (when the transport can receive). Records what was sent and how many
/// captures were opened.
/// </summary>
internal sealed class ScriptedTransport(bool canReceive = true) : IFrameTransport
{
    private readonly ConcurrentQueue<byte[]> _sent = new();
    private ScriptedCapture? _capture;
    private int _capturesOpened;

    public string DeviceName => "veth-scripted";

    public PhysicalAddress DeviceMac { get; } = PhysicalAddress.Parse("02-00-00-00-00-01");

    public bool IsLoopback { get; init; }

    /// <summary>When set, <see cref="OpenCapture"/> throws it (libpcap missing, for a packet-socket transport).</summary>
    public FrameTransportException? CaptureFailure { get; init; }

    /// <summary>When set, <see cref="EnsureCanReach"/> throws it.</summary>
    public FrameTransportException? Unreachable { get; init; }

    /// <summary>Given a sent frame, the frames that arrive in answer (none by default).</summary>
    public Func<byte[], IEnumerable<byte[]>> Responder { get; set; } = _ => [];

    public IReadOnlyList<byte[]> Sent => [.. _sent];

    public int CapturesOpened => Volatile.Read(ref _capturesOpened);

    public void EnsureCanReach(IPAddress remoteAddress)
    {
        if (Unreachable is { } refusal)
        {
            throw refusal;
        }
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        byte[] copy = frame.ToArray();
        _sent.Enqueue(copy);
        if (_capture is { } capture)
        {
            foreach (byte[] answer in Responder(copy))
            {
                capture.Arrive(answer);
            }
        }
    }

    public IFrameCapture? OpenCapture()
    {
        if (CaptureFailure is { } failure)
        {
            throw failure;
        }

        if (!canReceive)
        {
            return null;
        }

        Interlocked.Increment(ref _capturesOpened);
        return _capture = new ScriptedCapture(() => _capture = null);
    }

    public void Dispose()
    {
    }

    private sealed class ScriptedCapture(Action disposed) : IFrameCapture
    {
        private readonly BlockingCollection<byte[]> _frames = [];

        public void Arrive(byte[] frame) => _frames.Add(frame);

        public int Receive(Span<byte> buffer, TimeSpan timeout)
        {
            if (!_frames.TryTake(out byte[]? frame, timeout))
            {
                return 0;
            }

            int length = Math.Min(frame.Length, buffer.Length);
            frame.AsSpan(0, length).CopyTo(buffer);
            return length;
        }

        public void Dispose()
        {
            disposed();
            _frames.Dispose();
        }
    }
}
