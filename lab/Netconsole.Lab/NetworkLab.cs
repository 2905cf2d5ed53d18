using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Netconsole.Lab;

/// <summary>
/// A throw-away network for integration tests, the demo and benchmarks: a veth pair whose
/// "device" end (the interface the code under test sends on) stays in the current network
/// namespace and whose "peer" end (where receivers and captures listen) sits in a network
/// namespace the lab creates. Linux and root only.
/// </summary>
/// <remarks>
/// <para>
/// Addresses are documentation addresses only: the device end has 192.0.2.1/24 and
/// 2001:db8::1/64, the peer end 192.0.2.2/24 and 2001:db8::2/64 (IPv6 without duplicate
/// address detection, so they are usable at once). MACs are random locally administered
/// unicast addresses (02:xx:xx:xx:xx:xx). Nothing the lab creates is connected to any other
/// interface, so frames injected on the device end reach the peer end and nothing else.
/// </para>
/// <para>
/// Namespace policy: the device end is created in the <em>current</em> network namespace, so
/// the lab refuses to run unless that namespace is known to be private (the environment
/// variable <c>NETCONSOLE_TEST_NETNS=1</c>, which ./test.sh sets around <c>unshare -n</c>,
/// checked against the namespace itself: not PID 1's where that can be read, no default
/// route, only loopback, link-local and documentation addresses) or
/// <see cref="NetworkLabOptions.AllowHostNamespace"/> is set. The lab never touches an
/// interface it did not create, except <c>lo</c> in the peer namespace it owns.
/// </para>
/// <para>
/// Several labs can live in one namespace at once (parallel tests): their device ends all
/// carry 192.0.2.1 and 2001:db8::1 and routes to the same subnets, so kernel-routed traffic
/// must be bound to its device (<see cref="OpenDeviceUdpSocket"/> does). Frames injected with
/// libpcap on a named device, the library's own path, are unaffected.
/// </para>
/// <para>
/// Cleanup: <see cref="Dispose"/> deletes the device end (which deletes the pair) and the peer
/// namespace, stops captures and closes the sockets the lab opened; it never throws. Every lab
/// holds an exclusive lock on <c>/run/netconsole-lab/ID.lock</c> while it lives, so
/// <see cref="CleanupStale"/> can remove what crashed runs left behind without touching a
/// concurrent run's lab. A process exit disposes the labs still alive.
/// </para>
/// <para>
/// Router (<see cref="NetworkLabOptions.Router"/>): the peer namespace forwards to a third
/// namespace, the receiver's, on 198.51.100.0/24 and 2001:db8:100::/64; the current namespace
/// routes those networks via the peer end (<see cref="RouteMetric"/>, bound to the device end),
/// and the receiver routes the device link's networks back. A target that names neither device
/// nor MAC and is sent to the receiver takes the route, and its frames carry the router's MAC
/// (<see cref="RouterMac"/>). A route lookup without a device picks one lab's device when
/// several labs share a namespace: tests relying on it must be the only lab there.
/// </para>
/// <para>
/// The device end keeps its IPv6 address while down (<c>keep_addr_on_down=1</c>): Linux
/// otherwise drops IPv6 addresses when an interface goes down, and the lab's down/up and
/// rename operations are meant to change one thing at a time.
/// </para>
/// </remarks>
public sealed partial class NetworkLab : IDisposable, IAsyncDisposable
{
    /// <summary>The default prefix of every lab name: <c>"ncl"</c>.</summary>
    public const string DefaultNamePrefix = "ncl";

    /// <summary>The environment variable that declares the process runs in a private network namespace.</summary>
    public const string PrivateNamespaceVariable = "NETCONSOLE_TEST_NETNS";

    private const string NetnsDirectory = "/run/netns";
    private const int Ipv4PrefixLength = 24;
    private const int Ipv6PrefixLength = 64;

    private static readonly ConcurrentDictionary<NetworkLab, byte> Live = new();
    private static bool s_namespaceLooksPrivate;

    // Where a lab may find addresses in a namespace it takes for private (RFC 5737, RFC 3849).
    private static readonly IPNetwork[] DocumentationNetworks =
    [
        IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("2001:db8::/32"),
    ];

    private readonly NetworkLabOptions _options;
    private readonly LabLog _log;
    private readonly IpCommand _ip;
    private readonly Lock _gate = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<LabCapture> _captures = [];
    private SafeFileHandle? _ownership;
    private int _nameCounter;
    private int _disposed;

    static NetworkLab()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (NetworkLab lab in Live.Keys)
            {
                lab.Dispose();
            }
        };
    }

    private NetworkLab(NetworkLabOptions options, string id, SafeFileHandle ownership)
    {
        _options = options;
        _ownership = ownership;
        _log = new LabLog(options.Log, id);
        _ip = new IpCommand(_log, options.CommandTimeout);
        Id = id;
        DeviceName = id;
        DeviceMac = RandomMac();
        PeerMac = RandomMac();
    }

    /// <summary>
    /// The lab's unique id: the name prefix and five random hex digits, for example
    /// <c>ncl1a2b3</c>. It is also the peer namespace's name and the device end's first name.
    /// </summary>
    public string Id { get; }

    /// <summary>The name of the peer network namespace (as in <c>ip netns list</c>).</summary>
    public string PeerNamespace => Id;

    /// <summary>The peer namespace's file, for setns(2) or <c>nsenter --net=</c>.</summary>
    public string PeerNamespacePath => Path.Combine(NetnsDirectory, Id);

    /// <summary>
    /// The device end's current name (the interface the code under test sends on, in the
    /// current namespace). After <see cref="DeleteDevice"/> it is the name it had.
    /// </summary>
    public string DeviceName { get; private set; }

    /// <summary>The device end's current MAC. After <see cref="DeleteDevice"/> it is the MAC it had.</summary>
    public PhysicalAddress DeviceMac { get; private set; }

    /// <summary>
    /// The device end's current interface index. It changes when the device is re-created;
    /// after <see cref="DeleteDevice"/> it is the index it had.
    /// </summary>
    public int DeviceIndex { get; private set; }

    /// <summary>Whether the device end currently exists (false between <see cref="DeleteDevice"/> and <see cref="RecreateDevice"/>).</summary>
    public bool DeviceExists { get; private set; }

    /// <summary>The peer end's name, inside <see cref="PeerNamespace"/>: the id followed by <c>p</c>.</summary>
    public string PeerName => Id + "p";

    /// <summary>The peer end's MAC; it stays the same when the device is re-created.</summary>
    public PhysicalAddress PeerMac { get; }

    /// <summary>The device end's IPv4 address, 192.0.2.1 (in 192.0.2.0/24).</summary>
    public IPAddress DeviceIPv4 { get; } = IPAddress.Parse("192.0.2.1");

    /// <summary>The device end's IPv6 address, 2001:db8::1 (in 2001:db8::/64).</summary>
    public IPAddress DeviceIPv6 { get; } = IPAddress.Parse("2001:db8::1");

    /// <summary>The peer end's IPv4 address, 192.0.2.2 (in 192.0.2.0/24).</summary>
    public IPAddress PeerIPv4 { get; } = IPAddress.Parse("192.0.2.2");

    /// <summary>The peer end's IPv6 address, 2001:db8::2 (in 2001:db8::/64).</summary>
    public IPAddress PeerIPv6 { get; } = IPAddress.Parse("2001:db8::2");

    /// <summary>
    /// Creates the peer namespace and the veth pair, assigns the addresses, brings both ends
    /// and the peer's <c>lo</c> up, and returns once both ends have carrier.
    /// </summary>
    /// <param name="options">Names, log and namespace policy; null for the defaults.</param>
    /// <returns>The running lab; dispose it to remove everything it created.</returns>
    /// <exception cref="NetworkLabException">
    /// Not Linux or not root, the current namespace is not known to be private (see
    /// <see cref="NetworkLabOptions.AllowHostNamespace"/>), iproute2 is missing, or a command
    /// failed. Whatever was created before the failure is removed again.
    /// </exception>
    public static NetworkLab Create(NetworkLabOptions? options = null)
    {
        options = (options ?? new NetworkLabOptions()).Clone();
        RequireLinuxRoot();
        RequireNamespacePolicy(options);
        if (IpCommand.Path is null)
        {
            throw new NetworkLabException("The network lab needs iproute2's 'ip' command (Debian/Ubuntu: apt-get install iproute2).");
        }

        (string id, SafeFileHandle ownership) = ClaimId(options.NamePrefix);
        var lab = new NetworkLab(options, id, ownership);
        Live.TryAdd(lab, 0);
        try
        {
            lab.Build();
        }
        catch
        {
            lab.Dispose();
            throw;
        }

        return lab;
    }

    /// <summary>
    /// Removes everything this lab created: captures, sockets, the veth pair, the peer
    /// namespace and (with a router) the receiver namespace and its link. Never throws; problems go to <see cref="NetworkLabOptions.Log"/> and Debug.
    /// Calling it again does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Live.TryRemove(this, out _);
        lock (_gate)
        {
            foreach (LabCapture capture in _captures)
            {
                Try(capture.Dispose, $"stopping the capture on {capture.InterfaceName}");
            }

            foreach (Socket socket in _sockets)
            {
                Try(socket.Dispose, "closing a peer socket");
            }

            _captures.Clear();
            _sockets.Clear();

            // Deleting the device end first removes the pair synchronously; the namespace
            // teardown that would also remove it runs later in a kernel work queue.
            if (DeviceExists)
            {
                Try(() =>
                {
                    IpResult result = _ip.TryRun("link", "del", "dev", DeviceName);
                    if (!result.Succeeded && !result.Error.Contains("Cannot find device", StringComparison.Ordinal))
                    {
                        _log.Problem($"could not delete {DeviceName}: {result.Error.Trim()}");
                    }

                    DeviceExists = false;
                }, $"deleting {DeviceName}");
            }

            // The receiver namespace (with a router) goes first: it is named after the peer's.
            foreach (string name in new[] { ReceiverNamespace, Id })
            {
                Try(() =>
                {
                    if (File.Exists(Path.Combine(NetnsDirectory, name)))
                    {
                        IpResult result = _ip.TryRun("netns", "del", name);
                        if (!result.Succeeded)
                        {
                            _log.Problem($"could not delete namespace {name}: {result.Error.Trim()}");
                        }
                    }
                }, $"deleting namespace {name}");
            }

            // The ownership lock goes last, and stays (for CleanupStale) if a namespace could not be removed.
            Try(() =>
            {
                if (!File.Exists(PeerNamespacePath) && !File.Exists(ReceiverNamespacePath))
                {
                    File.Delete(OwnershipPath(Id));
                }

                _ownership?.Dispose();
                _ownership = null;
            }, "releasing the ownership lock");
        }
    }

    /// <summary>The same as <see cref="Dispose"/> (which blocks for a few milliseconds per command).</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"network lab {Id}: device {DeviceName} ({LabInterfaces.FormatMac(DeviceMac)}, #{DeviceIndex}{(DeviceExists ? "" : ", deleted")}) "
        + $"<-> peer {PeerName} ({LabInterfaces.FormatMac(PeerMac)}) in namespace {PeerNamespace}"
        + (HasRouter
            ? $", routing to receiver {ReceiverName} ({LabInterfaces.FormatMac(ReceiverMac)}, {ReceiverIPv4}, {ReceiverIPv6}) in namespace {ReceiverNamespace}"
            : "");

    /// <summary>A random locally administered unicast MAC: 02:xx:xx:xx:xx:xx.</summary>
    /// <returns>A new MAC.</returns>
    public static PhysicalAddress RandomMac()
    {
        byte[] bytes = new byte[6];
        RandomNumberGenerator.Fill(bytes.AsSpan(1));
        bytes[0] = 0x02;
        return new PhysicalAddress(bytes);
    }

    private static void RequireLinuxRoot()
    {
        const string Needs = "The network lab needs Linux and root (CAP_NET_ADMIN); run ./test.sh as root.";
        if (!OperatingSystem.IsLinux())
        {
            throw new NetworkLabException($"{Needs} This is not Linux ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}).");
        }

        if (LabNative.GetEffectiveUserId() != 0)
        {
            throw new NetworkLabException($"{Needs} This process is not root (euid {LabNative.GetEffectiveUserId()}).");
        }
    }

    private static void RequireNamespacePolicy(NetworkLabOptions options)
    {
        if (options.AllowHostNamespace || Volatile.Read(ref s_namespaceLooksPrivate))
        {
            return;
        }

        const string Instead = "Run inside a private namespace (./test.sh and ./demo.sh do: "
            + PrivateNamespaceVariable + "=1 unshare -n bash -c 'ip link set lo up && ...'), or set "
            + "NetworkLabOptions.AllowHostNamespace = true to create it here anyway.";
        if (Environment.GetEnvironmentVariable(PrivateNamespaceVariable) != "1")
        {
            throw new NetworkLabException(
                $"The network lab creates its device end in the current network namespace, and {PrivateNamespaceVariable} is not 1, "
                + $"so that may be the host's. {Instead}");
        }

        // The variable is a promise; check it as far as possible, since a wrong promise would
        // put the lab's routes next to a real network's (this very machine's gateway may be
        // a documentation address).
        string? problem = SharesInitNetworkNamespace()
            ? "it shares PID 1's network namespace"
            : ReasonNotPrivate(new IpCommand(new LabLog(options.Log, "lab preflight"), options.CommandTimeout));
        if (problem is not null)
        {
            throw new NetworkLabException(
                $"{PrivateNamespaceVariable}=1 says this process runs in a private network namespace, but {problem}. {Instead}");
        }

        Volatile.Write(ref s_namespaceLooksPrivate, true);
    }

    // Whether this process is in PID 1's network namespace; false when that cannot be told
    // (reading /proc/1/ns/net can be denied even to root, in containers).
    private static bool SharesInitNetworkNamespace()
    {
        try
        {
            string? self = new FileInfo("/proc/self/ns/net").LinkTarget;
            string? init = new FileInfo("/proc/1/ns/net").LinkTarget;
            return self is not null && self == init;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // A namespace made for tests (unshare -n plus labs) has no default route and only
    // loopback, link-local and documentation addresses; anything else means a real network.
    private static string? ReasonNotPrivate(IpCommand ip)
    {
        foreach (string family in new[] { "-4", "-6" })
        {
            using JsonDocument routes = JsonDocument.Parse(ip.Run("-j", family, "route", "show", "default"));
            if (routes.RootElement.GetArrayLength() > 0)
            {
                return $"it has a default route ({routes.RootElement[0]})";
            }
        }

        using JsonDocument links = JsonDocument.Parse(ip.Run("-j", "addr", "show"));
        foreach (JsonElement link in links.RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("addr_info", out JsonElement addresses))
            {
                continue;
            }

            foreach (JsonElement entry in addresses.EnumerateArray())
            {
                if (entry.TryGetProperty("local", out JsonElement local)
                    && IPAddress.TryParse(local.GetString(), out IPAddress? address)
                    && !IsLabSafe(address))
                {
                    return $"interface {link.GetProperty("ifname").GetString()} has the address {address}";
                }
            }
        }

        return null;
    }

    private static bool IsLabSafe(IPAddress address) =>
        IPAddress.IsLoopback(address)
        || address.IsIPv6LinkLocal
        || DocumentationNetworks.Any(network => network.Contains(address));

    private void Build()
    {
        lock (_gate)
        {
            // Not in a batch: ip netns add unshares its own process into the new namespace.
            _ip.Run("netns", "add", Id);
            if (HasRouter)
            {
                BuildRouter();
            }

            AddPair(DeviceName, DeviceMac, peerLoopback: true);
        }
    }

    // Creates the pair with the peer end directly in the peer namespace (so its name never
    // meets the current namespace's), then addresses, up, carrier: one ip -batch per side.
    private void AddPair(string deviceName, PhysicalAddress deviceMac, bool peerLoopback = false)
    {
        _ip.Run(
            "link", "add", deviceName, "address", LabInterfaces.FormatMac(deviceMac), "type", "veth",
            "peer", "name", PeerName, "address", LabInterfaces.FormatMac(PeerMac), "netns", Id);
        DeviceName = deviceName;
        DeviceMac = deviceMac;
        DeviceExists = true;
        KeepIpv6AddressesOnDown(deviceName);
        _ip.RunBatch(
            null,
            ["addr", "add", $"{DeviceIPv4}/{Ipv4PrefixLength}", "dev", deviceName],
            ["addr", "add", $"{DeviceIPv6}/{Ipv6PrefixLength}", "dev", deviceName, "nodad"],
            ["link", "set", "dev", deviceName, "up"]);
        string[][] peer =
        [
            ["addr", "add", $"{PeerIPv4}/{Ipv4PrefixLength}", "dev", PeerName],
            ["addr", "add", $"{PeerIPv6}/{Ipv6PrefixLength}", "dev", PeerName, "nodad"],
            ["link", "set", "dev", PeerName, "up"],
        ];
        _ip.RunBatch(Id, peerLoopback ? [["link", "set", "dev", "lo", "up"], .. peer] : peer);
        WaitForCarrier();
        AddRoutesViaRouter();
    }

    // /proc/sys/net answers for the calling thread's namespace, the one ip's children run in.
    private void KeepIpv6AddressesOnDown(string deviceName)
    {
        string path = $"/proc/sys/net/ipv6/conf/{deviceName}/keep_addr_on_down";
        _log.Write($"echo 1 > {path}");
        try
        {
            File.WriteAllText(path, "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NetworkLabException($"Could not set {path} (is IPv6 disabled?): {e.Message}", e);
        }
    }

    private void WaitForCarrier()
    {
        DateTime deadline = DateTime.UtcNow + _options.CarrierTimeout;
        while (true)
        {
            Netconsole.Devices.NetworkDevice? device = LabInterfaces.Query(_ip, DeviceName, null);
            Netconsole.Devices.NetworkDevice? peer = LabInterfaces.Query(_ip, PeerName, Id);
            if (device is { IsRunning: true } && peer is { IsRunning: true })
            {
                DeviceIndex = device.Index;
                DeviceMac = device.Mac;
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new NetworkLabException(
                    $"The veth pair did not get carrier within {_options.CarrierTimeout.TotalSeconds} s: "
                    + $"device {device?.ToString() ?? DeviceName + " missing"}, peer {peer?.ToString() ?? PeerName + " missing"}.");
            }

            Thread.Sleep(10);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private void Try(Action action, string what)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _log.Problem($"{what} failed: {e.GetType().Name}: {e.Message}");
        }
    }
}
