using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Resolution;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>
/// Sets a target up on a device: finds the device, picks the local address by the kernel's rule,
/// opens the transport and prepares the frame template.
/// </summary>
internal static class TargetSetup
{
    private static readonly PhysicalAddress Zero = new(new byte[Ethernet.AddressLength]);

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

    /// <summary>Whether the target names no device (neither by name nor by MAC): it sends on the device of the route to its remote.</summary>
    public static bool NamesNoDevice(NetconsoleTargetOptions options) => options.DeviceName is null && options.DeviceMac is null;

    /// <summary>Why a target that names no device cannot be set up on a system without route lookup, and what to do.</summary>
    public static string NoRouteLookupReason(IPAddress remote) =>
        $"no device named, and this system cannot choose one by the route to {remote} (route lookup uses rtnetlink, which is Linux only): name the device (DeviceName) or bind the target by MAC (DeviceMac)";

    /// <summary>Whether <paramref name="device"/> is the one the target is bound to: same MAC when bound by MAC, else same name (on Windows also the Npcap name, <see cref="NetworkDevice.IsNamed"/>).</summary>
    public static bool Matches(NetconsoleTargetOptions options, NetworkDevice device)
    {
        if (NamesNoDevice(options))
        {
            return true; // bound to whatever the route picks: any device coming or changing may be it
        }

        if (options.DeviceMac is { } mac)
        {
            return IsEthernetMac(device.Mac) && device.Mac.Equals(mac);
        }

        return options.DeviceName is { } name && device.IsNamed(name);
    }

    /// <summary>Why a target was not set up on a device without carrier, after waiting <paramref name="waited"/>.</summary>
    public static string NoCarrierReason(string device, TimeSpan waited) => waited > TimeSpan.Zero
        ? string.Create(CultureInfo.InvariantCulture, $"device {device} has no carrier after {waited.TotalSeconds:0.###} s (no link: a cable, a switch port or the veth peer is down)")
        : $"device {device} has no carrier (no link: a cable, a switch port or the veth peer is down)";

    /// <summary>Describes the device the target waits for, for reasons: <c>named veth0</c> or <c>with MAC 12:34:...</c>.</summary>
    public static string DescribeBinding(NetconsoleTargetOptions options) =>
        options.DeviceMac is { } mac
            ? "with MAC " + MacAddressText.Format(mac)
            : "named " + options.DeviceName;

    /// <summary>
    /// Sets the target up on the device it is bound to. A target that names no device takes the
    /// device of the route to its remote from <paramref name="routeLookup"/>, which is null on a
    /// system without route lookup: then it cannot be set up. A device that is up without carrier
    /// is handed to <c>awaitCarrier</c>, which waits for its carrier and returns the device as it
    /// is then, or throws <see cref="TargetSetupException"/> (<see cref="TargetStateCause.NoCarrier"/>);
    /// without it such a device fails at once.
    /// </summary>
    /// <exception cref="TargetSetupException">No device, device down, no carrier, no local address.</exception>
    /// <exception cref="FrameTransportException">The transport could not be opened or cannot reach the remote.</exception>
    public static TargetSession Open(NetconsoleTargetOptions options, IReadOnlyList<NetworkDevice> devices, IFrameTransportFactory factory, ushort firstIdentification, Func<IPAddress, RouteInfo?>? routeLookup, NextHopPolicy policy, Func<NetworkDevice, NetworkDevice>? awaitCarrier = null)
    {
        string? routeNote = null;
        NetworkDevice device;
        if (NamesNoDevice(options))
        {
            // No device named: the interface of the route to the remote, said in the reason
            // (never a silent default like the kernel's eth0).
            IPAddress target = options.RemoteAddress ?? throw new TargetSetupException(TargetStateCause.NoRoute, "no remote address");
            if (routeLookup is null)
            {
                // No retry: nothing that happens on this system can make a route lookup appear.
                throw new TargetSetupException(TargetStateCause.RouteLookupUnsupported, NoRouteLookupReason(target));
            }

            RouteInfo route = routeLookup(target)
                ?? throw new TargetSetupException(TargetStateCause.NoRoute, $"no device named and no route to {target}: add a route or name the device in the target") { RetryLater = true };
            device = devices.FirstOrDefault(d => d.Index == route.InterfaceIndex)
                ?? throw new TargetSetupException(TargetStateCause.NoRoute, $"the route to {target} uses interface #{route.InterfaceIndex}, which is not (yet) known") { RetryLater = true };
            routeNote = $"device {device.Name} chosen by the route to {target}";
        }
        else
        {
            device = FindDevice(options, devices)
                ?? throw new TargetSetupException(TargetStateCause.NoSuchDevice, "no device " + DescribeBinding(options));
        }
        if (!device.IsUp)
        {
            throw new TargetSetupException(TargetStateCause.DeviceDown, $"device {device.Name} is down");
        }

        // Up without carrier: the driver would drop every frame. Wait for it, as the kernel's
        // netpoll setup does, rather than claim to be enabled on a dead link.
        if (!device.IsRunning)
        {
            device = awaitCarrier is null
                ? throw new TargetSetupException(TargetStateCause.NoCarrier, NoCarrierReason(device.Name, TimeSpan.Zero))
                : awaitCarrier(device);
        }

        // As the kernel: an unset local address is the device's first of the remote's family
        // (for IPv6, the first whose link-local-ness matches the remote's).
        IPAddress remote = options.RemoteAddress ?? throw new TargetSetupException(TargetStateCause.NoRoute, "no remote address");
        IPAddress local = options.LocalAddress
            ?? device.FirstAddress(remote.AddressFamily, remote.IsIPv6LinkLocal)
            ?? FreshAddress(device, remote)
            ?? throw new TargetSetupException(TargetStateCause.NoLocalAddress, string.Create(
                CultureInfo.InvariantCulture,
                $"device {device.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? (remote.IsIPv6LinkLocal ? "link-local IPv6" : "IPv6") : "IPv4")} address to send from: set the local address")) { RetryLater = true };

        IFrameTransport transport = factory.Open(device.Name);
        try
        {
            transport.EnsureCanReach(remote); // IPv4 injected on lo never reaches a socket

            // lo takes frames addressed to 00:00:00:00:00:00. Elsewhere, without a remote MAC, the
            // kernel broadcasts; this library resolves the next hop's MAC first (the neighbour
            // table, then ARP / NDP when the transport can receive frames) and broadcasts only when
            // that finds nothing, with a warning in the reason. A resolved MAC is re-checked later.
            PhysicalAddress source = IsSixBytes(transport.DeviceMac) ? transport.DeviceMac : Zero;
            PhysicalAddress destination = Ethernet.Broadcast;
            string? note = null;
            NextHopRecheck? recheck = null;
            NextHopResolver resolver = policy.Resolver ?? NextHop.Default;
            if (options.RemoteMac is { } given)
            {
                destination = given;
            }
            else if (transport.IsLoopback)
            {
                destination = Zero;
            }
            else
            {
                var query = new NextHopQuery(device.Index, source, local, remote, transport);
                NextHopAnswer answer = resolver(query, recheck: false);
                destination = answer.Mac ?? Ethernet.Broadcast;
                note = answer.Note;
                recheck = new NextHopRecheck(query, resolver, policy);
            }

            var spec = new FrameSpec(source, local, options.LocalPort, remote, options.RemotePort);
            return new TargetSession(transport, spec, destination, firstIdentification, device, routeNote, note, recheck);
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    // A watcher's snapshot may predate an address added since (addresses are not watched): ask the system.
    private static IPAddress? FreshAddress(NetworkDevice device, IPAddress remote)
    {
        try
        {
            return NetworkDevice.FindByName(device.Name) is { } fresh && fresh.Index == device.Index
                ? fresh.FirstAddress(remote.AddressFamily, remote.IsIPv6LinkLocal)
                : null;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or NetworkInformationException)
        {
            return null;
        }
    }

    private static bool IsSixBytes(PhysicalAddress mac) => mac.GetAddressBytes().Length == Ethernet.AddressLength;

    private static bool IsEthernetMac(PhysicalAddress mac)
    {
        byte[] bytes = mac.GetAddressBytes();
        return bytes.Length == Ethernet.AddressLength && bytes.AsSpan().ContainsAnyExcept((byte)0);
    }
}
