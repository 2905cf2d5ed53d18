using System.Net.NetworkInformation;
using Netconsole.Transport;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// One of the library's own transport factories (libpcap unless told otherwise), plus a tap:
/// while <see cref="Recording"/> is set, every frame a target sends is also copied into it. That
/// gives the harness exactly the frames the library produced for a run of records, to replay
/// through the very transport the target uses (<see cref="LastOpened"/>), a raw packet socket and
/// a UDP socket.
/// </summary>
internal sealed class RecordingTransportFactory(Func<string, IFrameTransport>? open = null) : IFrameTransportFactory
{
    private readonly Func<string, IFrameTransport> _open = open ?? SharpPcapTransportFactory.Open;
    private List<byte[]>? _recording;

    /// <summary>Where frames are copied to while set; null (the default) to stop copying.</summary>
    public List<byte[]>? Recording
    {
        get => Volatile.Read(ref _recording);
        set => Volatile.Write(ref _recording, value);
    }

    /// <summary>The transport most recently opened through this factory (without the tap).</summary>
    public IFrameTransport? LastOpened { get; private set; }

    /// <inheritdoc/>
    public IFrameTransport Open(string deviceName)
    {
        IFrameTransport transport = _open(deviceName);
        LastOpened = transport;
        return new Tap(transport, this);
    }

    private sealed class Tap(IFrameTransport inner, RecordingTransportFactory owner) : IFrameTransport
    {
        public string DeviceName => inner.DeviceName;

        public PhysicalAddress DeviceMac => inner.DeviceMac;

        public bool IsLoopback => inner.IsLoopback;

        public void EnsureCanReach(System.Net.IPAddress remoteAddress) => inner.EnsureCanReach(remoteAddress);

        public IFrameCapture? OpenCapture() => inner.OpenCapture();

        public void Send(ReadOnlySpan<byte> frame)
        {
            if (owner.Recording is { } recording)
            {
                lock (recording)
                {
                    recording.Add(frame.ToArray());
                }
            }

            inner.Send(frame);
        }

        // Batches go to the inner transport as batches (sendmmsg with the packet socket); the
        // frames handed over are copied first, as Send copies its one.
        public int SendBatch(ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths)
        {
            if (owner.Recording is { } recording)
            {
                lock (recording)
                {
                    int offset = 0;
                    foreach (int length in frameLengths)
                    {
                        recording.Add(frames.Slice(offset, length).ToArray());
                        offset += length;
                    }
                }
            }

            return inner.SendBatch(frames, frameLengths);
        }

        public void Dispose() => inner.Dispose();
    }
}
