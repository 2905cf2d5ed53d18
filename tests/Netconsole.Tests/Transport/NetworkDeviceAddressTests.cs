using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;

namespace Netconsole.Tests.Transport;

// The kernel's choice of a local address when a target leaves local_ip unset.
public class NetworkDeviceAddressTests
{
    private static NetworkDevice Device(params string[] addresses) =>
        new(2, "veth0", PhysicalAddress.Parse("02-00-00-00-00-01"), true, true, addresses.Select(IPAddress.Parse).ToList());

    [Fact]
    public void IPv4_takes_the_first_IPv4_address_even_after_IPv6_ones()
    {
        NetworkDevice device = Device("2001:db8::1", "fe80::1", "192.0.2.1", "192.0.2.7");

        device.FirstAddress(AddressFamily.InterNetwork, linkLocal: false).Should().Be(IPAddress.Parse("192.0.2.1"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IPv4_ignores_link_local_ness_like_the_kernel(bool linkLocal)
    {
        NetworkDevice device = Device("169.254.1.1", "192.0.2.1");

        device.FirstAddress(AddressFamily.InterNetwork, linkLocal).Should().Be(IPAddress.Parse("169.254.1.1"));
    }

    [Fact]
    public void IPv6_for_a_non_link_local_remote_takes_the_first_non_link_local_address()
    {
        NetworkDevice device = Device("192.0.2.1", "fe80::1", "2001:db8::1", "2001:db8::2");

        device.FirstAddress(AddressFamily.InterNetworkV6, linkLocal: false).Should().Be(IPAddress.Parse("2001:db8::1"));
    }

    [Fact]
    public void IPv6_for_a_link_local_remote_takes_the_first_link_local_address()
    {
        NetworkDevice device = Device("2001:db8::1", "fe80::1", "fe80::2");

        device.FirstAddress(AddressFamily.InterNetworkV6, linkLocal: true).Should().Be(IPAddress.Parse("fe80::1"));
    }

    [Fact]
    public void IPv6_with_only_link_local_addresses_has_none_for_a_global_remote()
    {
        NetworkDevice device = Device("192.0.2.1", "fe80::1");

        device.FirstAddress(AddressFamily.InterNetworkV6, linkLocal: false).Should().BeNull();
    }

    [Fact]
    public void A_device_without_an_address_of_the_family_has_none()
    {
        Device("2001:db8::1").FirstAddress(AddressFamily.InterNetwork, linkLocal: false).Should().BeNull();
        Device().FirstAddress(AddressFamily.InterNetworkV6, linkLocal: true).Should().BeNull();
    }

    [Fact]
    public void A_family_other_than_IPv4_or_IPv6_is_refused()
    {
        Action act = () => Device("192.0.2.1").FirstAddress(AddressFamily.Unix, linkLocal: false);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("family");
    }
}
