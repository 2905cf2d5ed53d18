using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Netconsole.Lab;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Lab;

// NetworkLabOptions.Router: the peer namespace forwards to a receiver namespace on another
// documentation network, so a receiver is reachable only through a gateway.
[Collection(LabTestsRunAlone.Name)]
public sealed class NetworkLabRouterTests(ITestOutputHelper output)
{
    private static NetworkLab CreateRouterLab(ITestOutputHelper output) => CreateLab(output, new NetworkLabOptions { Router = true });

    private static string ReadInside(NetworkLab lab, bool receiver, string path) =>
        receiver ? lab.RunInReceiverNamespace(() => File.ReadAllText(path).Trim()) : lab.RunInPeerNamespace(() => File.ReadAllText(path).Trim());

    // The route the current namespace uses to reach an address: (gateway, device).
    private static (string? Gateway, string Device) RouteTo(IPAddress address)
    {
        using JsonDocument route = JsonDocument.Parse(Ip("-j", "route", "get", address.ToString()));
        JsonElement first = route.RootElement[0];
        return (first.TryGetProperty("gateway", out JsonElement gateway) ? gateway.GetString() : null, first.GetProperty("dev").GetString()!);
    }

    [SkippableFact]
    public void Create_with_a_router_makes_a_forwarding_peer_a_receiver_namespace_and_routes_both_ways()
    {
        using NetworkLab lab = CreateRouterLab(output);

        lab.HasRouter.Should().BeTrue();
        Namespaces().Should().Contain([lab.PeerNamespace, lab.ReceiverNamespace]);
        lab.ReceiverNamespace.Should().Be(lab.Id + "x");
        Links(lab.PeerNamespace).Should().BeEquivalentTo(["lo", lab.PeerName, lab.RouterReceiverSideName]);
        Links(lab.ReceiverNamespace).Should().BeEquivalentTo(["lo", lab.ReceiverName]);
        ReadInside(lab, receiver: false, "/proc/sys/net/ipv4/ip_forward").Should().Be("1");
        ReadInside(lab, receiver: false, "/proc/sys/net/ipv6/conf/all/forwarding").Should().Be("1");
        ReadInside(lab, receiver: true, "/proc/sys/net/ipv4/ip_forward").Should().Be("0", "the receiver is a host, not a router");
        lab.RouterMac.Should().Be(lab.PeerMac);
        new[] { lab.RouterMac, lab.RouterReceiverSideMac, lab.ReceiverMac, lab.DeviceMac }.Should().OnlyHaveUniqueItems();

        RouteTo(lab.ReceiverIPv4).Should().Be((lab.PeerIPv4.ToString(), lab.DeviceName));
        RouteTo(lab.ReceiverIPv6).Should().Be((lab.PeerIPv6.ToString(), lab.DeviceName));
        Ip("-n", lab.ReceiverNamespace, "route", "show").Should().Contain($"192.0.2.0/24 via {lab.RouterReceiverSideIPv4}");
        Ip("-n", lab.ReceiverNamespace, "-6", "route", "show").Should().Contain($"2001:db8::/64 via {lab.RouterReceiverSideIPv6}");
    }

    [SkippableTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public void A_datagram_from_the_device_end_is_forwarded_to_the_receiver_and_the_reply_comes_back(AddressFamily family)
    {
        using NetworkLab lab = CreateRouterLab(output);
        Requires.Libpcap();
        bool v4 = family == AddressFamily.InterNetwork;
        IPAddress receiverAddress = v4 ? lab.ReceiverIPv4 : lab.ReceiverIPv6;
        using LabCapture onDevice = lab.StartCapture(onPeer: false, bpfFilter: "udp port 6666");
        using LabCapture atReceiver = lab.StartReceiverCapture("udp port 6666");
        Socket receiver = lab.OpenReceiverUdpSocket(family, 6666);
        Socket sender = lab.OpenDeviceUdpSocket(family);
        byte[] payload = Encoding.ASCII.GetBytes($"through the router over {family}");

        sender.SendTo(payload, new IPEndPoint(receiverAddress, 6666));

        (byte[] received, IPEndPoint from) = Receive(receiver);
        received.Should().Equal(payload);
        from.Address.Should().Be(v4 ? lab.DeviceIPv4 : lab.DeviceIPv6);
        byte[] sent = onDevice.WaitForFrames(1, Patience)[0].Data;
        new PhysicalAddress(sent[..6]).Should().Be(lab.RouterMac, "the device end hands the datagram to its gateway");
        byte[] forwarded = atReceiver.WaitForFrames(1, Patience)[0].Data;
        new PhysicalAddress(forwarded[..6]).Should().Be(lab.ReceiverMac);
        new PhysicalAddress(forwarded[6..12]).Should().Be(lab.RouterReceiverSideMac, "the router re-addressed the frame");
        int hopsLeft(byte[] frame) => v4 ? frame[14 + 8] : frame[14 + 7];
        hopsLeft(forwarded).Should().Be(hopsLeft(sent) - 1, "forwarding decrements the TTL / hop limit");

        receiver.SendTo("reply"u8.ToArray(), from);
        Receive(sender).Payload.Should().Equal("reply"u8.ToArray(), "the receiver routes the device link back via the router");
    }

    [SkippableFact]
    public void The_routes_via_the_router_come_back_when_the_device_is_re_created_or_set_up_again()
    {
        using NetworkLab lab = CreateRouterLab(output);

        lab.DeleteDevice();
        lab.RecreateDevice(lab.NewDeviceName());

        RouteTo(lab.ReceiverIPv4).Should().Be((lab.PeerIPv4.ToString(), lab.DeviceName));
        AssertFlowsToReceiver(lab, AddressFamily.InterNetwork);
        AssertFlowsToReceiver(lab, AddressFamily.InterNetworkV6);

        lab.SetDeviceDown();
        lab.SetDeviceUp();

        AssertFlowsToReceiver(lab, AddressFamily.InterNetwork);
        AssertFlowsToReceiver(lab, AddressFamily.InterNetworkV6);
    }

    [SkippableFact]
    public void Two_router_labs_in_one_namespace_each_reach_their_own_receiver()
    {
        using NetworkLab first = CreateRouterLab(output);
        using NetworkLab second = CreateRouterLab(output);

        first.RouteMetric.Should().NotBe(second.RouteMetric, "both route 198.51.100.0/24, so their routes differ in metric");
        AssertFlowsToReceiver(second, AddressFamily.InterNetwork);
        AssertFlowsToReceiver(first, AddressFamily.InterNetworkV6);
    }

    [SkippableFact]
    public void Dispose_removes_the_receiver_namespace_the_routes_and_the_lock()
    {
        NetworkLab lab = CreateRouterLab(output);
        string id = lab.Id;
        string receiverNamespace = lab.ReceiverNamespace;
        Socket socket = lab.OpenReceiverUdpSocket(AddressFamily.InterNetwork, 6666);

        lab.Dispose();

        Namespaces().Should().NotContain([id, receiverNamespace]);
        Links().Should().NotContain(name => name.StartsWith(id, StringComparison.Ordinal));
        Ip("route", "show").Should().NotContain("198.51.100.0/24");
        Ip("-6", "route", "show").Should().NotContain("2001:db8:100::/64");
        File.Exists(Path.Combine(NetworkLab.LockDirectory, id + ".lock")).Should().BeFalse();
        socket.SafeHandle.IsClosed.Should().BeTrue();
    }

    [SkippableFact]
    public void A_lab_without_a_router_refuses_the_receiver_helpers()
    {
        using NetworkLab lab = CreateLab(output);

        lab.HasRouter.Should().BeFalse();
        Namespaces().Should().NotContain(lab.ReceiverNamespace);
        FluentActions.Invoking(() => lab.OpenReceiverUdpSocket(AddressFamily.InterNetwork, 6666))
            .Should().Throw<InvalidOperationException>().WithMessage("*Router = true*");
        FluentActions.Invoking(() => lab.StartReceiverCapture()).Should().Throw<InvalidOperationException>();
    }

    [SkippableFact]
    public void CleanupStale_removes_a_crashed_router_labs_receiver_namespace()
    {
        RequireLab();
        string prefix = "nt" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2));
        var options = new NetworkLabOptions { NamePrefix = prefix, Log = new TestOutputWriter(output) };
        string crashed = prefix + "0dead";
        string orphanReceiver = prefix + "0beef" + NetworkLab.ReceiverNamespaceSuffix;
        Ip("netns", "add", crashed);
        Ip("netns", "add", crashed + NetworkLab.ReceiverNamespaceSuffix);
        Ip("netns", "add", orphanReceiver);
        Directory.CreateDirectory(NetworkLab.LockDirectory);
        File.WriteAllText(Path.Combine(NetworkLab.LockDirectory, crashed + ".lock"), "pid 0 (crashed)\n");
        try
        {
            using NetworkLab live = NetworkLab.Create(new NetworkLabOptions { NamePrefix = prefix, Router = true, Log = options.Log });

            IReadOnlyList<string> removed = NetworkLab.CleanupStale(options);

            removed.Should().BeEquivalentTo(["netns " + crashed + "x", "netns " + crashed, "lock " + crashed, "netns " + orphanReceiver]);
            Namespaces().Should().NotContain([crashed, crashed + "x", orphanReceiver]).And.Contain([live.PeerNamespace, live.ReceiverNamespace]);
            AssertFlowsToReceiver(live, AddressFamily.InterNetwork);
        }
        finally
        {
            NetworkLab.CleanupStale(options);
        }
    }

    private static void AssertFlowsToReceiver(NetworkLab lab, AddressFamily family)
    {
        using Socket receiver = lab.OpenReceiverUdpSocket(family, 0);
        using Socket sender = lab.OpenDeviceUdpSocket(family);
        byte[] payload = Encoding.ASCII.GetBytes($"to {lab.ReceiverNamespace} over {family}");

        sender.SendTo(payload, receiver.LocalEndPoint!);

        Receive(receiver).Payload.Should().Equal(payload);
    }
}
