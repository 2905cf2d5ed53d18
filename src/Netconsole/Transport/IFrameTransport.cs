using System.Net.NetworkInformation;

namespace Netconsole.Transport;

/// <summary>
/// Puts whole Ethernet frames on one network device, bypassing the IP stack (libpcap
/// injection by default). One transport per device; sends from several threads are safe.
/// </summary>
public interface IFrameTransport : IDisposable
{
    /// <summary>The device's interface name (for example <c>veth0</c>).</summary>
    string DeviceName { get; }

    /// <summary>The device's MAC address: the source MAC of the frames sent through it.</summary>
    PhysicalAddress DeviceMac { get; }

    /// <summary>Sends one frame (Ethernet header included) as it is.</summary>
    /// <param name="frame">The frame.</param>
    /// <exception cref="FrameTransportException">The frame could not be sent; <see cref="FrameTransportException.Error"/> says why and whether the transport is still usable.</exception>
    void Send(ReadOnlySpan<byte> frame);
}

/// <summary>Opens <see cref="IFrameTransport"/>s.</summary>
public interface IFrameTransportFactory
{
    /// <summary>Opens the device named <paramref name="deviceName"/> for injection only.</summary>
    /// <param name="deviceName">The interface name.</param>
    /// <returns>The open transport.</returns>
    /// <exception cref="FrameTransportException">The device could not be opened; the message says what to do.</exception>
    IFrameTransport Open(string deviceName);
}
