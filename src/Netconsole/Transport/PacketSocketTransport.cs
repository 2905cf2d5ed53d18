using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Interop;

namespace Netconsole.Transport;

/// <summary>
/// Sends Ethernet frames on one network device through a Linux packet socket of its own
/// (AF_PACKET, SOCK_RAW, bound to the device's interface index): what libpcap's injection does,
/// without libpcap in the way, and batches with sendmmsg(2). Opened by
/// <see cref="PacketSocketTransportFactory"/>. Captures for next-hop resolution go through packet
/// sockets too (<see cref="PacketSocketFrameCapture"/>): on Linux nothing needs libpcap.
/// </summary>
/// <remarks>
/// Behaves as <see cref="SharpPcapTransport"/> does, error for error (what they share is
/// <see cref="InjectingTransport"/>): a device that is down fails sends with
/// <see cref="FrameTransportError.DeviceDown"/> and the transport stays usable (the first send
/// after it is up succeeds); a deleted device fails them with
/// <see cref="FrameTransportError.DeviceGone"/> for good; a frame the kernel drops for want of
/// buffer space (ENOBUFS) fails with <see cref="FrameTransportError.Other"/>.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class PacketSocketTransport : InjectingTransport, IFrameTransport
{
    private readonly SafeSocketHandle _socket;

    internal PacketSocketTransport(SafeSocketHandle socket, string deviceName, int deviceIndex, PhysicalAddress deviceMac, bool isLoopback, int maxFrameLength)
        : base(deviceName, deviceIndex, deviceMac, isLoopback, maxFrameLength)
    {
        _socket = socket;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Up to <see cref="PacketSocket.BatchCapacity"/> frames per sendmmsg(2) call, as many calls as
    /// it takes while every frame goes. The frames up to the first one longer than
    /// <see cref="InjectingTransport.MaxFrameLength"/> are sent; that one is refused before any
    /// system call when it comes first.
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
            int sendable = CountFitting(frameLengths, MaxFrameLength);
            if (sendable == 0)
            {
                RefuseIfTooLong(frameLengths[0]);
                // The MTU grew: the first frame fits now.
                sendable = CountFitting(frameLengths, MaxFrameLength);
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
            Exit();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"packet-socket transport on {DeviceName} ({DeviceMac})";

    /// <inheritdoc/>
    /// <remarks>
    /// No retry for a stale ENETDOWN, unlike <see cref="SharpPcapTransport"/>: Linux latches it
    /// (sk_err) only on a packet socket whose protocol hook is registered when its device goes
    /// down (net/packet/af_packet.c, packet_notifier), as libpcap's ETH_P_ALL socket's is; this
    /// socket's protocol is 0, so it has none, and a send fails with ENETDOWN only while the
    /// device is down. Checked: the first send after the device is up succeeds without a retry
    /// (FrameTransportTests, FrameBatchLabTests).
    /// </remarks>
    protected override void SendFrame(ReadOnlySpan<byte> frame)
    {
        int errno = PacketSocket.Send(_socket, frame);
        if (errno != 0)
        {
            throw Translate(errno, "send(2)", frame.Length);
        }
    }

    /// <inheritdoc/>
    protected override void CloseHandle() => _socket.Dispose();

    /// <inheritdoc/>
    /// <remarks>A packet socket of its own (<see cref="PacketSocketFrameCapture"/>): no libpcap on Linux, for sending or resolving.</remarks>
    protected override IFrameCapture OpenCaptureCore() => PacketSocketFrameCapture.Open(DeviceName, DeviceIndex!.Value);

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
        return Failed(translated, frameLength, translated.InnerException ?? translated);
    }
}
