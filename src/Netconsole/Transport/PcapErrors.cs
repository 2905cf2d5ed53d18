using System.Net;
using Netconsole.Devices;
using SharpPcap;

namespace Netconsole.Transport;

/// <summary>When a libpcap failure happened: the same errno means different things.</summary>
internal enum PcapOperation
{
    /// <summary>Looking the device up, opening and setting it up.</summary>
    Open,

    /// <summary>Sending a frame on an open device.</summary>
    Send,
}

/// <summary>
/// Turns what SharpPcap and libpcap throw into <see cref="FrameTransportException"/>s that
/// say what happened and what to do about it.
/// </summary>
internal static class PcapErrors
{
    // The strerror texts libpcap appends to its messages on Linux ("Can't send packet: send:
    // Network is down"), as observed with libpcap 1.10 and SharpPcap 6.3.1.
    internal const string NetworkIsDown = "Network is down"; // ENETDOWN
    internal const string NoSuchDeviceOrAddress = "No such device or address"; // ENXIO
    internal const string NoSuchDevice = "No such device"; // ENODEV (also a prefix of ENXIO's text)
    internal const string MessageTooLong = "Message too long"; // EMSGSIZE
    internal const string OperationNotPermitted = "Operation not permitted"; // EPERM
    internal const string PermissionDeniedText = "Permission denied"; // EACCES

    internal const string InstallLibpcap = "install libpcap0.8 (Debian/Ubuntu), libpcap (Fedora), Npcap (Windows)";

    internal const string GrantCapabilities =
        "run as root, or give this program CAP_NET_RAW (all it needs): AmbientCapabilities=CAP_NET_RAW in its systemd unit, "
        + "or 'setcap cap_net_raw+ep' on the app's own published executable; not on the shared dotnet binary, which would give it to every .NET program";

    /// <summary>What gives the right to inject frames on Windows, where Npcap may be installed for Administrators only.</summary>
    internal const string RunAsAdministrator =
        "run as Administrator, or reinstall Npcap without its option to restrict the driver's access to Administrators";

    /// <summary>What gives the right to inject frames on macOS (and the BSDs), where libpcap goes through /dev/bpf*.</summary>
    internal const string OpenBpfDevices = "run as root, or give your user read and write access to the /dev/bpf* devices";

    /// <summary>What gives the right to inject frames on <paramref name="platform"/>.</summary>
    internal static string PermissionAdvice(HostKind platform) => platform switch
    {
        HostKind.Linux => GrantCapabilities,
        HostKind.Windows => RunAsAdministrator,
        _ => OpenBpfDevices,
    };

    /// <summary>How to bring <paramref name="deviceName"/> up on <paramref name="platform"/>.</summary>
    internal static string BringUpAdvice(HostKind platform, string deviceName) => platform switch
    {
        HostKind.Linux => $"ip link set {deviceName} up",
        HostKind.Windows => "enable the network connection",
        _ => $"ifconfig {deviceName} up",
    };

    /// <summary>
    /// The message for a target whose remote is IPv4 on a loopback device, where injected
    /// frames never reach a local socket.
    /// </summary>
    internal const string Ipv4OnLoopback =
        "IPv4 frames injected on lo never reach local sockets (martian source/destination filtering); "
        + "use an IPv6 target on lo such as \"+@/lo,@::1/\", or a veth";

    /// <summary>Translates anything thrown while opening or sending on <paramref name="deviceName"/>.</summary>
    public static FrameTransportException Translate(Exception exception, string deviceName, PcapOperation operation)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is FrameTransportException translated)
        {
            return translated;
        }

        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is DllNotFoundException && NamesLibpcap(cause.Message))
            {
                return Create(FrameTransportError.LibpcapMissing, deviceName, operation, cause.Message, exception);
            }
        }

        PcapError? code = exception is PcapException pcap ? pcap.Error : null;
        FrameTransportError error = Classify(code, exception.Message, operation);
        IReadOnlyList<string>? devices = error == FrameTransportError.NoSuchDevice ? ExistingDevices() : null;
        return Create(error, deviceName, operation, exception.Message, exception, devices);
    }

    /// <summary>What a libpcap error code and message mean.</summary>
    /// <param name="code">SharpPcap's error code, when it gave one (pcap_activate's result).</param>
    /// <param name="message">The message, with libpcap's error text.</param>
    /// <param name="operation">Opening or sending.</param>
    public static FrameTransportError Classify(PcapError? code, string message, PcapOperation operation)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (code)
        {
            case PcapError.PermissionDenied or PcapError.PromiscuousPermissionDenied:
                return FrameTransportError.PermissionDenied;
            case PcapError.NoSuchDevice:
                return operation == PcapOperation.Open ? FrameTransportError.NoSuchDevice : FrameTransportError.DeviceGone;
            case PcapError.InterfaceNotUp:
                return FrameTransportError.DeviceDown;
        }

        if (Contains(message, OperationNotPermitted) || Contains(message, PermissionDeniedText))
        {
            return FrameTransportError.PermissionDenied;
        }

        if (Contains(message, NetworkIsDown))
        {
            return FrameTransportError.DeviceDown;
        }

        if (Contains(message, MessageTooLong))
        {
            return FrameTransportError.FrameTooLong;
        }

        // ENXIO's text starts with ENODEV's, so one test covers both.
        if (Contains(message, NoSuchDevice))
        {
            return operation == PcapOperation.Open ? FrameTransportError.NoSuchDevice : FrameTransportError.DeviceGone;
        }

        return FrameTransportError.Other;
    }

    /// <summary>True when a send failed only because the device is (or was) down.</summary>
    public static bool IsNetworkDown(PcapException exception) =>
        exception.Error == PcapError.Generic && Contains(exception.Message, NetworkIsDown);

    /// <summary>Creates the exception for an error kind, with a message that says what to do.</summary>
    /// <param name="error">What went wrong.</param>
    /// <param name="deviceName">The device.</param>
    /// <param name="operation">Opening or sending.</param>
    /// <param name="detail">libpcap's own words, appended in parentheses; null for none.</param>
    /// <param name="innerException">The cause.</param>
    /// <param name="existingDevices">For <see cref="FrameTransportError.NoSuchDevice"/>: the devices that do exist.</param>
    /// <param name="failedPart">For <see cref="FrameTransportError.Other"/>: what failed (libpcap when null).</param>
    public static FrameTransportException Create(
        FrameTransportError error,
        string deviceName,
        PcapOperation operation,
        string? detail,
        Exception? innerException = null,
        IReadOnlyList<string>? existingDevices = null,
        string? failedPart = null)
    {
        string action = operation == PcapOperation.Open ? "open" : "send a frame on";
        string message = error switch
        {
            FrameTransportError.LibpcapMissing =>
                $"Cannot {action} {deviceName}: the native libpcap library could not be loaded; {InstallLibpcap}.",
            FrameTransportError.PermissionDenied =>
                $"Cannot {action} {deviceName}: no permission to inject frames; {PermissionAdvice(HostPlatform.Current)}.",
            FrameTransportError.NoSuchDevice =>
                $"Cannot open {deviceName}: there is no network device of that name. "
                + (existingDevices is null || existingDevices.Count == 0
                    ? "No devices could be listed."
                    : $"Devices: {string.Join(", ", existingDevices)}."),
            FrameTransportError.DeviceDown => operation == PcapOperation.Open
                ? $"Cannot open {deviceName}: the device is down; bring it up ({BringUpAdvice(HostPlatform.Current, deviceName)}) and open it again."
                : $"The frame was not sent: {deviceName} is down. The transport stays usable: send again once the device is up.",
            FrameTransportError.DeviceGone =>
                $"The frame was not sent: {deviceName} went away. This transport is dead for good: "
                + "open a new one once the device is back.",
            FrameTransportError.FrameTooLong =>
                $"The frame was not sent: it is longer than {deviceName} accepts (its MTU plus the 14-byte Ethernet header).",
            FrameTransportError.NotEthernet =>
                $"Cannot use {deviceName}: it is not an Ethernet device, and netconsole frames are Ethernet frames (link type DLT_EN10MB).",
            FrameTransportError.Closed =>
                $"The transport for {deviceName} is closed (disposed): open a new one.",
            _ => $"Cannot {action} {deviceName}: {failedPart ?? "libpcap"} failed.",
        };

        if (error == FrameTransportError.LibpcapMissing && detail is not null)
        {
            // The runtime's message goes on to list every path it probed, over many lines: the
            // first sentence says what failed; the whole of it stays in the inner exception.
            int end = detail.IndexOf(". ", StringComparison.Ordinal);
            detail = end < 0 ? detail.Split('\n')[0].Trim() : detail[..(end + 1)];
        }

        if (!string.IsNullOrEmpty(detail))
        {
            message += $" ({detail})";
        }

        return new FrameTransportException(error, deviceName, message, innerException);
    }

    /// <summary>
    /// The refusal of an IPv4 remote on a loopback device, or null when the remote is fine
    /// for the device.
    /// </summary>
    public static FrameTransportException? CheckReachable(string deviceName, bool deviceIsLoopback, IPAddress remoteAddress)
    {
        ArgumentNullException.ThrowIfNull(remoteAddress);
        if (!deviceIsLoopback || remoteAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return null;
        }

        return new FrameTransportException(
            FrameTransportError.Other,
            deviceName,
            $"Cannot send to {remoteAddress} on {deviceName}: {Ipv4OnLoopback}.");
    }

    // SharpPcap imports 'wpcap' and maps it to libpcap.so.* on Linux: either name may show up.
    private static bool NamesLibpcap(string message) => Contains(message, "wpcap") || Contains(message, "libpcap");

    private static bool Contains(string message, string text) => message.Contains(text, StringComparison.OrdinalIgnoreCase);

    private static IReadOnlyList<string>? ExistingDevices()
    {
        try
        {
            return NetworkDevice.GetAllNames();
        }
#pragma warning disable CA1031 // The list only decorates the message: failing to get it must not hide the real error.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
