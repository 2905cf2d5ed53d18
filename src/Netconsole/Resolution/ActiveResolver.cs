using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Transport;

namespace Netconsole.Resolution;

/// <summary>
/// Resolves a neighbour's MAC actively: sends an ARP request (IPv4) or a Neighbor Solicitation
/// (IPv6) through a target's transport and reads the matching reply from the transport's capture,
/// with a bounded timeout and retransmissions. It never consults or changes the OS neighbour table.
/// </summary>
/// <remarks>
/// Outcomes: the neighbour's MAC; null when nothing answered within <c>timeout × attempts</c>
/// (never an exception); a <see cref="FrameTransportException"/> when a request cannot be sent
/// or the capture fails (the transport's own errors and messages: device down, device gone...).
/// So null always means "asked, and no one answered", and a caller can fall back to broadcast
/// only in that case. The capture must be open before the first request leaves, so no reply is
/// missed: the caller opens it (<see cref="IFrameTransport.OpenCapture"/>) and disposes it.
/// </remarks>
internal static class ActiveResolver
{
    // A reply is short (ARP 42 bytes, a Neighbor Advertisement with its option 86): the rest of a longer frame is not read.
    private const int FrameBytes = 256;

    /// <summary>
    /// Asks who has <paramref name="target"/> through <paramref name="transport"/> and returns the
    /// MAC that answered in <paramref name="capture"/>, or null when nothing answered.
    /// </summary>
    /// <param name="transport">The target's transport: the requests go out through it.</param>
    /// <param name="capture">The frames arriving on the transport's device, opened before this call.</param>
    /// <param name="sourceMac">The device's MAC: the requests' source (6 bytes).</param>
    /// <param name="source">
    /// Our address on the device, of the target's family: the ARP sender address, or the
    /// Neighbor Solicitation's IPv6 source.
    /// </param>
    /// <param name="target">The neighbour's address (the remote when on-link, else the gateway).</param>
    /// <param name="timeout">How long to wait for a reply after each request; positive.</param>
    /// <param name="attempts">How many requests to send at most, one per <paramref name="timeout"/>; at least 1.</param>
    /// <returns>The neighbour's MAC, or null when no reply came within <paramref name="timeout"/> × <paramref name="attempts"/>.</returns>
    /// <exception cref="ArgumentException">
    /// An argument is null or out of range, the MAC is not 6 bytes, or the addresses are not of
    /// one family (IPv4 or IPv6); checked before anything is sent.
    /// </exception>
    /// <exception cref="FrameTransportException">A request could not be sent, or the capture failed.</exception>
    public static PhysicalAddress? Resolve(
        IFrameTransport transport, IFrameCapture capture, PhysicalAddress sourceMac, IPAddress source, IPAddress target, TimeSpan timeout, int attempts)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(capture);
        ArgumentNullException.ThrowIfNull(sourceMac);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        if (source.AddressFamily != target.AddressFamily)
        {
            throw new ArgumentException($"The source {source} and the target {target} are not of one address family.", nameof(source));
        }

        bool ipv4 = target.AddressFamily switch
        {
            AddressFamily.InterNetwork => true,
            AddressFamily.InterNetworkV6 => false,
            _ => throw new ArgumentException($"Only IPv4 and IPv6 neighbours can be resolved; {target} is neither.", nameof(target)),
        };

        byte[] request = ipv4
            ? ArpFrames.BuildRequest(sourceMac, source, target)
            : NdpFrames.BuildSolicitation(sourceMac, source, target);
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            transport.Send(request);
            PhysicalAddress? mac = AwaitReply(capture, target, ipv4, timeout);
            if (mac is not null)
            {
                return mac;
            }
        }

        return null;
    }

    private static PhysicalAddress? AwaitReply(IFrameCapture capture, IPAddress target, bool ipv4, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        byte[] buffer = new byte[FrameBytes];
        TimeSpan left;
        while ((left = timeout - clock.Elapsed) > TimeSpan.Zero)
        {
            int length = capture.Receive(buffer, left);
            if (length == 0)
            {
                continue;
            }

            ReadOnlySpan<byte> frame = buffer.AsSpan(0, length);
            PhysicalAddress? mac = ipv4 ? ArpFrames.ParseReply(frame, target) : NdpFrames.ParseAdvertisement(frame, target);
            if (mac is not null)
            {
                return mac;
            }
        }

        return null;
    }
}
