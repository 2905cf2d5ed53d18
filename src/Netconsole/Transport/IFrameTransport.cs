using System.Net;
using System.Net.NetworkInformation;

namespace Netconsole.Transport;

/// <summary>
/// Puts whole Ethernet frames on one network device, bypassing the IP stack (libpcap injection
/// by default), and says what target setup needs to know about the device. One transport per
/// device; sends from several threads are safe.
/// </summary>
/// <remarks>
/// <para>
/// Setting a target up on a transport asks it, in this order: whether the target's remote can
/// be reached at all (<see cref="EnsureCanReach"/>); whether the device is a loopback device
/// (<see cref="IsLoopback"/>: frames then go to 00:00:00:00:00:00 and no next hop is resolved);
/// and, for a target that gives no remote MAC, whether the transport can show the frames that
/// arrive on the device (<see cref="OpenCapture"/>), so the next hop's MAC can be asked with ARP
/// or a Neighbor Solicitation when the OS neighbour table does not know it.
/// </para>
/// <para>
/// A transport that cannot receive frames returns <see langword="null"/> from
/// <see cref="OpenCapture"/>: its targets still get the neighbour table's answer, and when the
/// table knows nothing they send to broadcast with a state reason that says active resolution
/// was not possible with that transport.
/// </para>
/// </remarks>
public interface IFrameTransport : IDisposable
{
    /// <summary>The device's interface name when the transport was opened (for example <c>veth0</c>).</summary>
    string DeviceName { get; }

    /// <summary>The device's MAC address: the source MAC of the frames sent through it.</summary>
    PhysicalAddress DeviceMac { get; }

    /// <summary>
    /// True for a loopback device (Linux <c>lo</c>), which takes frames addressed to
    /// 00:00:00:00:00:00: targets on it send there and never resolve a next hop.
    /// </summary>
    bool IsLoopback { get; }

    /// <summary>
    /// Refuses a remote address that frames sent through this transport can never reach, so a
    /// target that could not work is not enabled. The libpcap transport refuses IPv4 on a loopback
    /// device: the kernel drops IPv4 frames injected on <c>lo</c> (martian source/destination
    /// filtering) before any socket sees them, while IPv6 ones to ::1 are delivered.
    /// </summary>
    /// <param name="remoteAddress">The target's remote address.</param>
    /// <exception cref="FrameTransportException">The address cannot be reached through this transport; the message says what to use instead.</exception>
    void EnsureCanReach(IPAddress remoteAddress);

    /// <summary>Sends one frame (Ethernet header included) as it is.</summary>
    /// <param name="frame">The frame.</param>
    /// <exception cref="FrameTransportException">The frame could not be sent; <see cref="FrameTransportException.Error"/> says why and whether the transport is still usable.</exception>
    void Send(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Sends frames in order, stopping at the first one that cannot be sent: the frames lie back to
    /// back in <paramref name="frames"/>, frame <c>i</c> being <c>frameLengths[i]</c> bytes long.
    /// </summary>
    /// <param name="frames">The frames (Ethernet headers included), one after the other.</param>
    /// <param name="frameLengths">The length of each frame, in bytes.</param>
    /// <returns>
    /// How many frames were sent: the first that many, all of them when none failed. When a frame
    /// after the first fails, the call returns how many went before it and does not say why: that
    /// frame was not sent; sending it again (first in the next batch) sends it, or throws the reason
    /// when the cause is still there (a device still down, a frame still too long).
    /// </returns>
    /// <remarks>
    /// The default implementation calls <see cref="Send"/> for each frame. The packet-socket
    /// transport (Linux) hands up to 64 frames to the kernel per system call (sendmmsg(2)).
    /// </remarks>
    /// <exception cref="ArgumentException">A length is shorter than an Ethernet header (14 bytes), or the lengths add up to more than <paramref name="frames"/> holds; nothing was sent.</exception>
    /// <exception cref="FrameTransportException">The first frame could not be sent (as <see cref="Send"/> throws for it); nothing was sent.</exception>
    int SendBatch(ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths) => FrameBatch.SendEach(this, frames, frameLengths);

    /// <summary>
    /// Starts capturing the frames that arrive on the device, for the ARP / Neighbor Discovery
    /// exchange of next-hop resolution: the requests go out through <see cref="Send"/>, the
    /// replies are read from the capture. Every frame that arrives after this returns is in the
    /// capture (see <see cref="IFrameCapture"/> for which frames it must hold).
    /// </summary>
    /// <returns>The capture (dispose it when done), or <see langword="null"/> when this transport cannot receive frames.</returns>
    /// <exception cref="FrameTransportException">The transport can receive, but the capture could not be opened (closed transport, device gone, no permission...).</exception>
    IFrameCapture? OpenCapture();
}
