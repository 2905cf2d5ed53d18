using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Resolution;

/// <summary>
/// A receiver behind a router (the lab's router namespace forwards to a receiver namespace): a
/// target written "@/,@receiver/" takes the device of the route, resolves the router's MAC
/// actively, and its records arrive at the receiver through real forwarding.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class RouterLabTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly PhysicalAddress BroadcastMac = PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF");
    private readonly ITestOutputHelper _output;
    private readonly RtnetlinkDeviceWatcher _watcher = new();
    private NetworkLab? _lab;

    public RouterLabTests(ITestOutputHelper output) => _output = output;

    public void Dispose()
    {
        _watcher.Dispose();
        _lab?.Dispose();
    }

    private NetworkLab Lab()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        return _lab ??= NetworkLab.Create(new NetworkLabOptions { Router = true });
    }

    private static void FlushNeighbours(NetworkLab lab)
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", ["neigh", "flush", "dev", lab.DeviceName]))!;
        ip.WaitForExit();
        ip.ExitCode.Should().Be(0);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_target_with_only_the_receivers_address_sends_to_the_routers_mac_and_the_record_arrives_through_forwarding(bool ipv6)
    {
        NetworkLab lab = Lab();
        FlushNeighbours(lab); // the router is unknown: ARP / neighbour solicitation must find it
        IPAddress remote = ipv6 ? lab.ReceiverIPv6 : lab.ReceiverIPv4;
        IPAddress router = ipv6 ? lab.PeerIPv6 : lab.PeerIPv4;
        await using var receiver = new NetconsoleReceiver(lab.OpenReceiverUdpSocket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, 6666));
        using LabCapture onDevice = lab.StartCapture(onPeer: false, bpfFilter: "udp port 6666");
        using LabCapture atReceiver = lab.StartReceiverCapture("udp port 6666");
        await using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/,@{remote}/"));

        EnableResult result = manager.Enable(target.Name);
        _output.WriteLine(result.ToString());

        result.State.Should().Be(TargetState.Enabled, result.Reason);
        result.Reason.Should().Contain($"device {lab.DeviceName} chosen by the route to {remote}")
            .And.Contain($"next hop {router} is {MacAddressText.Format(lab.RouterMac)} ({(ipv6 ? "neighbour solicitation" : "ARP")})");
        target.DeviceName.Should().Be(lab.DeviceName);

        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes("behind the router")) { Sequence = 1 });

        using var timeout = new CancellationTokenSource(Patience);
        ReceivedRecord record = await receiver.ReadAsync(timeout.Token);
        record.TextString.Should().Be("behind the router");
        record.Sender.Address.Should().Be(ipv6 ? lab.DeviceIPv6 : lab.DeviceIPv4, "the source is the chosen device's address");
        byte[] sent = onDevice.WaitForFrames(1, Patience)[0].Data;
        new PhysicalAddress(sent[..6]).Should().Be(lab.RouterMac, "a remote behind a gateway is reached through the gateway's MAC")
            .And.NotBe(BroadcastMac).And.NotBe(lab.ReceiverMac);
        new PhysicalAddress(sent[6..12]).Should().Be(lab.DeviceMac);
        byte[] forwarded = atReceiver.WaitForFrames(1, Patience)[0].Data;
        new PhysicalAddress(forwarded[6..12]).Should().Be(lab.RouterReceiverSideMac, "the router forwarded the frame");
        (ipv6 ? forwarded[14 + 7] : forwarded[14 + 8]).Should().Be((byte)(ipv6 ? 31 : 63), "netpoll's hop limit 32 / TTL 64, less the router's hop");
    }

    [SkippableFact]
    public async Task A_target_with_only_the_receivers_address_resumes_after_its_device_is_recreated_once_the_route_is_back()
    {
        NetworkLab lab = Lab();
        IPAddress remote = lab.ReceiverIPv4;
        await using var receiver = new NetconsoleReceiver(lab.OpenReceiverUdpSocket(AddressFamily.InterNetwork, 6666));
        await using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/,@{remote}/"));
        manager.Enable(target.Name).State.Should().Be(TargetState.Enabled);

        // The route via the router comes back only after the link events (as DHCP's would):
        // no device event is left to announce it, the manager's setup retry finds it.
        lab.DeleteDevice();
        var gone = Stopwatch.StartNew();
        while (target.State != TargetState.Deactivated)
        {
            gone.Elapsed.Should().BeLessThan(Patience, "the target sees its device go");
            await Task.Delay(20);
        }

        lab.RecreateDevice();
        var deadline = Stopwatch.StartNew();
        while (target.State != TargetState.Enabled || target.DeviceName != lab.DeviceName)
        {
            deadline.Elapsed.Should().BeLessThan(Patience, $"the target resumes; it is {target.State}: {target.StateReason}");
            await Task.Delay(50);
        }

        _output.WriteLine($"resumed after {deadline.ElapsedMilliseconds} ms: {target.StateReason}");
        target.StateReason.Should().StartWith($"resumed on device {lab.DeviceName}; device {lab.DeviceName} chosen by the route to {remote}");
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes("after the device came back")) { Sequence = 1 });
        using var timeout = new CancellationTokenSource(Patience);
        (await receiver.ReadAsync(timeout.Token)).TextString.Should().Be("after the device came back");
    }
}
