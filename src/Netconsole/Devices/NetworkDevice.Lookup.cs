using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Interop;

namespace Netconsole.Devices;

// Looking devices up, and the kernel's choice of a local address.
public sealed partial class NetworkDevice
{
    /// <summary>
    /// Lists the network devices as they are now, in interface index order.
    /// </summary>
    /// <returns>A snapshot: it does not change when the devices do.</returns>
    /// <remarks>
    /// On Linux the index and the flags (<see cref="IsUp"/> is IFF_UP, <see cref="IsRunning"/>
    /// is IFF_RUNNING) are asked of the kernel for the calling process's network namespace;
    /// /sys/class/net is not read, because it shows the namespace it was mounted in, which is
    /// not the process's own after <c>unshare -n</c>. Elsewhere both come from the operational
    /// status. <see cref="Addresses"/> are in the order the system lists them.
    /// </remarks>
    public static IReadOnlyList<NetworkDevice> GetAll()
    {
        var devices = new List<NetworkDevice>();
        foreach (Snapshot snapshot in TakeSnapshots())
        {
            devices.Add(snapshot.Device);
        }

        return devices;
    }

    /// <summary>Finds the device with this exact interface name.</summary>
    /// <param name="name">The interface name, compared exactly (case-sensitive, as on Linux).</param>
    /// <returns>The device as it is now, or null when no device has that name.</returns>
    public static NetworkDevice? FindByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (Snapshot snapshot in TakeSnapshots())
        {
            if (string.Equals(snapshot.Device.Name, name, StringComparison.Ordinal))
            {
                return snapshot.Device;
            }
        }

        return null;
    }

    /// <summary>Finds the device with this MAC address, as the kernel's netconsole does for a target bound by MAC.</summary>
    /// <param name="mac">The MAC address.</param>
    /// <returns>The device as it is now, or null when no device has that MAC.</returns>
    /// <remarks>
    /// Several devices may share a MAC (VLANs on top of a device, a bond and its ports): the
    /// first in interface index order is returned. Loopback devices are never returned, and
    /// an empty MAC matches nothing: like the kernel's lookup (dev_getbyhwaddr with
    /// ARPHRD_ETHER), a MAC names an Ethernet device.
    /// </remarks>
    public static NetworkDevice? FindByMac(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        if (mac.GetAddressBytes().Length == 0)
        {
            return null;
        }

        foreach (Snapshot snapshot in TakeSnapshots())
        {
            if (!snapshot.IsLoopback && snapshot.Device.Mac.Equals(mac))
            {
                return snapshot.Device;
            }
        }

        return null;
    }

    /// <summary>
    /// The local address the kernel's netconsole picks when a target leaves local_ip unset:
    /// this device's first address of the remote address's family.
    /// </summary>
    /// <param name="family"><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>: the remote address's family.</param>
    /// <param name="linkLocal">
    /// Whether the remote address is an IPv6 link-local address (fe80::/10). Ignored for IPv4.
    /// </param>
    /// <returns>The address, or null when the device has none that fits (the kernel then refuses the target).</returns>
    /// <remarks>
    /// IPv4: the first IPv4 address in <see cref="Addresses"/> (the kernel takes the primary
    /// address, the head of the device's address list), link-local or not. IPv6: the first
    /// IPv6 address whose link-local-ness matches the remote's, so a link-local remote gets a
    /// link-local source and any other remote a non-link-local one; like the kernel, other
    /// properties (scope, tentative, deprecated) are not looked at.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="family"/> is neither IPv4 nor IPv6.</exception>
    public IPAddress? FirstAddress(AddressFamily family, bool linkLocal)
    {
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "The family must be InterNetwork (IPv4) or InterNetworkV6 (IPv6).");
        }

        foreach (IPAddress address in Addresses)
        {
            if (address.AddressFamily != family)
            {
                continue;
            }

            if (family == AddressFamily.InterNetwork || address.IsIPv6LinkLocal == linkLocal)
            {
                return address;
            }
        }

        return null;
    }

    /// <summary>
    /// The device's MTU in bytes as the kernel has it now (Linux: asked of the process's own
    /// network namespace), or null when it cannot be read (no such device).
    /// </summary>
    internal static int? GetMtu(string name)
    {
        if (OperatingSystem.IsLinux())
        {
            using Socket socket = RequestSocket();
            return InterfaceRequests.GetMtu(socket, name);
        }

        foreach (NetworkInterface nic in AllInterfaces())
        {
            if (string.Equals(nic.Name, name, StringComparison.Ordinal))
            {
                try
                {
                    return nic.GetIPProperties().GetIPv4Properties()?.Mtu ?? nic.GetIPProperties().GetIPv6Properties()?.Mtu;
                }
                catch (NetworkInformationException)
                {
                    return null;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The on-link prefixes (each address with its prefix length) and the gateways the system
    /// gives the device with interface index <paramref name="index"/>, through
    /// <see cref="NetworkInterface"/> (next hops off Linux); null when no device has that index
    /// or the system would not say.
    /// </summary>
    internal static (IReadOnlyList<(IPAddress Address, int PrefixLength)> Prefixes, IReadOnlyList<IPAddress> Gateways)? GetPrefixesAndGateways(int index)
    {
        try
        {
            foreach (NetworkInterface nic in AllInterfaces())
            {
                IPInterfaceProperties properties = nic.GetIPProperties();
                if (PortableIndex(properties) != index)
                {
                    continue;
                }

                var prefixes = new List<(IPAddress, int)>();
                foreach (UnicastIPAddressInformation unicast in properties.UnicastAddresses)
                {
                    prefixes.Add((unicast.Address, unicast.PrefixLength));
                }

                var gateways = new List<IPAddress>();
                foreach (GatewayIPAddressInformation gateway in properties.GatewayAddresses)
                {
                    gateways.Add(gateway.Address);
                }

                return (prefixes, gateways);
            }
        }
        catch (Exception e) when (e is NetworkInformationException or PlatformNotSupportedException)
        {
            // The system would not say: the caller takes the remote as on-link.
        }

        return null;
    }

    /// <summary>The names of the devices that exist now, in index order (for messages).</summary>
    internal static IReadOnlyList<string> GetAllNames()
    {
        var names = new List<string>();
        foreach (Snapshot snapshot in TakeSnapshots())
        {
            names.Add(snapshot.Device.Name);
        }

        return names;
    }

    private readonly record struct Snapshot(NetworkDevice Device, bool IsLoopback);

    /// <summary>
    /// <see cref="NetworkInterface.GetAllNetworkInterfaces"/>, taken again when it throws the
    /// <see cref="ArgumentException"/> the Linux runtime throws for an interface that goes away
    /// while it lists them (dotnet/runtime#49515, before .NET 11): while veth pairs come and go it
    /// did, and the device lookups of a transport open and of the polling watcher must not fail
    /// for it. After a few tries the last one's exception is thrown.
    /// </summary>
    internal static NetworkInterface[] AllInterfaces()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return NetworkInterface.GetAllNetworkInterfaces();
            }
            catch (ArgumentException) when (attempt < 5)
            {
                // An interface vanished during the listing: the next one is consistent again.
            }
        }
    }

    private static List<Snapshot> TakeSnapshots()
    {
        NetworkInterface[] nics = AllInterfaces();
        var snapshots = new List<Snapshot>(nics.Length);
        using Socket? socket = OperatingSystem.IsLinux() ? RequestSocket() : null;
        foreach (NetworkInterface nic in nics)
        {
            Snapshot? snapshot = Describe(nic, socket);
            if (snapshot is not null)
            {
                snapshots.Add(snapshot.Value);
            }
        }

        // A stable sort: devices without a known index (0) keep the system's order.
        return [.. snapshots.OrderBy(s => s.Device.Index)];
    }

    private static Snapshot? Describe(NetworkInterface nic, Socket? linuxSocket)
    {
        string name = nic.Name;
        IPInterfaceProperties properties;
        try
        {
            properties = nic.GetIPProperties();
        }
        catch (NetworkInformationException)
        {
            // Gone between the listing and now.
            return null;
        }

        var addresses = new List<IPAddress>();
        foreach (UnicastIPAddressInformation unicast in properties.UnicastAddresses)
        {
            addresses.Add(unicast.Address);
        }

        int index;
        bool isUp;
        bool isRunning;
        bool isLoopback;
        if (OperatingSystem.IsLinux() && linuxSocket is not null)
        {
            InterfaceFlags? flags = InterfaceRequests.GetFlags(linuxSocket, name);
            int? linuxIndex = InterfaceRequests.GetIndex(linuxSocket, name);
            if (flags is null || linuxIndex is null)
            {
                return null;
            }

            index = linuxIndex.Value;
            isUp = (flags.Value & InterfaceFlags.Up) != 0;
            isRunning = (flags.Value & InterfaceFlags.Running) != 0;
            isLoopback = (flags.Value & InterfaceFlags.Loopback) != 0;
        }
        else
        {
            index = PortableIndex(properties);
            isUp = nic.OperationalStatus == OperationalStatus.Up;
            isRunning = isUp;
            isLoopback = nic.NetworkInterfaceType == NetworkInterfaceType.Loopback;
        }

        PhysicalAddress mac = nic.GetPhysicalAddress();
        var device = new NetworkDevice(index, name, mac, isUp, isRunning, addresses)
        {
            PcapName = OperatingSystem.IsWindows() ? NpcapNamePrefix + nic.Id : null,
        };
        return new Snapshot(device, isLoopback);
    }

    private static int PortableIndex(IPInterfaceProperties properties)
    {
        try
        {
            IPv4InterfaceProperties? ipv4 = properties.GetIPv4Properties();
            if (ipv4 is not null)
            {
                return ipv4.Index;
            }
        }
        catch (NetworkInformationException)
        {
            // No IPv4 on this device: try IPv6.
        }

        try
        {
            return properties.GetIPv6Properties()?.Index ?? 0;
        }
        catch (NetworkInformationException)
        {
            return 0;
        }
    }

    // Any socket will do for the interface ioctls; a UDP one is always available.
    private static Socket RequestSocket() =>
        new(Socket.OSSupportsIPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
}
