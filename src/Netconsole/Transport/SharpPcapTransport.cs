using System.Net.NetworkInformation;
using SharpPcap.LibPcap;
using SharpPcap;

namespace Netconsole.Transport;

/// <summary>
/// Injects Ethernet frames on one network device through libpcap (SharpPcap): the default
/// <see cref="IFrameTransport"/>. Opened by <see cref="SharpPcapTransportFactory"/>; one libpcap
/// handle per transport, used for sending only (captures for next-hop resolution open their own,
/// <see cref="SharpPcapFrameCapture"/>).
/// </summary>
/// <remarks>
/// <para>
/// Sends from several threads, disposal, MTU and reachability as every injecting transport
/// (<see cref="InjectingTransport"/>). Failures keep the transport usable
/// (<see cref="FrameTransportError.DeviceDown"/>, <see cref="FrameTransportError.FrameTooLong"/>)
/// or end it for good (<see cref="FrameTransportError.DeviceGone"/>: a libpcap handle never
/// survives its device being deleted, even when a device of the same name comes back; open a
/// new one).
/// </para>
/// </remarks>
internal sealed class SharpPcapTransport : InjectingTransport
{
    private readonly LibPcapLiveDevice _device;

    internal SharpPcapTransport(LibPcapLiveDevice device, string deviceName, int? deviceIndex, PhysicalAddress deviceMac, bool isLoopback, int maxFrameLength)
        : base(deviceName, deviceIndex, deviceMac, isLoopback, maxFrameLength)
    {
        _device = device;
    }

    /// <inheritdoc/>
    public override string ToString() => $"libpcap transport on {DeviceName} ({DeviceMac})";

    /// <inheritdoc/>
    protected override void SendFrame(ReadOnlySpan<byte> frame)
    {
        try
        {
            _device.SendPacket(frame);
        }
        catch (PcapException e) when (PcapErrors.IsNetworkDown(e))
        {
            // Linux's AF_PACKET sockets latch ENETDOWN when their device goes down and report
            // it on the next send, even when the device is up again by then: one immediate
            // retry tells that stale error from a device that is still down.
            try
            {
                _device.SendPacket(frame);
            }
            catch (PcapException again)
            {
                throw Failed(PcapErrors.Translate(again, DeviceName, PcapOperation.Send), frame.Length, again);
            }
        }
        catch (PcapException e)
        {
            throw Failed(PcapErrors.Translate(e, DeviceName, PcapOperation.Send), frame.Length, e);
        }
    }

    /// <inheritdoc/>
    protected override void CloseHandle() => _device.Dispose();
}
