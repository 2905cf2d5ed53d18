using System.Net.NetworkInformation;
using System.Net;
using Netconsole.Devices;
using Netconsole.Wire;
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
/// <see cref="Send"/> may be called from several threads at once and never races
/// <see cref="Dispose"/>: Dispose waits for the sends in flight, then closes the handle;
/// a send after that throws <see cref="FrameTransportException"/> with
/// <see cref="FrameTransportError.Closed"/>. A send allocates nothing unless it fails.
/// </para>
/// <para>
/// Failures keep the transport usable (<see cref="FrameTransportError.DeviceDown"/>,
/// <see cref="FrameTransportError.FrameTooLong"/>) or end it for good
/// (<see cref="FrameTransportError.DeviceGone"/>: a libpcap handle never survives its
/// device being deleted, even when a device of the same name comes back; open a new one).
/// </para>
/// </remarks>
internal sealed class SharpPcapTransport : IFrameTransport
{
    // Added to the in-flight count by Dispose: the count turns negative, so new sends see
    // the transport closed, and it is exactly this value once the last send has left.
    private const int Closing = int.MinValue;

    private readonly LibPcapLiveDevice _device;
    private int _maxFrameLength;
    private int _sendsInFlight;
    private int _disposed;
    private volatile bool _gone;

    internal SharpPcapTransport(LibPcapLiveDevice device, string deviceName, int? deviceIndex, PhysicalAddress deviceMac, bool isLoopback, int maxFrameLength)
    {
        _device = device;
        DeviceName = deviceName;
        DeviceIndex = deviceIndex;
        DeviceMac = deviceMac;
        IsLoopback = isLoopback;
        _maxFrameLength = maxFrameLength;
    }

    /// <inheritdoc/>
    public string DeviceName { get; }

    /// <summary>The device's interface index when it was opened (Linux; null elsewhere): the handle stays bound to it across renames.</summary>
    public int? DeviceIndex { get; }

    /// <inheritdoc/>
    /// <remarks>00:00:00:00:00:00 for Linux's <c>lo</c>.</remarks>
    public PhysicalAddress DeviceMac { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// libpcap's PCAP_IF_LOOPBACK. On Linux, <c>lo</c> takes Ethernet frames whose destination
    /// MAC is 00:00:00:00:00:00; injected IPv6 frames to ::1 reach local UDP sockets, injected
    /// IPv4 frames never do (see <see cref="EnsureCanReach"/>).
    /// </remarks>
    public bool IsLoopback { get; }

    /// <summary>
    /// The longest frame the device takes, in bytes: its MTU plus the 14-byte Ethernet header
    /// (1514 for the usual 1500-byte MTU). Read when the transport was opened and again when
    /// a longer frame is sent, so an MTU raised since is noticed.
    /// </summary>
    public int MaxFrameLength => Volatile.Read(ref _maxFrameLength);

    /// <inheritdoc/>
    /// <remarks>
    /// <para>
    /// A frame longer than <see cref="MaxFrameLength"/> is refused before it reaches libpcap
    /// (<see cref="FrameTransportError.FrameTooLong"/>). On a device that is down the send
    /// fails with <see cref="FrameTransportError.DeviceDown"/> and the transport stays usable;
    /// once the device is up again sends succeed, the first one included. On a deleted device
    /// it fails with <see cref="FrameTransportError.DeviceGone"/>, now and on every later send.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">The frame is shorter than an Ethernet header (14 bytes).</exception>
    public void Send(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < Ethernet.HeaderLength)
        {
            throw new ArgumentException(
                $"A frame is at least an Ethernet header ({Ethernet.HeaderLength} bytes); this one is {frame.Length} bytes.", nameof(frame));
        }

        if (Interlocked.Increment(ref _sendsInFlight) < 0)
        {
            Interlocked.Decrement(ref _sendsInFlight);
            throw PcapErrors.Create(FrameTransportError.Closed, DeviceName, PcapOperation.Send, null);
        }

        try
        {
            if (_gone)
            {
                throw PcapErrors.Create(FrameTransportError.DeviceGone, DeviceName, PcapOperation.Send, "an earlier send found it gone");
            }

            if (frame.Length > Volatile.Read(ref _maxFrameLength))
            {
                RefuseIfTooLong(frame.Length);
            }

            SendOnce(frame);
        }
        finally
        {
            Interlocked.Decrement(ref _sendsInFlight);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="FrameTransportException">
    /// The address is IPv4 and the device is a loopback device
    /// (<see cref="FrameTransportError.Other"/>; the message says what to use instead).
    /// </exception>
    public void EnsureCanReach(IPAddress remoteAddress)
    {
        FrameTransportException? refusal = PcapErrors.CheckReachable(DeviceName, IsLoopback, remoteAddress);
        if (refusal is not null)
        {
            throw refusal;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A libpcap handle of its own on the device (a capture filter for ARP and ICMPv6, so the
    /// kernel queues nothing else for it), opened on the device's current name: the one with
    /// the interface index this transport was opened on, which follows a rename.
    /// </remarks>
    /// <returns>The capture; never <see langword="null"/>: libpcap can receive.</returns>
    public IFrameCapture OpenCapture()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw PcapErrors.Create(FrameTransportError.Closed, DeviceName, PcapOperation.Open, null);
        }

        return SharpPcapFrameCapture.Open(DeviceName, DeviceIndex);
    }

    /// <summary>Waits for the sends in flight, then closes the libpcap handle. Calling it again does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Add(ref _sendsInFlight, Closing);
        var wait = default(SpinWait);
        while (Volatile.Read(ref _sendsInFlight) != Closing)
        {
            // A send takes microseconds; SpinOnce falls back to sleeping if one blocks.
            wait.SpinOnce();
        }

        _device.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"libpcap transport on {DeviceName} ({DeviceMac})";

    private void SendOnce(ReadOnlySpan<byte> frame)
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
                throw Translate(again, frame.Length);
            }
        }
        catch (PcapException e)
        {
            throw Translate(e, frame.Length);
        }
    }

    private FrameTransportException Translate(PcapException exception, int frameLength)
    {
        FrameTransportException translated = PcapErrors.Translate(exception, DeviceName, PcapOperation.Send);
        switch (translated.Error)
        {
            case FrameTransportError.DeviceGone:
                // The packet socket lost its device for good (its ifindex is gone).
                _gone = true;
                break;
            case FrameTransportError.FrameTooLong:
                // The MTU went down since it was read.
                int? mtu = NetworkDevice.GetMtu(DeviceName);
                if (mtu is not null)
                {
                    Volatile.Write(ref _maxFrameLength, mtu.Value + Ethernet.HeaderLength);
                }

                return PcapErrors.Create(
                    FrameTransportError.FrameTooLong, DeviceName, PcapOperation.Send, $"{frameLength} bytes: {exception.Message}", exception);
        }

        return translated;
    }

    private void RefuseIfTooLong(int frameLength)
    {
        // The MTU may have grown since it was read: read it again before refusing.
        int? mtu = NetworkDevice.GetMtu(DeviceName);
        if (mtu is not null)
        {
            Volatile.Write(ref _maxFrameLength, mtu.Value + Ethernet.HeaderLength);
        }

        int max = Volatile.Read(ref _maxFrameLength);
        if (frameLength > max)
        {
            throw PcapErrors.Create(
                FrameTransportError.FrameTooLong,
                DeviceName,
                PcapOperation.Send,
                $"{frameLength} bytes; {DeviceName} takes at most {max}: MTU {max - Ethernet.HeaderLength} + {Ethernet.HeaderLength}");
        }
    }
}
