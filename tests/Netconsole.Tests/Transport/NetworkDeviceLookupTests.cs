using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;

namespace Netconsole.Tests.Transport;

// Integration tests of NetworkDevice's lookups, against lo and veth pairs created in the
// private network namespace.
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
public class NetworkDeviceLookupTests
{
    [SkippableFact]
    public void GetAll_lists_lo_with_its_index_state_and_addresses()
    {
        Lab.Require();

        NetworkDevice lo = NetworkDevice.GetAll().Single(d => d.Name == "lo");

        lo.Index.Should().Be(1);
        lo.IsUp.Should().BeTrue();
        lo.IsRunning.Should().BeTrue();
        lo.Mac.GetAddressBytes().Should().Equal(0, 0, 0, 0, 0, 0);
        lo.Addresses.Should().Contain([IPAddress.Loopback, IPAddress.IPv6Loopback]);
    }

    [SkippableFact]
    public void GetAll_lists_the_devices_in_index_order_as_the_kernel_numbers_them()
    {
        using VethPair veth = VethPair.Create();

        IReadOnlyList<NetworkDevice> all = NetworkDevice.GetAll();

        all.Select(d => d.Index).Should().BeInAscendingOrder();
        all.Single(d => d.Name == veth.A).Index.Should().Be(Lab.IndexOf(veth.A));
        all.Single(d => d.Name == veth.B).Index.Should().Be(Lab.IndexOf(veth.B));
    }

    [SkippableFact]
    public void FindByName_finds_a_veth_with_its_MAC_and_nothing_for_a_missing_name()
    {
        using VethPair veth = VethPair.Create();
        PhysicalAddress mac = PhysicalAddress.Parse("02-00-00-00-0a-01");
        Lab.Ip("link", "set", veth.A, "address", "02:00:00:00:0a:01");

        NetworkDevice? found = NetworkDevice.FindByName(veth.A);

        found.Should().NotBeNull();
        found!.Name.Should().Be(veth.A);
        found.Mac.Should().Be(mac);
        NetworkDevice.FindByName(Lab.UniqueName("x")).Should().BeNull();
    }

    [SkippableFact]
    public void IsUp_is_the_administrative_state_and_IsRunning_the_carrier()
    {
        using VethPair veth = VethPair.Create();

        veth.SetDown(veth.B);
        NetworkDevice noCarrier = WaitFor(veth.A, d => !d.IsRunning);
        NetworkDevice down = NetworkDevice.FindByName(veth.B)!;

        noCarrier.IsUp.Should().BeTrue();
        noCarrier.IsRunning.Should().BeFalse("a veth whose peer is down has no carrier");
        down.IsUp.Should().BeFalse();
        down.IsRunning.Should().BeFalse();
    }

    [SkippableFact]
    public void FindByMac_finds_the_device_with_that_MAC()
    {
        using VethPair veth = VethPair.Create();
        Lab.Ip("link", "set", veth.A, "address", "02:00:00:00:0b:01");

        NetworkDevice.FindByMac(PhysicalAddress.Parse("02-00-00-00-0b-01"))!.Name.Should().Be(veth.A);
        NetworkDevice.FindByMac(PhysicalAddress.Parse("02-00-00-00-0b-99")).Should().BeNull();
    }

    [SkippableFact]
    public void FindByMac_picks_the_lowest_index_when_devices_share_a_MAC()
    {
        using VethPair veth = VethPair.Create();
        Lab.Ip("link", "set", veth.A, "address", "02:00:00:00:0c:01");
        Lab.Ip("link", "set", veth.B, "address", "02:00:00:00:0c:01");
        string first = Lab.IndexOf(veth.A) < Lab.IndexOf(veth.B) ? veth.A : veth.B;

        NetworkDevice.FindByMac(PhysicalAddress.Parse("02-00-00-00-0c-01"))!.Name.Should().Be(first);
    }

    [SkippableFact]
    public void FindByMac_never_finds_the_loopback_device()
    {
        Lab.Require();

        NetworkDevice.FindByMac(new PhysicalAddress(new byte[6])).Should().BeNull("lo's all-zero MAC names no Ethernet device");
    }

    [SkippableFact]
    public void Addresses_are_in_system_order_and_FirstAddress_follows_the_kernel()
    {
        using VethPair veth = VethPair.Create();
        Lab.Ip("address", "add", "192.0.2.1/24", "dev", veth.A);
        Lab.Ip("address", "add", "192.0.2.7/24", "dev", veth.A);
        Lab.Ip("address", "add", "2001:db8::1/64", "dev", veth.A, "nodad");
        NetworkDevice device = WaitFor(veth.A, d => d.Addresses.Any(a => a.IsIPv6LinkLocal));

        device.Addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork)
            .Should().Equal(IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.7"));
        device.FirstAddress(AddressFamily.InterNetwork, linkLocal: false).Should().Be(IPAddress.Parse("192.0.2.1"));
        device.FirstAddress(AddressFamily.InterNetworkV6, linkLocal: false).Should().Be(IPAddress.Parse("2001:db8::1"));
        device.FirstAddress(AddressFamily.InterNetworkV6, linkLocal: true)!.IsIPv6LinkLocal.Should().BeTrue();
    }

    // The kernel adds the IPv6 link-local address, and updates the operational state, shortly
    // after the change that causes it.
    private static NetworkDevice WaitFor(string name, Func<NetworkDevice, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            NetworkDevice device = NetworkDevice.FindByName(name)!;
            if (condition(device) || clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                return device;
            }

            Thread.Sleep(20);
        }
    }
}
