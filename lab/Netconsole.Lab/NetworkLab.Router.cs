using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Netconsole.Lab;

// The optional router (NetworkLabOptions.Router): the peer namespace forwards between the
// device link and a second link to a receiver namespace, on other documentation networks, so
// a receiver is reachable only through a gateway, as most netconsole receivers are.
public sealed partial class NetworkLab
{
    /// <summary>What the receiver namespace's name adds to the lab id (<c>ncl1a2b3</c> becomes <c>ncl1a2b3x</c>).</summary>
    public const string ReceiverNamespaceSuffix = "x";

    private const string Ipv4ForwardingPath = "/proc/sys/net/ipv4/ip_forward";
    private const string Ipv6ForwardingPath = "/proc/sys/net/ipv6/conf/all/forwarding";

    // Above the kernel's default metrics (0 for IPv4, 256 and 1024 for IPv6) and unique per lab
    // (an interface index is unique in a namespace), so two router labs' routes can coexist.
    private const int RouteMetricBase = 2000;

    /// <summary>Whether the lab has a router and a receiver namespace (<see cref="NetworkLabOptions.Router"/>).</summary>
    public bool HasRouter => _options.Router;

    /// <summary>
    /// The router's MAC on the device link: with a router, the peer end is the router's
    /// interface there, so this is <see cref="PeerMac"/>. Frames for the receiver carry it as
    /// their destination.
    /// </summary>
    public PhysicalAddress RouterMac => PeerMac;

    /// <summary>The name of the receiver's network namespace: the id followed by <c>x</c> (it exists only with a router).</summary>
    public string ReceiverNamespace => Id + ReceiverNamespaceSuffix;

    /// <summary>The receiver namespace's file, for setns(2) or <c>nsenter --net=</c>.</summary>
    public string ReceiverNamespacePath => Path.Combine(NetnsDirectory, ReceiverNamespace);

    /// <summary>The router's interface toward the receiver, inside <see cref="PeerNamespace"/>: the id followed by <c>q</c>.</summary>
    public string RouterReceiverSideName => Id + "q";

    /// <summary>The receiver's interface, inside <see cref="ReceiverNamespace"/>: the id followed by <c>x</c>.</summary>
    public string ReceiverName => Id + "x";

    /// <summary>The MAC of the router's interface toward the receiver (the source MAC of forwarded frames).</summary>
    public PhysicalAddress RouterReceiverSideMac { get; } = RandomMac();

    /// <summary>The receiver's MAC (frames from the device end never carry it: they go to the router).</summary>
    public PhysicalAddress ReceiverMac { get; } = RandomMac();

    /// <summary>The device link's IPv4 network, 192.0.2.0/24 (the receiver routes it back via the router).</summary>
    public IPNetwork DeviceIPv4Network { get; } = IPNetwork.Parse("192.0.2.0/24");

    /// <summary>The device link's IPv6 network, 2001:db8::/64 (the receiver routes it back via the router).</summary>
    public IPNetwork DeviceIPv6Network { get; } = IPNetwork.Parse("2001:db8::/64");

    /// <summary>The receiver link's IPv4 network, 198.51.100.0/24.</summary>
    public IPNetwork ReceiverIPv4Network { get; } = IPNetwork.Parse("198.51.100.0/24");

    /// <summary>The receiver link's IPv6 network, 2001:db8:100::/64.</summary>
    public IPNetwork ReceiverIPv6Network { get; } = IPNetwork.Parse("2001:db8:100::/64");

    /// <summary>The router's IPv4 address on the receiver link, 198.51.100.1.</summary>
    public IPAddress RouterReceiverSideIPv4 { get; } = IPAddress.Parse("198.51.100.1");

    /// <summary>The router's IPv6 address on the receiver link, 2001:db8:100::1.</summary>
    public IPAddress RouterReceiverSideIPv6 { get; } = IPAddress.Parse("2001:db8:100::1");

    /// <summary>The receiver's IPv4 address, 198.51.100.2.</summary>
    public IPAddress ReceiverIPv4 { get; } = IPAddress.Parse("198.51.100.2");

    /// <summary>The receiver's IPv6 address, 2001:db8:100::2.</summary>
    public IPAddress ReceiverIPv6 { get; } = IPAddress.Parse("2001:db8:100::2");

    /// <summary>
    /// The metric of the routes to the receiver's networks in the current namespace (they are
    /// bound to the device end and re-added when it is re-created, set up or gets carrier back).
    /// </summary>
    public int RouteMetric => RouteMetricBase + DeviceIndex;

    /// <summary>
    /// Runs <paramref name="function"/> on a dedicated thread inside the receiver namespace;
    /// see <see cref="RunInPeerNamespace{T}(Func{T})"/>.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="function">Synchronous work.</param>
    /// <returns>What <paramref name="function"/> returned.</returns>
    /// <exception cref="InvalidOperationException">The lab has no router.</exception>
    /// <exception cref="NetworkLabException">The thread could not enter the receiver namespace.</exception>
    public T RunInReceiverNamespace<T>(Func<T> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        RequireRouter();
        return RunInNamespace(ReceiverNamespacePath, function, _log);
    }

    /// <summary>
    /// Opens a UDP socket inside the receiver namespace bound to the receiver's address of the
    /// family: 198.51.100.2 or 2001:db8:100::2. The lab closes it on Dispose.
    /// </summary>
    /// <param name="family">InterNetwork or InterNetworkV6.</param>
    /// <param name="port">The UDP port, 0 (any free port) to 65535.</param>
    /// <returns>The bound socket, usable from any thread.</returns>
    /// <exception cref="ArgumentException">The family is neither IPv4 nor IPv6.</exception>
    /// <exception cref="InvalidOperationException">The lab has no router.</exception>
    public Socket OpenReceiverUdpSocket(AddressFamily family, int port)
    {
        IPAddress address = family switch
        {
            AddressFamily.InterNetwork => ReceiverIPv4,
            AddressFamily.InterNetworkV6 => ReceiverIPv6,
            _ => throw new ArgumentException($"The address family {family} is neither InterNetwork nor InterNetworkV6.", nameof(family)),
        };
        RequireRouter();
        return OpenUdpSocket(ReceiverNamespacePath, new IPEndPoint(address, port));
    }

    /// <summary>
    /// Starts capturing every frame on the receiver's interface (inside the receiver namespace):
    /// what the router forwarded. The lab stops it on Dispose.
    /// </summary>
    /// <param name="bpfFilter">A tcpdump-style filter, or null for every frame.</param>
    /// <returns>The running capture.</returns>
    /// <exception cref="InvalidOperationException">The lab has no router.</exception>
    /// <exception cref="NetworkLabException">libpcap is missing or the capture could not be opened.</exception>
    public LabCapture StartReceiverCapture(string? bpfFilter = null)
    {
        ThrowIfDisposed();
        RequireRouter();
        string receiver = ReceiverName;
        return Track(RunInNamespace(ReceiverNamespacePath, () => LabCapture.Open(receiver, bpfFilter), _log));
    }

    private void RequireRouter()
    {
        ThrowIfDisposed();
        if (!HasRouter)
        {
            throw new InvalidOperationException("This lab has no router: create it with NetworkLabOptions.Router = true.");
        }
    }

    // Lock held, peer namespace created. The receiver link lives entirely in the lab's own
    // namespaces; deleting them deletes it.
    private void BuildRouter()
    {
        _ip.Run("netns", "add", ReceiverNamespace);
        _ip.Run(
            "-n", Id, "link", "add", RouterReceiverSideName, "address", LabInterfaces.FormatMac(RouterReceiverSideMac), "type", "veth",
            "peer", "name", ReceiverName, "address", LabInterfaces.FormatMac(ReceiverMac), "netns", ReceiverNamespace);
        _ip.RunBatch(
            Id,
            ["link", "set", "dev", RouterReceiverSideName, "up"],
            ["addr", "add", $"{RouterReceiverSideIPv4}/{Ipv4PrefixLength}", "dev", RouterReceiverSideName],
            ["addr", "add", $"{RouterReceiverSideIPv6}/{Ipv6PrefixLength}", "dev", RouterReceiverSideName, "nodad"]);
        _ip.RunBatch(
            ReceiverNamespace,
            ["link", "set", "dev", "lo", "up"],
            ["link", "set", "dev", ReceiverName, "up"],
            ["addr", "add", $"{ReceiverIPv4}/{Ipv4PrefixLength}", "dev", ReceiverName],
            ["addr", "add", $"{ReceiverIPv6}/{Ipv6PrefixLength}", "dev", ReceiverName, "nodad"],
            ["route", "add", DeviceIPv4Network.ToString(), "via", RouterReceiverSideIPv4.ToString()],
            ["route", "add", DeviceIPv6Network.ToString(), "via", RouterReceiverSideIPv6.ToString()]);

        // "all" for IPv6 also sets "default", so a peer end re-created later forwards too.
        RunInNamespace(PeerNamespacePath, () =>
        {
            File.WriteAllText(Ipv4ForwardingPath, "1");
            File.WriteAllText(Ipv6ForwardingPath, "1");
            return 0;
        }, _log);
        _log.Write($"echo 1 > {Ipv4ForwardingPath}; echo 1 > {Ipv6ForwardingPath}   (in {Id})");
        WaitForReceiverLinkCarrier();
    }

    // Lock held, device end up. Routes bound to the device end go with it (delete, down), so
    // every operation that brings it back calls this; replace makes it idempotent.
    private void AddRoutesViaRouter()
    {
        if (!HasRouter)
        {
            return;
        }

        string metric = RouteMetric.ToString(CultureInfo.InvariantCulture);
        _ip.RunBatch(
            null,
            ["route", "replace", ReceiverIPv4Network.ToString(), "via", PeerIPv4.ToString(), "dev", DeviceName, "metric", metric],
            ["route", "replace", ReceiverIPv6Network.ToString(), "via", PeerIPv6.ToString(), "dev", DeviceName, "metric", metric]);
    }

    private void WaitForReceiverLinkCarrier()
    {
        DateTime deadline = DateTime.UtcNow + _options.CarrierTimeout;
        while (true)
        {
            Netconsole.Devices.NetworkDevice? router = LabInterfaces.Query(_ip, RouterReceiverSideName, Id);
            Netconsole.Devices.NetworkDevice? receiver = LabInterfaces.Query(_ip, ReceiverName, ReceiverNamespace);
            if (router is { IsRunning: true } && receiver is { IsRunning: true })
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new NetworkLabException(
                    $"The receiver link did not get carrier within {_options.CarrierTimeout.TotalSeconds} s: "
                    + $"router side {router?.ToString() ?? RouterReceiverSideName + " missing"}, receiver {receiver?.ToString() ?? ReceiverName + " missing"}.");
            }

            Thread.Sleep(10);
        }
    }
}
