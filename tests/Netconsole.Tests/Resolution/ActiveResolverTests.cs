using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Lab;
using Netconsole.Resolution;
using Netconsole.Tests.Support;
using Netconsole.Transport;
using Xunit.Abstractions;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Resolution;

[Collection(Netconsole.Tests.Integration.LabCollection.Name)]
public sealed class ActiveResolverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private static readonly IPAddress NobodyIPv4 = IPAddress.Parse("192.0.2.99");
    private static readonly IPAddress NobodyIPv6 = IPAddress.Parse("2001:db8::99");
    private static readonly PhysicalAddress SomeMac = PhysicalAddress.Parse("02-00-5E-10-00-01");

    [SkippableFact]
    public void Arp_resolves_the_peer_with_an_empty_neighbour_table()
    {
        using NetworkLab lab = CreateResolutionLab();

        PhysicalAddress? mac = ActiveResolver.Resolve(lab.DeviceName, lab.DeviceMac, lab.DeviceIPv4, lab.PeerIPv4, Timeout, 3);

        mac.Should().Be(lab.PeerMac);
    }

    [SkippableFact]
    public void Neighbor_solicitation_resolves_the_peer_with_an_empty_neighbour_table()
    {
        using NetworkLab lab = CreateResolutionLab();

        PhysicalAddress? mac = ActiveResolver.Resolve(lab.DeviceName, lab.DeviceMac, lab.DeviceIPv6, lab.PeerIPv6, Timeout, 3);

        mac.Should().Be(lab.PeerMac);
    }

    [SkippableFact]
    public void Arp_for_an_address_nobody_owns_gives_null_after_one_request_per_attempt()
    {
        using NetworkLab lab = CreateResolutionLab();
        using LabCapture capture = lab.StartCapture(bpfFilter: "arp and arp[24:4] = 0xc0000263"); // target 192.0.2.99

        PhysicalAddress? mac = ActiveResolver.Resolve(lab.DeviceName, lab.DeviceMac, lab.DeviceIPv4, NobodyIPv4, Timeout, 3);

        mac.Should().BeNull();
        IReadOnlyList<CapturedFrame> requests = capture.WaitForFrames(3, Patience);
        byte[] expected = ArpFrames.BuildRequest(lab.DeviceMac, lab.DeviceIPv4, NobodyIPv4);
        requests.Should().AllSatisfy(f => f.Data.Take(ArpFrames.RequestLength).Should().Equal(expected));
    }

    [SkippableFact]
    public void Neighbor_solicitation_for_an_address_nobody_owns_gives_null_after_one_request_per_attempt()
    {
        using NetworkLab lab = CreateResolutionLab();
        using LabCapture capture = lab.StartCapture(bpfFilter: "icmp6 and ip6[40] == 135 and ip6 dst ff02::1:ff00:99");

        PhysicalAddress? mac = ActiveResolver.Resolve(lab.DeviceName, lab.DeviceMac, lab.DeviceIPv6, NobodyIPv6, Timeout, 3);

        mac.Should().BeNull();
        IReadOnlyList<CapturedFrame> requests = capture.WaitForFrames(3, Patience);
        byte[] expected = NdpFrames.BuildSolicitation(lab.DeviceMac, lab.DeviceIPv6, NobodyIPv6);
        requests.Should().AllSatisfy(f => f.Data.Should().Equal(expected));
    }

    [SkippableFact]
    public void A_missing_device_is_a_transport_error_not_a_null()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();

        FluentActions.Invoking(() => ActiveResolver.Resolve("ncl-missing0", SomeMac, IPAddress.Parse("192.0.2.1"), NobodyIPv4, Timeout, 1))
            .Should().Throw<FrameTransportException>().Which.Error.Should().Be(FrameTransportError.NoSuchDevice);
    }

    [Fact]
    public void Arguments_are_checked_before_any_device_is_opened()
    {
        IPAddress v4 = IPAddress.Parse("192.0.2.1");
        IPAddress v6 = IPAddress.Parse("2001:db8::1");

        FluentActions.Invoking(() => ActiveResolver.Resolve("ncl-missing0", SomeMac, v4, NobodyIPv6, Timeout, 1))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve("ncl-missing0", SomeMac, v6, NobodyIPv6, TimeSpan.Zero, 1))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve("ncl-missing0", SomeMac, v6, NobodyIPv6, Timeout, 0))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve("", SomeMac, v6, NobodyIPv6, Timeout, 1))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve("ncl-missing0", PhysicalAddress.None, v6, NobodyIPv6, Timeout, 1))
            .Should().Throw<ArgumentException>();
    }

    private NetworkLab CreateResolutionLab()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        NetworkLab lab = CreateLab(output);
        try
        {
            Ip("neigh", "flush", "dev", lab.DeviceName);
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }
}
