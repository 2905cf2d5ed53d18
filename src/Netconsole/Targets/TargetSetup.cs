using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Resolution;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>What an enabled target sends through: its open transport and its frame template.</summary>
internal sealed class TargetSession
{
    private string _deviceName;
    private int _deactivationQueued;

    public TargetSession(IFrameTransport transport, FrameBuilder frames, NetworkDevice device, string? nextHopNote = null)
    {
        Transport = transport;
        Frames = frames;
        DeviceIndex = device.Index;
        _deviceName = device.Name;
        NextHopNote = nextHopNote;
    }

    /// <summary>How the destination MAC was found (neighbour table, ARP/NDP, or the broadcast warning), or null when given or not resolved.</summary>
    public string? NextHopNote { get; }

    public IFrameTransport Transport { get; }

    public FrameBuilder Frames { get; }

    /// <summary>The interface index the transport was opened on: an Unregistered event matches it, never a later device of the same name.</summary>
    public int DeviceIndex { get; }

    /// <summary>The device's current name (it follows renames, as the kernel's dev_name does).</summary>
    public string DeviceName
    {
        get => Volatile.Read(ref _deviceName);
        set => Volatile.Write(ref _deviceName, value);
    }

    /// <summary>True the first time only: many sends may find the device gone, one deactivation is queued.</summary>
    public bool TryMarkDeactivationQueued() => Interlocked.Exchange(ref _deactivationQueued, 1) == 0;
}

/// <summary>A target could not be set up; the message says why.</summary>
internal sealed class TargetSetupException : Exception
{
    public TargetSetupException()
    {
    }

    public TargetSetupException(string message)
        : base(message)
    {
    }

    public TargetSetupException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Sets a target up on a device: finds the device, picks the local address by the kernel's rule,
/// opens the transport and prepares the frame template.
/// </summary>
internal static class TargetSetup
{
    private static readonly PhysicalAddress Zero = new(new byte[6]);

    /// <summary>
    /// The device a target is bound to among <paramref name="devices"/>: by MAC when
    /// <see cref="NetconsoleTargetOptions.DeviceMac"/> is set (the first in index order with that
    /// MAC; an all-zero or empty MAC never matches, as the kernel looks up Ethernet devices only),
    /// else by name; null when there is none or the options name no device.
    /// </summary>
    public static NetworkDevice? FindDevice(NetconsoleTargetOptions options, IReadOnlyList<NetworkDevice> devices)
    {
        foreach (NetworkDevice device in devices)
        {
            if (Matches(options, device))
            {
                return device;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="device"/> is the one the target is bound to: same MAC when bound by MAC, else same name.</summary>
    public static bool Matches(NetconsoleTargetOptions options, NetworkDevice device)
    {
        if (options.DeviceName is null && options.DeviceMac is null)
        {
            return true; // bound to whatever the route picks: any device coming or changing may be it
        }

        if (options.DeviceMac is { } mac)
        {
            return IsEthernetMac(device.Mac) && device.Mac.Equals(mac);
        }

        return options.DeviceName is { } name && string.Equals(device.Name, name, StringComparison.Ordinal);
    }

    /// <summary>Describes the device the target waits for, for reasons: <c>named veth0</c> or <c>with MAC 12:34:...</c>.</summary>
    public static string DescribeBinding(NetconsoleTargetOptions options) =>
        options.DeviceMac is { } mac
            ? "with MAC " + NetconsoleTargetOptions.FormatMac(mac)
            : "named " + options.DeviceName;

    /// <summary>Sets the target up on the device it is bound to.</summary>
    /// <exception cref="TargetSetupException">No device, device down, no local address.</exception>
    /// <exception cref="FrameTransportException">The transport could not be opened or cannot reach the remote.</exception>
    public static TargetSession Open(NetconsoleTargetOptions options, IReadOnlyList<NetworkDevice> devices, IFrameTransportFactory factory, ushort firstIdentification, Func<IPAddress, RouteInfo?> routeLookup)
    {
        string? routeNote = null;
        NetworkDevice device;
        if (options.DeviceName is null && options.DeviceMac is null)
        {
            // No device named: the interface of the route to the remote, said in the reason
            // (never a silent default like the kernel's eth0).
            IPAddress target = options.RemoteAddress ?? throw new TargetSetupException("no remote address");
            RouteInfo route = routeLookup(target)
                ?? throw new TargetSetupException($"no device named and no route to {target}: name the device in the target");
            device = devices.FirstOrDefault(d => d.Index == route.InterfaceIndex)
                ?? throw new TargetSetupException($"the route to {target} uses interface #{route.InterfaceIndex}, which is not (yet) known");
            routeNote = $"device {device.Name} chosen by the route to {target}";
        }
        else
        {
            device = FindDevice(options, devices)
                ?? throw new TargetSetupException("no device " + DescribeBinding(options));
        }
        if (!device.IsUp)
        {
            throw new TargetSetupException($"device {device.Name} is down");
        }

        // As the kernel: an unset local address is the device's first of the remote's family
        // (for IPv6, the first whose link-local-ness matches the remote's).
        IPAddress remote = options.RemoteAddress ?? throw new TargetSetupException("no remote address");
        IPAddress local = options.LocalAddress
            ?? device.FirstAddress(remote.AddressFamily, remote.IsIPv6LinkLocal)
            ?? throw new TargetSetupException(string.Create(
                CultureInfo.InvariantCulture,
                $"device {device.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? (remote.IsIPv6LinkLocal ? "link-local IPv6" : "IPv6") : "IPv4")} address to send from: set the local address"));

        IFrameTransport transport = factory.Open(device.Name);
        try
        {
            bool loopback = false;
            if (transport is SharpPcapTransport pcap)
            {
                pcap.EnsureCanReach(remote); // IPv4 injected on lo never reaches a socket
                loopback = pcap.IsLoopback;
            }

            // lo takes frames addressed to 00:00:00:00:00:00. Elsewhere, without a remote MAC, the
            // kernel broadcasts; this library resolves the next hop's MAC first (on a real libpcap
            // device) and broadcasts only when nothing answers, with a warning in the reason.
            PhysicalAddress source = IsSixBytes(transport.DeviceMac) ? transport.DeviceMac : Zero;
            PhysicalAddress destination = NextHop.Broadcast;
            string? note = null;
            if (options.RemoteMac is { } given)
            {
                destination = given;
            }
            else if (loopback)
            {
                destination = Zero;
            }
            else if (transport is SharpPcapTransport)
            {
                (destination, note) = NextHop.Resolve(device, source, local, remote);
            }

            var frames = new FrameBuilder(source, destination, local, options.LocalPort, remote, options.RemotePort, firstIdentification);
            return new TargetSession(transport, frames, device, routeNote is null ? note : note is null ? routeNote : $"{routeNote}; {note}");
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    private static bool IsSixBytes(PhysicalAddress mac) => mac.GetAddressBytes().Length == 6;

    private static bool IsEthernetMac(PhysicalAddress mac)
    {
        byte[] bytes = mac.GetAddressBytes();
        return bytes.Length == 6 && bytes.AsSpan().ContainsAnyExcept((byte)0);
    }
}
