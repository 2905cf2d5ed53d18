using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Lab;
using Netconsole.Resolution;
using Netconsole.Tests.Support;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Resolution;

// RTM_GETNEIGH against the kernel in the private namespace: the kernel resolves the peer when a
// datagram goes out through its own stack; the lookup then finds the peer's MAC.
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class NeighbourTableLabTests
{
    public static TheoryData<AddressFamily> Families => new() { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 };

    private static NetworkLab CreateLab()
    {
        Requires.LinuxRoot();
        Requires.PrivateNetworkNamespace();
        return NetworkLab.Create(new NetworkLabOptions { Log = new StringWriter() });
    }

    private static IPAddress PeerAddress(NetworkLab lab, AddressFamily family) =>
        family == AddressFamily.InterNetwork ? lab.PeerIPv4 : lab.PeerIPv6;

    // Sends datagrams until the kernel has resolved the peer (NDP may wait for DAD first).
    private static PhysicalAddress? ResolveThroughKernel(NetworkLab lab, AddressFamily family)
    {
        IPAddress peer = PeerAddress(lab, family);
        using Socket socket = lab.OpenDeviceUdpSocket(family);
        DateTime deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            socket.SendTo("resolve"u8.ToArray(), new IPEndPoint(peer, 9));
            PhysicalAddress? mac = NeighbourTable.Lookup(lab.DeviceIndex, peer);
            if (mac is not null || DateTime.UtcNow > deadline)
            {
                return mac;
            }

            Thread.Sleep(50);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Families))]
    public void After_the_kernel_resolves_the_peer_the_lookup_gives_its_mac(AddressFamily family)
    {
        using NetworkLab lab = CreateLab();

        ResolveThroughKernel(lab, family).Should().Be(lab.PeerMac);
    }

    [SkippableTheory]
    [MemberData(nameof(Families))]
    public void After_a_flush_the_lookup_gives_nothing(AddressFamily family)
    {
        using NetworkLab lab = CreateLab();
        ResolveThroughKernel(lab, family).Should().Be(lab.PeerMac);

        Ip("neigh", "flush", "dev", lab.DeviceName);

        NeighbourTable.Lookup(lab.DeviceIndex, PeerAddress(lab, family)).Should().BeNull();
    }

    [SkippableFact]
    public void Another_interface_index_does_not_match()
    {
        using NetworkLab lab = CreateLab();
        ResolveThroughKernel(lab, AddressFamily.InterNetwork).Should().Be(lab.PeerMac);

        NeighbourTable.Lookup(1, lab.PeerIPv4).Should().BeNull("lo (index 1) has no entry for the peer");
    }

    [SkippableFact]
    public void An_unknown_neighbour_gives_nothing()
    {
        using NetworkLab lab = CreateLab();

        NeighbourTable.Lookup(lab.DeviceIndex, IPAddress.Parse("192.0.2.200")).Should().BeNull();
    }
}
