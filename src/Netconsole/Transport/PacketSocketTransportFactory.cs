using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Devices;
using Netconsole.Interop;
using Netconsole.Wire;

namespace Netconsole.Transport;

/// <summary>
/// Opens <see cref="PacketSocketTransport"/>s (Linux): a packet socket per transport, bound to the
/// device's interface index. The Linux default (see <see cref="FrameTransports"/>).
/// </summary>
/// <remarks>
/// Needs the right to open packet sockets (root, or CAP_NET_RAW), and libpcap only for the
/// captures of next-hop resolution. Opening fails as the libpcap factory's does: a device that
/// does not exist, is down or is not Ethernet is refused with the same <see cref="FrameTransportError"/>.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class PacketSocketTransportFactory : IFrameTransportFactory
{
    private const int DefaultMtu = 1500;

    /// <summary>Opens the device named <paramref name="deviceName"/> for sending.</summary>
    /// <param name="deviceName">The interface name, for example <c>veth0</c> or <c>lo</c>.</param>
    /// <returns>The open transport; dispose it to close the socket.</returns>
    /// <exception cref="ArgumentException"><paramref name="deviceName"/> is null or empty.</exception>
    /// <exception cref="FrameTransportException">
    /// <see cref="FrameTransportError.PermissionDenied"/>, <see cref="FrameTransportError.NoSuchDevice"/>
    /// (the message lists the devices that exist), <see cref="FrameTransportError.DeviceDown"/>,
    /// <see cref="FrameTransportError.NotEthernet"/> or <see cref="FrameTransportError.Other"/>.
    /// </exception>
    public static PacketSocketTransport Open(string deviceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceName);
        NetworkDevice device = NetworkDevice.FindByName(deviceName) ?? throw NoSuchDevice(deviceName);
        SafeSocketHandle socket = PacketSocket.Open(device.Index, out int errno, out string failedCall)
            ?? throw PacketSocketErrors.Create(errno, failedCall, deviceName, PcapOperation.Open);
        try
        {
            (ushort hardwareType, byte[] address) = PacketSocket.Describe(socket) ?? throw NoSuchDevice(deviceName);
            if (hardwareType is not (PacketSocket.HardwareEthernet or PacketSocket.HardwareLoopback))
            {
                throw PcapErrors.Create(FrameTransportError.NotEthernet, deviceName, PcapOperation.Open, $"hardware type {hardwareType} (ARPHRD_*)");
            }

            // libpcap refuses a device that is down: so does this factory, for the same errors.
            if (!device.IsUp)
            {
                throw PcapErrors.Create(FrameTransportError.DeviceDown, deviceName, PcapOperation.Open, null);
            }

            int mtu = NetworkDevice.GetMtu(deviceName) ?? DefaultMtu;
            return new PacketSocketTransport(
                socket, deviceName, device.Index, new PhysicalAddress(address), hardwareType == PacketSocket.HardwareLoopback, mtu + Ethernet.HeaderLength);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    IFrameTransport IFrameTransportFactory.Open(string deviceName) => Open(deviceName);

    private static FrameTransportException NoSuchDevice(string deviceName) =>
        PcapErrors.Create(FrameTransportError.NoSuchDevice, deviceName, PcapOperation.Open, null, null, NetworkDevice.GetAllNames());
}
