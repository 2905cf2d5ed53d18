namespace Netconsole.Transport;

/// <summary>
/// The frames that arrive on a transport's device, from the moment
/// <see cref="IFrameTransport.OpenCapture"/> returned until the capture is disposed: where
/// next-hop resolution reads ARP replies and Neighbor Advertisements. One reader at a time.
/// </summary>
/// <remarks>
/// A capture must hold every ARP frame and every IPv6 frame carrying ICMPv6 that arrives on the
/// device. It may hold other frames too (the resolver skips whatever does not answer its
/// request) or leave them out (the libpcap capture has the kernel filter them out).
/// </remarks>
public interface IFrameCapture : IDisposable
{
    /// <summary>
    /// Waits at most <paramref name="timeout"/> for the next frame and copies it, Ethernet header
    /// first, into <paramref name="buffer"/> (cut to the buffer's length). Returns as soon as a
    /// frame is there.
    /// </summary>
    /// <param name="buffer">Where the frame goes.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> only takes a frame that is already waiting.</param>
    /// <returns>The number of bytes copied; 0 when no frame arrived in time.</returns>
    /// <exception cref="FrameTransportException">The capture failed (the device went away, the capture was disposed...).</exception>
    int Receive(Span<byte> buffer, TimeSpan timeout);
}
