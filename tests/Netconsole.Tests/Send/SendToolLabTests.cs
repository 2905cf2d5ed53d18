using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Send;
using Netconsole.Targets;
using Netconsole.Tests.Devices;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Send;

/// <summary>
/// netconsole-send on the library's TargetManager, in the lab: targets written without a device
/// and without a MAC ("@/,@ip/") take the route's device and the next hop's resolved MAC, on the
/// peer's link and through the lab's router; what fails at the start says why, with its exit code.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class SendToolLabTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;
    private NetworkLab? _lab;

    public SendToolLabTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _lab?.Dispose();

    private NetworkLab Lab(bool router = false)
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        return _lab ??= NetworkLab.Create(new NetworkLabOptions { Router = router });
    }

    private (int Exit, string Stdout, string Stderr) Send(TextReader? stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = SendTool.Run(args, stdout, stderr, stdin);
        _output.WriteLine($"netconsole-send {string.Join(' ', args)} -> {exit}\n{stdout}{stderr}");
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static async Task<ReceivedRecord> Next(NetconsoleReceiver receiver)
    {
        using var timeout = new CancellationTokenSource(Wait);
        return await receiver.ReadAsync(timeout.Token);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_target_with_only_the_peers_address_takes_the_routes_device_and_sends_to_the_peers_mac(bool ipv6)
    {
        NetworkLab lab = Lab();
        IPAddress peer = ipv6 ? lab.PeerIPv6 : lab.PeerIPv4;
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, 6666));
        using LabCapture capture = lab.StartCapture(onPeer: true, bpfFilter: "udp port 6666");

        var (exit, stdout, stderr) = Send(null, "--target", $"+@/,@{peer}/", "no device, no MAC");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain($"device {lab.DeviceName} chosen by the route to {peer}")
            .And.Contain($"next hop {peer} is {MacAddressText.Format(lab.PeerMac)}");
        stdout.Should().Contain("1 record(s), 1 frame(s) sent, 0 replayed, 0 dropped");
        ReceivedRecord record = await Next(receiver);
        record.TextString.Should().Be("no device, no MAC");
        record.Sender.Address.Should().Be(ipv6 ? lab.DeviceIPv6 : lab.DeviceIPv4);
        byte[] frame = capture.WaitForFrames(1, Wait)[0].Data;
        new PhysicalAddress(frame[..6]).Should().Be(lab.PeerMac, "the peer's MAC was resolved: unicast, not broadcast");
        new PhysicalAddress(frame[6..12]).Should().Be(lab.DeviceMac);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_target_with_only_the_receivers_address_reaches_it_through_the_router(bool ipv6)
    {
        NetworkLab lab = Lab(router: true);
        IPAddress remote = ipv6 ? lab.ReceiverIPv6 : lab.ReceiverIPv4;
        IPAddress router = ipv6 ? lab.PeerIPv6 : lab.PeerIPv4;
        await using var receiver = new NetconsoleReceiver(lab.OpenReceiverUdpSocket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, 6666));
        using LabCapture onDevice = lab.StartCapture(onPeer: false, bpfFilter: "udp port 6666");

        var (exit, _, stderr) = Send(null, "--target", $"+@/,@{remote}/", "--userdata", "via=router", "behind the router");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain($"device {lab.DeviceName} chosen by the route to {remote}")
            .And.Contain($"next hop {router} is {MacAddressText.Format(lab.RouterMac)}");
        ReceivedRecord record = await Next(receiver);
        record.TextString.Should().Be("behind the router");
        record.FindValue("via").Should().Be("router");
        new PhysicalAddress(onDevice.WaitForFrames(1, Wait)[0].Data[..6]).Should().Be(lab.RouterMac, "the frames go to the gateway, not to the receiver");
    }

    // The manager resumes a target on device events; the route via the router comes back only
    // after the device does (as when DHCP adds a default route), so the tool's own enable is
    // what brings a target without a device back when the next line comes.
    [SkippableFact]
    public async Task Stdin_with_a_target_without_a_device_rides_through_the_device_being_re_created_behind_the_router()
    {
        NetworkLab lab = Lab(router: true);
        await using var receiver = new NetconsoleReceiver(lab.OpenReceiverUdpSocket(AddressFamily.InterNetwork, 6666));
        var input = new ScriptedReader(
            ("before", null),
            ("while deleted", lab.DeleteDevice),
            ("after re-creation", () => lab.RecreateDevice(lab.NewDeviceName())));

        var (exit, stdout, stderr) = Send(input, "--target", $"+@/,@{lab.ReceiverIPv4}/", "--stdin", "--seq", "10");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain("No such device").And.Contain("buffering records until it is back")
            .And.Contain("sending again").And.Contain($"chosen by the route to {lab.ReceiverIPv4}");
        stdout.Should().StartWith("3 record(s), 3 frame(s) sent, ").And.Contain(" replayed, 0 dropped").And.NotContain(" 0 replayed");
        foreach (var (text, seq) in new[] { ("before", 10UL), ("while deleted", 11UL), ("after re-creation", 12UL) })
        {
            ReceivedRecord record = await Next(receiver);
            record.TextString.Should().Be(text, "the line read while the device was away waited and went out first, in order");
            record.Sequence.Should().Be(seq);
        }

        receiver.GetStatistics().Reassembler.RecordsLost.Should().Be(0);
    }

    // The peer set down takes the device's carrier: the lines read then wait in the replay buffer
    // (none handed to a link without carrier), and go out first, in order, once it is back. The tool runs
    // on the given watcher; a recorder subscribed to it after the tool's manager sees each event
    // only once the manager has, so every line meets the link state the script set.
    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab's watchers
    public async Task Stdin_lines_while_the_peer_is_down_are_buffered_and_arrive_in_order_before_the_first_after_it_is_up(string kind)
    {
        NetworkLab lab = Lab();
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, 6666));
        using IDeviceWatcher watcher = LabFixture.CreateWatcher(kind);
        DeviceEventRecorder? events = null;
        void SetPeer(bool up)
        {
            events ??= new DeviceEventRecorder(watcher);
            if (up)
            {
                lab.SetPeerUp();
            }
            else
            {
                lab.SetPeerDown();
            }

            events.WaitFor(e => e.Device.Name == lab.DeviceName && e.Kind == (up ? DeviceChangeKind.Up : DeviceChangeKind.Down), $"{lab.DeviceName} {(up ? "up" : "down")}");
        }

        var input = new ScriptedReader(
            ("before", null),
            ("no carrier 1", () => SetPeer(up: false)),
            ("no carrier 2", null),
            ("carrier back", () => SetPeer(up: true)));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = ["--target", $"+@/{lab.DeviceName},@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}", "--stdin", "--seq", "1"];

        int exit = SendTool.Run(args, stdout, stderr, new TextLinesStream(input), transports: null, watcher);
        events?.Dispose();

        _output.WriteLine($"netconsole-send {string.Join(' ', args)} -> {exit}\n{stdout}{stderr}");
        exit.Should().Be(0, stderr.ToString());
        stdout.ToString().Should().MatchRegex(@"^4 record\(s\), 4 frame\(s\) sent, [23] replayed, 0 dropped\n$",
            "the two lines of the outage were replayed (and the line after it too, when it came while they were still going out)");
        stderr.ToString().Should().Contain($"netconsole-send: {lab.DeviceName}: No carrier; buffering records until the carrier is back")
            .And.Contain($"netconsole-send: {lab.DeviceName}: sending again");
        foreach (var (text, seq) in new[] { ("before", 1UL), ("no carrier 1", 2UL), ("no carrier 2", 3UL), ("carrier back", 4UL) })
        {
            ReceivedRecord record = await Next(receiver);
            record.TextString.Should().Be(text);
            record.Sequence.Should().Be(seq, "each line keeps the number it was given when it was read: no gap");
        }
    }

    // The pacing itself is specified on a manual clock (Targets/Manager/PacingTests); here: --rate
    // reaches the target, the sender says so, and a burst from standard input arrives whole.
    [SkippableFact]
    public async Task Rate_paces_the_target_and_a_burst_from_stdin_arrives_whole()
    {
        NetworkLab lab = Lab();
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, 6666));
        string lines = string.Concat(Enumerable.Range(1, 30).Select(i => $"line {i}\n"));

        var (exit, stdout, stderr) = Send(new StringReader(lines), "--target", $"+@/{lab.DeviceName},@{lab.PeerIPv4}/", "--stdin", "--rate", "300/5");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain("netconsole-send: pacing: at most 300 datagrams a second, 5 at once");
        stdout.Should().Contain("30 record(s), 30 frame(s) sent, 0 replayed, 0 dropped");
        for (int i = 1; i <= 30; i++)
        {
            (await Next(receiver)).TextString.Should().Be($"line {i}");
        }
    }

    [SkippableFact]
    public void A_named_device_that_does_not_exist_is_refused_with_exit_2_and_the_devices_that_do()
    {
        NetworkLab lab = Lab();

        var (exit, _, stderr) = Send(null, "--target", $"+@/{lab.Id}zz,@{lab.PeerIPv4}/", "m");

        exit.Should().Be(2);
        stderr.TrimEnd('\n').Should().NotContain("\n").And.Contain($"no device named {lab.Id}zz").And.Contain($"devices here: ").And.Contain(lab.DeviceName);
    }

    [SkippableFact]
    public void A_device_that_is_down_at_the_start_fails_with_exit_1_and_the_reason()
    {
        NetworkLab lab = Lab();
        lab.SetDeviceDown();

        var (exit, stdout, stderr) = Send(null, "--target", $"+@/{lab.DeviceName},@{lab.PeerIPv4}/", "m");

        exit.Should().Be(1);
        stderr.Should().Contain($"device {lab.DeviceName} is down");
        stdout.Should().BeEmpty("nothing was sent");
    }
}
