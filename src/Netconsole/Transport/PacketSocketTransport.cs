using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Devices;
using Netconsole.Interop;
using Netconsole.Wire;

namespace Netconsole.Transport;

/// <summary>
/// Sends Ethernet frames on one network device through a Linux packet socket of its own
/// (AF_PACKET, SOCK_RAW, bound to the device's interface index): what libpcap's injection does,
/// without libpcap in the way, and batches with sendmmsg(2). Opened by
/// <see cref="PacketSocketTransportFactory"/>. Captures for next-hop resolution still go through
/// libpcap (<see cref="SharpPcapFrameCapture"/>).
/// </summary>
/// <remarks>
/// Behaves as <see cref="SharpPcapTransport"/> does, error for error: sends from several threads,
/// racing <see cref="Dispose"/> safely (<see cref="FrameTransportError.Closed"/> after it); a frame
/// longer than the MTU (read again first) refused before the system call; a device that is down
/// fails sends with <see cref="FrameTransportError.DeviceDown"/> and the transport stays usable
/// (the first send after it is up succeeds);
/// a deleted device fails them with <see cref="FrameTransportError.DeviceGone"/> for good; a frame
/// the kernel drops for want of buffer space (ENOBUFS) fails with <see cref="FrameTransportError.Other"/>.
/// A send allocates nothing unless it fails.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class PacketSocketTransport : IFrameTransport
{
    // As in SharpPcapTransport: added to the in-flight count by Dispose.
    private const int Closing = int.MinValue;

    private readonly SafeSocketHandle _socket;
    private int _maxFrameLength;
    private int _sendsInFlight;
    private int _disposed;
    private volatile bool _gone;

    internal PacketSocketTransport(SafeSocketHandle socket, string deviceName, int deviceIndex, PhysicalAddress deviceMac, bool isLoopback, int maxFrameLength)
    {
        _socket = socket;
        DeviceName = deviceName;
        DeviceIndex = deviceIndex;
        DeviceMac = deviceMac;
        IsLoopback = isLoopback;
        _maxFrameLength = maxFrameLength;
    }

    /// <inheritdoc/>
    public string DeviceName { get; }

    /// <summary>The device's interface index: the socket is bound to it, and stays so across renames.</summary>
    public int DeviceIndex { get; }

    /// <inheritdoc/>
    /// <remarks>00:00:00:00:00:00 for <c>lo</c>.</remarks>
    public PhysicalAddress DeviceMac { get; }

    /// <inheritdoc/>
    /// <remarks>The device's hardware type is ARPHRD_LOOPBACK (<c>lo</c>); see <see cref="EnsureCanReach"/>.</remarks>
    public bool IsLoopback { get; }

    /// <summary>
    /// The longest frame the device takes, in bytes: its MTU plus the 14-byte Ethernet header.
    /// Read when the transport was opened, again before a longer frame is refused, and when the
    /// kernel refuses one as too long.
    /// </summary>
    public int MaxFrameLength => Volatile.Read(ref _maxFrameLength);

    /// <inheritdoc/>
    /// <remarks>
    /// No retry for a stale ENETDOWN, unlike <see cref="SharpPcapTransport"/>: Linux latches it
    /// (sk_err) only on a packet socket whose protocol hook is registered when its device goes
    /// down (net/packet/af_packet.c, packet_notifier), as libpcap's ETH_P_ALL socket's is; this
    /// socket's protocol is 0, so it has none, and a send fails with ENETDOWN only while the
    /// device is down. Checked: the first send after the device is up succeeds without a retry
    /// (FrameTransportTests, FrameBatchLabTests).
    /// </remarks>
    /// <exception cref="ArgumentException">The frame is shorter than an Ethernet header (14 bytes).</exception>
    public void Send(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < Ethernet.HeaderLength)
        {
            throw new ArgumentException(
                $"A frame is at least an Ethernet header ({Ethernet.HeaderLength} bytes); this one is {frame.Length} bytes.", nameof(frame));
        }

        Enter();
        try
        {
            if (frame.Length > Volatile.Read(ref _maxFrameLength))
            {
                RefuseIfTooLong(frame.Length);
            }

            int errno = PacketSocket.Send(_socket, frame);
            if (errno != 0)
            {
                throw Translate(errno, "send(2)", frame.Length);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _sendsInFlight);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Up to <see cref="PacketSocket.BatchCapacity"/> frames per sendmmsg(2) call, as many calls as
    /// it takes while every frame goes. The frames up to the first one longer than
    /// <see cref="MaxFrameLength"/> are sent; that one is refused before any system call when it
    /// comes first.
    /// </remarks>
    public int SendBatch(ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths)
    {
        FrameBatch.Validate(frames, frameLengths);
        if (frameLengths.IsEmpty)
        {
            return 0;
        }

        Enter();
        try
        {
            int sendable = CountFitting(frameLengths, Volatile.Read(ref _maxFrameLength));
            if (sendable == 0)
            {
                RefuseIfTooLong(frameLengths[0]);
                // The MTU grew: the first frame fits now.
                sendable = CountFitting(frameLengths, Volatile.Read(ref _maxFrameLength));
            }

            int sent = 0;
            int offset = 0;
            while (sent < sendable)
            {
                int chunk = Math.Min(sendable - sent, PacketSocket.BatchCapacity);
                int went = PacketSocket.SendBatch(_socket, frames[offset..], frameLengths.Slice(sent, chunk), out int errno);
                if (went < 0)
                {
                    if (sent > 0)
                    {
                        return sent;
                    }

                    throw Translate(errno, "sendmmsg(2)", frameLengths[0]);
                }

                for (int i = sent; i < sent + went; i++)
                {
                    offset += frameLengths[i];
                }

                sent += went;
                if (went < chunk)
                {
                    // The kernel stopped at a frame it refused and forgot why: the caller learns it
                    // by sending that frame again.
                    return sent;
                }
            }

            return sent;
        }
        finally
        {
            Interlocked.Decrement(ref _sendsInFlight);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="FrameTransportException">
    /// The address is IPv4 and the device is a loopback device
    /// (<see cref="FrameTransportError.Other"/>; the message says what to use instead).
    /// </exception>
    public void EnsureCanReach(IPAddress remoteAddress)
    {
        FrameTransportException? refusal = PcapErrors.CheckReachable(DeviceName, IsLoopback, remoteAddress);
        if (refusal is not null)
        {
            throw refusal;
        }
    }

    /// <inheritdoc/>
    /// <remarks>A libpcap capture, as <see cref="SharpPcapTransport.OpenCapture"/> opens: the packet socket receives nothing.</remarks>
    /// <returns>The capture; never <see langword="null"/>.</returns>
    public IFrameCapture OpenCapture()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw PcapErrors.Create(FrameTransportError.Closed, DeviceName, PcapOperation.Open, null);
        }

        return SharpPcapFrameCapture.Open(DeviceName, DeviceIndex);
    }

    /// <summary>Waits for the sends in flight, then closes the socket. Calling it again does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Add(ref _sendsInFlight, Closing);
        var wait = default(SpinWait);
        while (Volatile.Read(ref _sendsInFlight) != Closing)
        {
            wait.SpinOnce();
        }

        _socket.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"packet-socket transport on {DeviceName} ({DeviceMac})";

    // Counts a send in flight, or throws when the transport is closed or its device gone.
    private void Enter()
    {
        if (Interlocked.Increment(ref _sendsInFlight) < 0)
        {
            Interlocked.Decrement(ref _sendsInFlight);
            throw PcapErrors.Create(FrameTransportError.Closed, DeviceName, PcapOperation.Send, null);
        }

        if (_gone)
        {
            Interlocked.Decrement(ref _sendsInFlight);
            throw PcapErrors.Create(FrameTransportError.DeviceGone, DeviceName, PcapOperation.Send, "an earlier send found it gone");
        }
    }

    // How many frames from the first are at most maxFrameLength bytes long.
    private static int CountFitting(ReadOnlySpan<int> frameLengths, int maxFrameLength)
    {
        int count = 0;
        while (count < frameLengths.Length && frameLengths[count] <= maxFrameLength)
        {
            count++;
        }

        return count;
    }

    private FrameTransportException Translate(int errno, string call, int frameLength)
    {
        FrameTransportException translated = PacketSocketErrors.Create(errno, call, DeviceName, PcapOperation.Send);
        switch (translated.Error)
        {
            case FrameTransportError.DeviceGone:
                // The socket's device is gone for good: a device of the same name has another index.
                _gone = true;
                break;
            case FrameTransportError.FrameTooLong:
                // The MTU went down since it was read.
                if (NetworkDevice.GetMtu(DeviceName) is { } mtu)
                {
                    Volatile.Write(ref _maxFrameLength, mtu + Ethernet.HeaderLength);
                }

                return PcapErrors.Create(
                    FrameTransportError.FrameTooLong, DeviceName, PcapOperation.Send, $"{frameLength} bytes: {translated.InnerException!.Message}", translated.InnerException);
        }

        return translated;
    }

    private void RefuseIfTooLong(int frameLength)
    {
        // The MTU may have grown since it was read: read it again before refusing.
        if (NetworkDevice.GetMtu(DeviceName) is { } mtu)
        {
            Volatile.Write(ref _maxFrameLength, mtu + Ethernet.HeaderLength);
        }

        int max = Volatile.Read(ref _maxFrameLength);
        if (frameLength > max)
        {
            throw PcapErrors.Create(
                FrameTransportError.FrameTooLong,
                DeviceName,
                PcapOperation.Send,
                $"{frameLength} bytes; {DeviceName} takes at most {max}: MTU {max - Ethernet.HeaderLength} + {Ethernet.HeaderLength}");
        }
    }
}
