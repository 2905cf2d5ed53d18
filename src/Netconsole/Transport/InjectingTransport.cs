using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Wire;

namespace Netconsole.Transport;

/// <summary>
/// What the libpcap and packet-socket transports share: the device they were opened on, sends
/// from several threads that never race <see cref="Dispose"/>, frames longer than the MTU refused
/// before the system call (the MTU read again first), a deleted device failing every later send,
/// the reachability rule and the libpcap capture for next-hop resolution. A subclass sends one
/// frame (<see cref="SendFrame"/>) and closes its handle (<see cref="CloseHandle"/>).
/// </summary>
/// <remarks>
/// Dispose waits for the sends in flight, then closes the handle; a send after that throws
/// <see cref="FrameTransportException"/> with <see cref="FrameTransportError.Closed"/>. A send
/// allocates nothing unless it fails.
/// </remarks>
internal abstract class InjectingTransport : IFrameTransport
{
    // Added to the in-flight count by Dispose: the count turns negative, so new sends see
    // the transport closed, and it is exactly this value once the last send has left.
    private const int Closing = int.MinValue;

    private int _maxFrameLength;
    private int _sendsInFlight;
    private int _disposed;
    private volatile bool _gone;

    protected InjectingTransport(string deviceName, int? deviceIndex, PhysicalAddress deviceMac, bool isLoopback, int maxFrameLength)
    {
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
    /// On Linux, <c>lo</c> takes Ethernet frames whose destination MAC is 00:00:00:00:00:00;
    /// injected IPv6 frames to ::1 reach local UDP sockets, injected IPv4 frames never do (see
    /// <see cref="EnsureCanReach"/>).
    /// </remarks>
    public bool IsLoopback { get; }

    /// <summary>
    /// The longest frame the device takes, in bytes: its MTU plus the 14-byte Ethernet header
    /// (1514 for the usual 1500-byte MTU). Read when the transport was opened, again before a
    /// longer frame is refused, and when the kernel refuses one as too long.
    /// </summary>
    public int MaxFrameLength => Volatile.Read(ref _maxFrameLength);

    /// <inheritdoc/>
    /// <remarks>
    /// A frame longer than <see cref="MaxFrameLength"/> is refused before it reaches the kernel
    /// (<see cref="FrameTransportError.FrameTooLong"/>). On a device that is down the send fails
    /// with <see cref="FrameTransportError.DeviceDown"/> and the transport stays usable; once the
    /// device is up again sends succeed, the first one included. On a deleted device it fails
    /// with <see cref="FrameTransportError.DeviceGone"/>, now and on every later send.
    /// </remarks>
    /// <exception cref="ArgumentException">The frame is shorter than an Ethernet header (14 bytes).</exception>
    public void Send(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < Ethernet.HeaderLength)
        {
            throw new ArgumentException(
                $"A frame is at least an Ethernet header ({Ethernet.HeaderLength} bytes); this one is {frame.Length} bytes.", nameof(frame));
        }

        Enter();
        try
        {
            if (frame.Length > Volatile.Read(ref _maxFrameLength))
            {
                RefuseIfTooLong(frame.Length);
            }

            SendFrame(frame);
        }
        finally
        {
            Exit();
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

        return OpenCaptureCore();
    }

    /// <summary>Opens the capture (the transport is not disposed): a libpcap handle of its own, unless the transport has a way of its own.</summary>
    protected virtual IFrameCapture OpenCaptureCore() => SharpPcapFrameCapture.Open(DeviceName, DeviceIndex);

    /// <summary>Waits for the sends in flight, then closes the handle. Calling it again does nothing.</summary>
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

        CloseHandle();
    }

    /// <summary>Sends one frame that fits the MTU, within a send in flight; throws <see cref="FrameTransportException"/> (through <see cref="Failed"/>) when it cannot.</summary>
    protected abstract void SendFrame(ReadOnlySpan<byte> frame);

    /// <summary>Closes the handle, once no send is in flight.</summary>
    protected abstract void CloseHandle();

    /// <summary>Counts a send in flight, or throws when the transport is closed or its device gone; <see cref="Exit"/> ends it.</summary>
    protected void Enter()
    {
        if (Interlocked.Increment(ref _sendsInFlight) < 0)
        {
            Interlocked.Decrement(ref _sendsInFlight);
            throw PcapErrors.Create(FrameTransportError.Closed, DeviceName, PcapOperation.Send, null);
        }

        if (_gone)
        {
            Interlocked.Decrement(ref _sendsInFlight);
            throw PcapErrors.Create(FrameTransportError.DeviceGone, DeviceName, PcapOperation.Send, "an earlier send found it gone");
        }
    }

    /// <summary>Ends a send counted by <see cref="Enter"/>.</summary>
    protected void Exit() => Interlocked.Decrement(ref _sendsInFlight);

    /// <summary>
    /// What a failed send throws, from the failure translated: a device found gone stays gone (its
    /// index will not come back); a frame the kernel found too long means the MTU went down, read again.
    /// </summary>
    /// <param name="translated">The failure as a transport error.</param>
    /// <param name="frameLength">The frame's length.</param>
    /// <param name="cause">What the kernel or libpcap said, for the message of a frame too long.</param>
    protected FrameTransportException Failed(FrameTransportException translated, int frameLength, Exception cause)
    {
        switch (translated.Error)
        {
            case FrameTransportError.DeviceGone:
                _gone = true;
                break;
            case FrameTransportError.FrameTooLong:
                if (NetworkDevice.GetMtu(DeviceName) is { } mtu)
                {
                    Volatile.Write(ref _maxFrameLength, mtu + Ethernet.HeaderLength);
                }

                return PcapErrors.Create(FrameTransportError.FrameTooLong, DeviceName, PcapOperation.Send, $"{frameLength} bytes: {cause.Message}", cause);
        }

        return translated;
    }

    /// <summary>Refuses a frame longer than the device takes, after reading the MTU again (it may have grown).</summary>
    protected void RefuseIfTooLong(int frameLength)
    {
        if (NetworkDevice.GetMtu(DeviceName) is { } mtu)
        {
            Volatile.Write(ref _maxFrameLength, mtu + Ethernet.HeaderLength);
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
