using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Interop;

namespace Netconsole.Transport;

/// <summary>
/// The frames arriving on a device, through a packet socket of their own (Linux): what
/// the packet-socket transport's <c>OpenCapture</c> gives next-hop resolution, so that on Linux
/// neither sending nor resolving needs libpcap. A classic BPF filter (ARP or ICMPv6, as the
/// libpcap capture's) is attached before the socket is bound to the device's interface index, so
/// the kernel queues nothing else for it, and a rename does not move it to another device.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PacketSocketFrameCapture : IFrameCapture
{
    private readonly SafeSocketHandle _socket;
    private readonly string _deviceName;

    private PacketSocketFrameCapture(SafeSocketHandle socket, string deviceName)
    {
        _socket = socket;
        _deviceName = deviceName;
    }

    /// <summary>Opens a capture on the device with interface index <paramref name="deviceIndex"/>.</summary>
    /// <exception cref="FrameTransportException">The socket could not be opened: <see cref="FrameTransportError.DeviceGone"/> when no device has the index any more, else as the transport's own open fails (no permission ...).</exception>
    public static PacketSocketFrameCapture Open(string deviceName, int deviceIndex)
    {
        SafeSocketHandle? socket = PacketSocket.OpenCapture(deviceIndex, out int errno, out string failedCall);
        if (socket is null)
        {
            // The transport's device is gone (its index with it), as the libpcap capture says it.
            throw errno is PacketSocketErrors.NoSuchDevice or PacketSocketErrors.NoSuchDeviceOrAddress
                ? PcapErrors.Create(FrameTransportError.DeviceGone, deviceName, PcapOperation.Open, "no device has its interface index any more")
                : PacketSocketErrors.Create(errno, failedCall, deviceName, PcapOperation.Open);
        }

        return new PacketSocketFrameCapture(socket, deviceName);
    }

    /// <inheritdoc/>
    public int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        int milliseconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
        int length = PacketSocket.Receive(_socket, buffer, milliseconds, out int errno);
        return length >= 0 ? length : throw PacketSocketErrors.Create(errno, "recv(2)", _deviceName, PcapOperation.Send);
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _socket.Dispose();
}
