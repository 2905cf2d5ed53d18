using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Integration;

/// <summary>
/// The logging provider with a target written "+@/,@ip/" (no device, no MAC): records logged
/// through ILogger arrive at a receiver on the device's link and behind the lab's router, in
/// frames addressed to the resolved next hop's MAC (the peer, or the router), never broadcast.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class ResolutionEndToEndTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly PhysicalAddress BroadcastMac = PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF");

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Records_logged_to_a_target_without_device_or_mac_arrive_in_frames_to_the_next_hops_mac(bool ipv6, bool behindRouter)
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        using NetworkLab lab = NetworkLab.Create(new NetworkLabOptions { Router = behindRouter });
        FlushNeighbours(lab); // the next hop is found by ARP / neighbour solicitation, not taken from the kernel
        AddressFamily family = ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        IPAddress remote = behindRouter ? (ipv6 ? lab.ReceiverIPv6 : lab.ReceiverIPv4) : (ipv6 ? lab.PeerIPv6 : lab.PeerIPv4);
        await using var receiver = new NetconsoleReceiver(behindRouter ? lab.OpenReceiverUdpSocket(family, 6666) : lab.OpenPeerUdpSocket(family, 6666));
        using LabCapture onDevice = lab.StartCapture(onPeer: false, bpfFilter: "udp port 6666");

        using (ILoggerFactory factory = LoggerFactory.Create(b => b.AddNetconsole(o => o.Targets.Add($"+@/,@{remote}/"))))
        {
            ILogger logger = factory.CreateLogger("Lab.Resolution");
            logger.LogWarning("no device, no MAC");
            logger.LogError("second record");
        }

        using var timeout = new CancellationTokenSource(Wait);
        ReceivedRecord first = await receiver.ReadAsync(timeout.Token);
        ReceivedRecord second = await receiver.ReadAsync(timeout.Token);
        first.TextString.Should().Be("no device, no MAC");
        first.FindValue("CATEGORY").Should().Be("Lab.Resolution");
        first.Sender.Address.Should().Be(ipv6 ? lab.DeviceIPv6 : lab.DeviceIPv4, "the source is the address of the device the route chose");
        second.TextString.Should().Be("second record");
        second.Sequence.Should().Be(first.Sequence + 1);

        // The peer end is the router's interface when there is one: either way the next hop.
        IReadOnlyList<CapturedFrame> frames = onDevice.WaitForFrames(2, Wait);
        foreach (byte[] frame in frames.Select(f => f.Data))
        {
            new PhysicalAddress(frame[..6]).Should().Be(lab.PeerMac, "frames are unicast to the resolved next hop").And.NotBe(BroadcastMac);
            if (behindRouter)
            {
                new PhysicalAddress(frame[..6]).Should().NotBe(lab.ReceiverMac, "the receiver is behind the router, not on the link");
            }
        }
    }

    private static void FlushNeighbours(NetworkLab lab)
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", ["neigh", "flush", "dev", lab.DeviceName]))!;
        ip.WaitForExit();
        ip.ExitCode.Should().Be(0);
    }
}
