namespace Netconsole.Transport;

/// <summary>Why a frame transport could not be opened or could not send.</summary>
public enum FrameTransportError
{
    /// <summary>Another failure; the message has the details.</summary>
    Other = 0,

    /// <summary>Native libpcap is not installed (Debian/Ubuntu: libpcap0.8; Fedora: libpcap; Windows: Npcap).</summary>
    LibpcapMissing = 1,

    /// <summary>The process may not open raw devices: run as root or grant CAP_NET_RAW (the only capability injecting needs).</summary>
    PermissionDenied = 2,

    /// <summary>No device has that name (or MAC).</summary>
    NoSuchDevice = 3,

    /// <summary>
    /// The device exists but is down ("Network is down"); sends fail until it is up again.
    /// Opening a device that is down fails this way too (libpcap refuses it).
    /// </summary>
    DeviceDown = 4,

    /// <summary>The device went away (ENXIO); this transport is dead for good: open a new one once the device is back.</summary>
    DeviceGone = 5,

    /// <summary>The frame is longer than the device accepts.</summary>
    FrameTooLong = 6,

    /// <summary>The device is not an Ethernet device (its link type is not DLT_EN10MB).</summary>
    NotEthernet = 7,

    /// <summary>The transport was disposed.</summary>
    Closed = 8,
}

/// <summary>A frame transport failure, with what to do about it in the message.</summary>
public sealed class FrameTransportException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FrameTransportException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public FrameTransportException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public FrameTransportException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for an error kind.</summary>
    /// <param name="error">What went wrong.</param>
    /// <param name="deviceName">The device, when known.</param>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public FrameTransportException(FrameTransportError error, string? deviceName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        DeviceName = deviceName;
    }

    /// <summary>What went wrong.</summary>
    public FrameTransportError Error { get; }

    /// <summary>The device concerned, when known.</summary>
    public string? DeviceName { get; }

    /// <summary>True when the transport cannot be used again (device gone, closed) and must be reopened.</summary>
    public bool IsPermanent => Error is FrameTransportError.DeviceGone or FrameTransportError.Closed;
}
