using System.Net;
using Netconsole.Devices;
using Netconsole.Resolution;

namespace Netconsole.Tests.Resolution;

/// <summary>
/// Off Linux there is no route lookup: the next hop is chosen from what the system tells of the
/// device (its addresses with their prefix lengths, its gateways), so a remote behind a router
/// is reached through the router's MAC instead of an ARP for the remote that nobody answers.
/// </summary>
public sealed class PortableNextHopTests
{
    private static readonly (IPAddress, int)[] OnLink =
    [
        (IPAddress.Parse("192.0.2.1"), 24),
        (IPAddress.Parse("2001:db8:1::1"), 64),
        (IPAddress.Parse("fe80::1"), 64),
    ];

    private static readonly IPAddress[] Gateways = [IPAddress.Parse("fe80::fe"), IPAddress.Parse("192.0.2.254")];

    [Theory]
    [InlineData("192.0.2.2", "192.0.2.2")]
    [InlineData("192.0.2.255", "192.0.2.255")]
    [InlineData("198.51.100.7", "192.0.2.254")]
    [InlineData("2001:db8:1::2", "2001:db8:1::2")]
    [InlineData("2001:db8:2::2", "fe80::fe")]
    [InlineData("fe80::99", "fe80::99")]
    public void The_remote_when_on_a_prefix_of_the_device_else_its_gateway_of_the_same_family(string remote, string hop)
    {
        NextHop.ChooseHop(IPAddress.Parse(remote), OnLink, Gateways).Should().Be(IPAddress.Parse(hop));
    }

    [Theory]
    [InlineData(23, "192.0.3.9", "192.0.3.9")]
    [InlineData(24, "192.0.3.9", "192.0.2.254")]
    [InlineData(25, "192.0.2.200", "192.0.2.254")]
    [InlineData(25, "192.0.2.100", "192.0.2.100")]
    public void Prefix_lengths_that_are_not_whole_bytes_count_bit_by_bit(int prefixLength, string remote, string hop)
    {
        NextHop.ChooseHop(IPAddress.Parse(remote), [(IPAddress.Parse("192.0.2.1"), prefixLength)], [IPAddress.Parse("192.0.2.254")])
            .Should().Be(IPAddress.Parse(hop));
    }

    [Fact]
    public void Without_a_gateway_of_its_family_the_remote_itself_is_asked()
    {
        NextHop.ChooseHop(IPAddress.Parse("198.51.100.7"), OnLink, [IPAddress.Parse("fe80::fe"), IPAddress.Any])
            .Should().Be(IPAddress.Parse("198.51.100.7"));
    }

    [Fact]
    public void A_prefix_length_the_system_did_not_know_claims_nothing_on_link()
    {
        NextHop.ChooseHop(IPAddress.Parse("192.0.2.2"), [(IPAddress.Parse("192.0.2.1"), 0)], [IPAddress.Parse("192.0.2.254")])
            .Should().Be(IPAddress.Parse("192.0.2.254"));
    }

    [SkippableFact]
    public void The_prefixes_and_gateways_come_from_the_system_by_interface_index()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it reads the prefixes of Linux's lo");
        NetworkDevice lo = NetworkDevice.FindByName("lo") ?? throw new InvalidOperationException("Linux has lo");

        var known = NetworkDevice.GetPrefixesAndGateways(lo.Index);

        known.Should().NotBeNull();
        known!.Value.Prefixes.Should().Contain((IPAddress.Loopback, 8));
        NextHop.ChooseHop(IPAddress.Parse("127.0.0.9"), known.Value.Prefixes, known.Value.Gateways).Should().Be(IPAddress.Parse("127.0.0.9"));
        NetworkDevice.GetPrefixesAndGateways(int.MaxValue).Should().BeNull("no device has that index");
    }
}
