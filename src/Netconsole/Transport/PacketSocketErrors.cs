using Netconsole.Interop;

namespace Netconsole.Transport;

/// <summary>
/// What the errno of a packet socket call means, in the same <see cref="FrameTransportError"/>s
/// as libpcap's messages (<see cref="PcapErrors"/>): the two transports fail alike.
/// </summary>
internal static class PacketSocketErrors
{
    internal const int OperationNotPermitted = 1; // EPERM
    internal const int NoSuchDeviceOrAddress = 6; // ENXIO: send(2) on a socket whose device was deleted
    internal const int PermissionDenied = 13; // EACCES
    internal const int NoSuchDevice = 19; // ENODEV: bind(2) to an index that is gone
    internal const int MessageTooLong = 90; // EMSGSIZE
    internal const int NetworkDown = 100; // ENETDOWN
    internal const int NoBufferSpace = 105; // ENOBUFS: the device's queue (or a veth peer's backlog) dropped the frame

    /// <summary>What <paramref name="errno"/> of a call made while opening or sending means.</summary>
    public static FrameTransportError Classify(int errno, PcapOperation operation) => errno switch
    {
        OperationNotPermitted or PermissionDenied => FrameTransportError.PermissionDenied,
        NetworkDown => FrameTransportError.DeviceDown,
        MessageTooLong => FrameTransportError.FrameTooLong,
        NoSuchDeviceOrAddress or NoSuchDevice => operation == PcapOperation.Open ? FrameTransportError.NoSuchDevice : FrameTransportError.DeviceGone,
        // ENOBUFS, and anything unforeseen: the frame was not sent, the transport stays usable.
        _ => FrameTransportError.Other,
    };

    /// <summary>The exception for <paramref name="errno"/> of <paramref name="call"/> on <paramref name="deviceName"/>: the system's words in the message and in the inner exception.</summary>
    public static FrameTransportException Create(int errno, string call, string deviceName, PcapOperation operation)
    {
        FrameTransportError error = Classify(errno, operation);
        string detail = errno < 0 ? $"{call} sent part of the frame" : $"{call}: {Errno.Text(errno)}";
        IReadOnlyList<string>? devices = error == FrameTransportError.NoSuchDevice ? NetworkDeviceNames() : null;
        return PcapErrors.Create(error, deviceName, operation, detail, new IOException(detail), devices, "its packet socket");
    }

    private static IReadOnlyList<string>? NetworkDeviceNames()
    {
        try
        {
            return Devices.NetworkDevice.GetAllNames();
        }
#pragma warning disable CA1031 // The list only decorates the message: failing to get it must not hide the real error.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
