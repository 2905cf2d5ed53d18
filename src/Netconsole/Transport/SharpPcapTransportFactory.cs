using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Wire;
using SharpPcap.LibPcap;
using SharpPcap;

namespace Netconsole.Transport;

/// <summary>
/// Opens <see cref="SharpPcapTransport"/>s: libpcap handles for injecting frames. The
/// default <see cref="IFrameTransportFactory"/> (<c>TargetManagerOptions.TransportFactory</c> left null).
/// </summary>
/// <remarks>
/// <para>
/// Needs the native libpcap (Debian/Ubuntu: libpcap0.8; Fedora: libpcap; Windows: Npcap)
/// and the right to open raw devices (root, or CAP_NET_RAW).
/// </para>
/// <para>
/// Each handle is opened for sending only: not promiscuous, a 64 KiB kernel buffer, a
/// 64-byte snapshot length and a capture filter that matches no frame, so the kernel never
/// queues received frames for it.
/// </para>
/// </remarks>
internal sealed class SharpPcapTransportFactory : IFrameTransportFactory
{
    private const int DataLinkEthernet = 1; // DLT_EN10MB

    // Matches frames of at most 1 byte: none. The kernel runs it before queueing anything.
    internal const string CaptureNothingFilter = "less 1";

    private const int KernelBufferBytes = 64 * 1024;
    private const int SnapshotLength = 64;
    private const int ReadTimeoutMilliseconds = 10;
    private const int DefaultMtu = 1500;
    private const uint PcapInterfaceLoopback = 0x1; // PCAP_IF_LOOPBACK

    /// <summary>Opens the device named <paramref name="deviceName"/> for injection only.</summary>
    /// <param name="deviceName">
    /// The interface name, for example <c>veth0</c> or <c>lo</c>; off Linux also the name the
    /// system gives the device where libpcap's differs (Windows: <c>Ethernet 2</c> for
    /// <c>\Device\NPF_{GUID}</c>).
    /// </param>
    /// <returns>The open transport; dispose it to close the handle.</returns>
    /// <exception cref="ArgumentException"><paramref name="deviceName"/> is null or empty.</exception>
    /// <exception cref="FrameTransportException">
    /// The device could not be opened: <see cref="FrameTransportError.LibpcapMissing"/>,
    /// <see cref="FrameTransportError.PermissionDenied"/>, <see cref="FrameTransportError.NoSuchDevice"/>
    /// (the message lists the devices that exist), <see cref="FrameTransportError.DeviceDown"/>
    /// (libpcap refuses to open a device that is down), <see cref="FrameTransportError.NotEthernet"/>
    /// or <see cref="FrameTransportError.Other"/>; the message says what to do.
    /// </exception>
    public static SharpPcapTransport Open(string deviceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceName);

        var configuration = new DeviceConfiguration
        {
            Mode = DeviceModes.None,
            Snaplen = SnapshotLength,
            ReadTimeout = ReadTimeoutMilliseconds,
            BufferSize = KernelBufferBytes,
        };
        (LibPcapLiveDevice device, PcapInterface pcapInterface, int? index) = OpenEthernet(deviceName, configuration, CaptureNothingFilter);
        try
        {
            int mtu = NetworkDevice.GetMtu(deviceName) ?? DefaultMtu;
            PhysicalAddress mac = pcapInterface.MacAddress ?? PhysicalAddress.None;
            bool isLoopback = (pcapInterface.Flags & PcapInterfaceLoopback) != 0;
            return new SharpPcapTransport(device, deviceName, index, mac, isLoopback, mtu + Ethernet.HeaderLength);
        }
        catch (Exception e)
        {
            device.Dispose();
            throw PcapErrors.Translate(e, deviceName, PcapOperation.Open);
        }
    }

    /// <summary>
    /// Opens a real Ethernet device of this namespace with <paramref name="configuration"/> and
    /// <paramref name="filter"/> (shared with the captures of next-hop resolution). Every failure is a
    /// <see cref="FrameTransportException"/>, and a device whose open failed is always disposed:
    /// SharpPcap leaves it half-open, reporting itself open and silently dropping every send.
    /// </summary>
    /// <returns>The open device, its libpcap interface and (Linux) its interface index.</returns>
    internal static (LibPcapLiveDevice Device, PcapInterface Interface, int? Index) OpenEthernet(string deviceName, DeviceConfiguration configuration, string filter)
    {
        PcapInterface pcapInterface;
        int? index;
        try
        {
            (pcapInterface, index) = FindInterface(deviceName);
        }
        catch (Exception e) when (e is not FrameTransportException)
        {
            throw PcapErrors.Translate(e, deviceName, PcapOperation.Open);
        }

        var device = new LibPcapLiveDevice(pcapInterface);
        try
        {
            device.Open(configuration);
            // libpcap's data link type, DLT_EN10MB (1) for Ethernet; compared as a number so the
            // library needs nothing of PacketDotNet (frames are built by FrameBuilder).
            int linkType = (int)device.LinkType;
            if (linkType != DataLinkEthernet)
            {
                throw PcapErrors.Create(
                    FrameTransportError.NotEthernet, deviceName, PcapOperation.Open, $"link type {linkType} ({device.LinkType})");
            }

            device.Filter = filter;
            return (device, pcapInterface, index);
        }
        catch (Exception e)
        {
            device.Dispose();
            throw PcapErrors.Translate(e, deviceName, PcapOperation.Open);
        }
    }

    /// <inheritdoc/>
    IFrameTransport IFrameTransportFactory.Open(string deviceName) => Open(deviceName);

    /// <summary>The libpcap interface of a real network device of this namespace, and (Linux) its interface index.</summary>
    private static (PcapInterface Interface, int? Index) FindInterface(string deviceName)
    {
        // libpcap also lists pseudo-devices (any, nflog, dbus-system, ...): on Linux only a
        // real network device of the caller's namespace may be opened.
        int? index = null;
        if (HostPlatform.IsLinux)
        {
            index = NetworkDevice.FindByName(deviceName)?.Index ?? throw NoSuchDevice(deviceName);
        }

        IReadOnlyList<PcapInterface> candidates = PcapInterface.GetAllPcapInterfaces();
        int found = IndexOfDevice([.. candidates.Select(c => (c.Name, (string?)c.FriendlyName))], deviceName, HostPlatform.IsLinux);
        return found >= 0 ? (candidates[found], index) : throw NoSuchDevice(deviceName);
    }

    /// <summary>
    /// Which of libpcap's interfaces (its name, and SharpPcap's friendly name: the system's name
    /// for the device) <paramref name="deviceName"/> is, or -1. Its libpcap name first; off Linux
    /// then its friendly name, since on Windows devices are known by their connection name
    /// (<c>Ethernet 2</c>) and libpcap lists them by their Npcap name (<c>\Device\NPF_{GUID}</c>).
    /// </summary>
    internal static int IndexOfDevice(IReadOnlyList<(string Name, string? FriendlyName)> candidates, string deviceName, bool linux)
    {
        for (int i = 0; i < candidates.Count; i++)
        {
            if (string.Equals(candidates[i].Name, deviceName, StringComparison.Ordinal))
            {
                return i;
            }
        }

        if (!linux)
        {
            for (int i = 0; i < candidates.Count; i++)
            {
                if (string.Equals(candidates[i].FriendlyName, deviceName, StringComparison.Ordinal))
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static FrameTransportException NoSuchDevice(string deviceName) =>
        PcapErrors.Create(FrameTransportError.NoSuchDevice, deviceName, PcapOperation.Open, null, null, NetworkDevice.GetAllNames());
}
