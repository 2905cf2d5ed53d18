using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Resolution;
using Netconsole.Targets;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Resolution;

/// <summary>
/// A target that gives no remote MAC: the manager resolves the next hop's MAC when it enables
/// the target (neighbour table, then ARP / neighbour solicitation), and falls back to broadcast
/// with a warning only when nothing answers. Real frames, captured in the lab's peer namespace.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class NextHopLabTests : IDisposable
{
    private static readonly PhysicalAddress BroadcastMac = PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF");
    private readonly RtnetlinkDeviceWatcher _watcher = new();
    private NetworkLab? _lab;

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
        return _lab ??= NetworkLab.Create();
    }

    private static void FlushNeighbours(NetworkLab lab)
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", ["neigh", "flush", "dev", lab.DeviceName]))!;
        ip.WaitForExit();
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_on_link_receivers_mac_is_resolved_actively_and_frames_carry_it_not_broadcast(bool ipv6)
    {
        NetworkLab lab = Lab();
        FlushNeighbours(lab); // the neighbour table knows nothing: the ARP / NDP path must answer
        IPAddress peer = ipv6 ? lab.PeerIPv6 : lab.PeerIPv4;
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, 6666));
        using LabCapture capture = lab.StartCapture(onPeer: true, bpfFilter: "udp port 6666");
        await using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{peer}/"));

        EnableResult result = manager.Enable(target.Name);

        result.State.Should().Be(TargetState.Enabled);
        result.Reason.Should().Contain($"next hop {peer} is").And.Contain(ipv6 ? "neighbour solicitation" : "ARP");
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes("resolved")) { Sequence = 1 });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        (await receiver.ReadAsync(timeout.Token)).TextString.Should().Be("resolved");
        new PhysicalAddress(capture.WaitForFrames(1, TimeSpan.FromSeconds(10))[0].Data[..6]).Should().Be(lab.PeerMac);
    }

    [SkippableFact]
    public void A_next_hop_the_neighbour_table_knows_is_taken_from_it()
    {
        NetworkLab lab = Lab();
        using (Socket socket = lab.OpenDeviceUdpSocket(AddressFamily.InterNetwork))
        {
            socket.SendTo("x"u8, new IPEndPoint(lab.PeerIPv4, 9)); // the kernel resolves the peer by ARP
        }

        // The kernel's ARP exchange takes a moment: wait for its entry rather than a fixed time.
        var clock = Stopwatch.StartNew();
        while (NeighbourTable.Lookup(lab.DeviceIndex, lab.PeerIPv4) is null)
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the kernel resolves the peer");
            Thread.Sleep(10);
        }

        using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{lab.PeerIPv4}/"));

        manager.Enable(target.Name).Reason.Should().Contain("(neighbour table)");
    }

    [SkippableTheory]
    [InlineData("192.0.2.99")]
    [InlineData("2001:db8::99")]
    public void When_nothing_answers_frames_go_to_broadcast_and_the_reason_warns(string nobody)
    {
        NetworkLab lab = Lab();
        using LabCapture capture = lab.StartCapture(onPeer: true, bpfFilter: "udp port 6666");
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{nobody}/"));

        EnableResult result = manager.Enable(target.Name);

        result.State.Should().Be(TargetState.Enabled, "broadcast is the last resort, not a failure");
        result.Reason.Should().Contain("warning").And.Contain("broadcast").And.Contain(nobody);
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes("to anyone")) { Sequence = 1 });
        new PhysicalAddress(capture.WaitForFrames(1, TimeSpan.FromSeconds(10))[0].Data[..6]).Should().Be(BroadcastMac);
    }

    [SkippableFact]
    public void An_explicit_remote_mac_always_wins_and_is_never_resolved()
    {
        NetworkLab lab = Lab();
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@192.0.2.99/02:00:00:00:00:99"));

        EnableResult result = manager.Enable(target.Name);

        result.Reason.Should().NotContain("next hop");
    }

    [SkippableFact]
    public void A_target_without_device_or_mac_takes_the_routes_device_and_sends_to_the_gateways_mac()
    {
        NetworkLab lab = Lab();
        // A documentation prefix behind the peer, as if the peer were a router.
        using (var ip = Process.Start(new ProcessStartInfo("ip", ["route", "add", "198.51.100.0/24", "via", lab.PeerIPv4.ToString(), "dev", lab.DeviceName]))!)
        {
            ip.WaitForExit();
            ip.ExitCode.Should().Be(0);
        }

        using LabCapture capture = lab.StartCapture(onPeer: true, bpfFilter: "udp port 6666");
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse("+@/,@198.51.100.7/"));

        EnableResult result = manager.Enable(target.Name);

        result.State.Should().Be(TargetState.Enabled, result.Reason);
        result.Reason.Should().Contain($"device {lab.DeviceName} chosen by the route to 198.51.100.7")
            .And.Contain($"next hop {lab.PeerIPv4} is");
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes("via the gateway")) { Sequence = 1 });
        byte[] frame = capture.WaitForFrames(1, TimeSpan.FromSeconds(10))[0].Data;
        new PhysicalAddress(frame[..6]).Should().Be(lab.PeerMac, "frames for a remote behind a gateway go to the gateway's MAC");
        new IPAddress(frame[30..34]).Should().Be(IPAddress.Parse("198.51.100.7"));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_receiver_whose_mac_changed_is_found_again_by_the_recheck_and_records_arrive_again(bool ipv6)
    {
        NetworkLab lab = Lab();
        FlushNeighbours(lab);
        IPAddress peer = ipv6 ? lab.PeerIPv6 : lab.PeerIPv4;
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, 6666));
        TimeSpan interval = TimeSpan.FromSeconds(2);
        await using var manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher, NextHopRecheckInterval = interval });
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{peer}/"));
        manager.Enable(target.Name).State.Should().Be(TargetState.Enabled);
        var sinceCheck = Stopwatch.StartNew();
        target.DestinationMac.Should().Be(lab.PeerMac);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Send(manager, 1, "before the change");
        (await receiver.ReadAsync(timeout.Token)).TextString.Should().Be("before the change");

        // The receiver's machine is replaced (new MAC), and the OS still holds the old MAC as a
        // stale neighbour entry: a re-check must not trust it but ask.
        PhysicalAddress replaced = NetworkLab.RandomMac();
        Run("ip", "-n", lab.PeerNamespace, "link", "set", lab.PeerName, "address", MacText(replaced));
        Run("ip", "neigh", "replace", peer.ToString(), "lladdr", MacText(lab.PeerMac), "dev", lab.DeviceName, "nud", "stale");
        Send(manager, 2, "to the old mac");
        TimeSpan wait = interval + TimeSpan.FromMilliseconds(100) - sinceCheck.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        Send(manager, 3, "the record that asks for the re-check"); // due: the worker asks, this one goes to the MAC known now
        var deadline = Stopwatch.StartNew();
        while (target.GetStatistics().NextHopChanges == 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        target.DestinationMac.Should().Be(replaced);
        target.StateReason.Should().Contain($"next hop {peer} is {MacText(replaced)} ({(ipv6 ? "neighbour solicitation" : "ARP")}, re-checked)");
        Send(manager, 4, "after the re-check");
        var texts = new List<string>();
        while (texts.LastOrDefault() != "after the re-check")
        {
            texts.Add((await receiver.ReadAsync(timeout.Token)).TextString);
        }

        texts.Should().NotContain("to the old mac", "record 2 went to the old MAC, which no one has any more");
        receiver.GetStatistics().Reassembler.RecordsLost.Should().Be(3 - texts.Count, "what did not arrive is a gap at the receiver");
        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsSent.Should().Be(4, "the sender cannot know frames went nowhere");
        statistics.NextHopChanges.Should().Be(1);
    }

    private static void Send(TargetManager manager, ulong sequence, string text) =>
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes(text)) { Sequence = sequence });

    private static string MacText(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, $"{file} {string.Join(' ', arguments)}: {error}");
    }
}
