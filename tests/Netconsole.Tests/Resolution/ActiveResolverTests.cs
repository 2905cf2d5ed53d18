using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Lab;
using Netconsole.Resolution;
using Netconsole.Tests.Support;
using Netconsole.Transport;
using Xunit.Abstractions;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Resolution;

/// <summary>ARP / Neighbor Discovery through each real transport and its capture (a libpcap handle, or a packet socket), in the lab.</summary>
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab
public sealed class ActiveResolverTests(ITestOutputHelper output)
{
    public static TheoryData<string> Transports => [.. Netconsole.Tests.Transport.LabTransports.Kinds];

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private static readonly IPAddress NobodyIPv4 = IPAddress.Parse("192.0.2.99");
    private static readonly IPAddress NobodyIPv6 = IPAddress.Parse("2001:db8::99");

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Arp_resolves_the_peer_with_an_empty_neighbour_table(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();

        PhysicalAddress? mac = Resolve(kind, lab, lab.DeviceName, lab.DeviceIPv4, lab.PeerIPv4);

        mac.Should().Be(lab.PeerMac);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Neighbor_solicitation_resolves_the_peer_with_an_empty_neighbour_table(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();

        PhysicalAddress? mac = Resolve(kind, lab, lab.DeviceName, lab.DeviceIPv6, lab.PeerIPv6);

        mac.Should().Be(lab.PeerMac);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Arp_for_an_address_nobody_owns_gives_null_after_one_request_per_attempt(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();
        using LabCapture capture = lab.StartCapture(bpfFilter: "arp and arp[24:4] = 0xc0000263"); // target 192.0.2.99

        PhysicalAddress? mac = Resolve(kind, lab, lab.DeviceName, lab.DeviceIPv4, NobodyIPv4);

        mac.Should().BeNull();
        IReadOnlyList<CapturedFrame> requests = capture.WaitForFrames(3, Patience);
        byte[] expected = ArpFrames.BuildRequest(lab.DeviceMac, lab.DeviceIPv4, NobodyIPv4);
        requests.Should().AllSatisfy(f => f.Data.Take(ArpFrames.RequestLength).Should().Equal(expected));
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Neighbor_solicitation_for_an_address_nobody_owns_gives_null_after_one_request_per_attempt(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();
        using LabCapture capture = lab.StartCapture(bpfFilter: "icmp6 and ip6[40] == 135 and ip6 dst ff02::1:ff00:99");

        PhysicalAddress? mac = Resolve(kind, lab, lab.DeviceName, lab.DeviceIPv6, NobodyIPv6);

        mac.Should().BeNull();
        IReadOnlyList<CapturedFrame> requests = capture.WaitForFrames(3, Patience);
        byte[] expected = NdpFrames.BuildSolicitation(lab.DeviceMac, lab.DeviceIPv6, NobodyIPv6);
        requests.Should().AllSatisfy(f => f.Data.Should().Equal(expected));
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void The_capture_follows_a_renamed_device_as_the_transport_does(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();
        using IFrameTransport transport = Netconsole.Tests.Transport.LabTransports.Open(kind, lab.DeviceName);
        lab.RenameDevice(lab.NewDeviceName());

        using IFrameCapture capture = transport.OpenCapture()!;
        PhysicalAddress? mac = ActiveResolver.Resolve(transport, capture, lab.DeviceMac, lab.DeviceIPv4, lab.PeerIPv4, Timeout, 3);

        mac.Should().Be(lab.PeerMac);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_capture_on_a_device_that_went_away_is_a_transport_error_even_when_its_name_is_back(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();
        using IFrameTransport transport = Netconsole.Tests.Transport.LabTransports.Open(kind, lab.DeviceName);
        lab.DeleteDevice();
        lab.RecreateDevice(); // same name, another device: never captured on

        FluentActions.Invoking(() => transport.OpenCapture()!.Dispose())
            .Should().Throw<FrameTransportException>().Which.Error.Should().Be(FrameTransportError.DeviceGone);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_closed_transport_opens_no_capture(string kind)
    {
        using NetworkLab lab = CreateResolutionLab();
        IFrameTransport transport = Netconsole.Tests.Transport.LabTransports.Open(kind, lab.DeviceName);
        transport.Dispose();

        FluentActions.Invoking(() => transport.OpenCapture()!.Dispose())
            .Should().Throw<FrameTransportException>().Which.Error.Should().Be(FrameTransportError.Closed);
    }

    private static PhysicalAddress? Resolve(string kind, NetworkLab lab, string deviceName, IPAddress source, IPAddress target)
    {
        using IFrameTransport transport = Netconsole.Tests.Transport.LabTransports.Open(kind, deviceName);
        using IFrameCapture capture = transport.OpenCapture()!;
        return ActiveResolver.Resolve(transport, capture, lab.DeviceMac, source, target, Timeout, 3);
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
