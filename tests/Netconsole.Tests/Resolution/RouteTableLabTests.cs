using System.Net;
using System.Runtime.Versioning;
using Netconsole.Lab;
using Netconsole.Resolution;
using Netconsole.Tests.Support;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Resolution;

// RTM_GETROUTE against the kernel in the private namespace. Several labs may share it (each with
// 192.0.2.1 on its own device), so lookups on the lab's subnet give the device as a hint.
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class RouteTableLabTests
{
    private static NetworkLab CreateLab()
    {
        Requires.LinuxRoot();
        Requires.PrivateNetworkNamespace();
        return NetworkLab.Create(new NetworkLabOptions { Log = new StringWriter() });
    }

    [SkippableFact]
    public void An_on_link_IPv4_peer_is_reached_directly_on_the_device()
    {
        using NetworkLab lab = CreateLab();

        RouteInfo? route = RouteTable.Lookup(lab.PeerIPv4, lab.DeviceIndex);

        route.Should().Be(new RouteInfo(lab.DeviceIndex, null, lab.DeviceIPv4));
    }

    [SkippableFact]
    public void An_on_link_IPv6_peer_is_reached_directly_on_the_device()
    {
        using NetworkLab lab = CreateLab();

        RouteInfo? route = RouteTable.Lookup(lab.PeerIPv6, lab.DeviceIndex);

        route.Should().NotBeNull();
        route!.InterfaceIndex.Should().Be(lab.DeviceIndex);
        route.Gateway.Should().BeNull();
    }

    [SkippableFact]
    public void A_prefix_via_a_gateway_gives_the_gateway_IPv4()
    {
        using NetworkLab lab = CreateLab();
        Ip("route", "add", "198.51.100.0/24", "via", lab.PeerIPv4.ToString(), "dev", lab.DeviceName);

        RouteInfo? route = RouteTable.Lookup(IPAddress.Parse("198.51.100.7"), lab.DeviceIndex);

        route.Should().Be(new RouteInfo(lab.DeviceIndex, lab.PeerIPv4, lab.DeviceIPv4));
    }

    [SkippableFact]
    public void A_prefix_via_a_gateway_gives_the_gateway_IPv6()
    {
        using NetworkLab lab = CreateLab();
        Ip("-6", "route", "add", "2001:db8:1::/64", "via", lab.PeerIPv6.ToString(), "dev", lab.DeviceName);

        RouteInfo? route = RouteTable.Lookup(IPAddress.Parse("2001:db8:1::7"), lab.DeviceIndex);

        route.Should().NotBeNull();
        route!.InterfaceIndex.Should().Be(lab.DeviceIndex);
        route.Gateway.Should().Be(lab.PeerIPv6);
    }

    [SkippableFact]
    public void An_address_without_any_route_has_none()
    {
        Requires.LinuxRoot();
        Requires.PrivateNetworkNamespace();
        Ip("route", "show", "default").Should().BeEmpty("the private namespace has no default route");
        Ip("-6", "route", "show", "default").Should().BeEmpty("the private namespace has no default route");

        RouteTable.Lookup(IPAddress.Parse("203.0.113.9")).Should().BeNull();
        RouteTable.Lookup(IPAddress.Parse("2001:db8:ffff::9")).Should().BeNull();
    }
}
