namespace Netconsole.Transport;

/// <summary>Opens <see cref="IFrameTransport"/>s (<c>TargetManagerOptions.TransportFactory</c>; <see langword="null"/> there opens them on Linux through packet sockets, unless the environment variable <c>NETCONSOLE_TRANSPORT</c> is <c>libpcap</c>, and elsewhere through libpcap).</summary>
public interface IFrameTransportFactory
{
    /// <summary>Opens the device named <paramref name="deviceName"/> for sending frames.</summary>
    /// <param name="deviceName">The interface name.</param>
    /// <returns>The open transport.</returns>
    /// <exception cref="FrameTransportException">The device could not be opened; the message says what to do.</exception>
    IFrameTransport Open(string deviceName);
}
