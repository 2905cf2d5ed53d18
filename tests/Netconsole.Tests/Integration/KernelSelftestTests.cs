using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Send;
using Netconsole.Targets;
using Netconsole.Tests.Send;
using Netconsole.Tests.Support;
using Netconsole.Tests.Wire;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// The kernel's netconsole selftests (tools/testing/selftests/drivers/net/netcons_basic.sh,
/// netcons_fragmented_msg.sh, netcons_overflow.sh, netcons_sysdata.sh) re-done against this
/// library: real frames injected with libpcap on a veth the lab created, received by a real UDP
/// socket in the lab's peer namespace.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class KernelSelftestTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;
    private NetworkLab? _lab;

    public KernelSelftestTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _lab?.Dispose();

    private NetworkLab Lab()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        return _lab ??= NetworkLab.Create();
    }

    private NetconsoleReceiver Receiver(NetworkLab lab, bool ipv6, int port = 6666) =>
        new(lab.OpenPeerUdpSocket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, port));

    private static string Target(NetworkLab lab, bool ipv6, bool extended, string extra = "") =>
        $"{(extended ? "+" : "")}{extra}@/{lab.DeviceName},@{(ipv6 ? lab.PeerIPv6 : lab.PeerIPv4)}/";

    private (int Exit, string Stdout, string Stderr) Send(params string[] args) => SendWithInput(null, args);

    private (int Exit, string Stdout, string Stderr) SendWithInput(TextReader? stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = SendTool.Run(args, stdout, stderr, stdin);
        _output.WriteLine($"netconsole-send {string.Join(' ', args.Select(a => a.Length > 60 ? a[..60] + "..." : a))} -> {exit}\n{stdout}{stderr}");
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static async Task<ReceivedRecord> Next(NetconsoleReceiver receiver)
    {
        using var timeout = new CancellationTokenSource(Wait);
        return await receiver.ReadAsync(timeout.Token);
    }

    // netcons_basic.sh: a message sent through a target arrives, basic and extended, IPv4 and IPv6.
    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Basic_selftest_a_record_arrives_at_the_receiver(bool ipv6, bool extended)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6);
        string message = $"netconsole selftest: {(extended ? "extended" : "basic")} over {(ipv6 ? "IPv6" : "IPv4")}";
        string[] userdata = extended ? ["--userdata", "key=value"] : [];

        var (exit, _, stderr) = Send([.. userdata, "--target", Target(lab, ipv6, extended), "--level", "4", "--seq", "7", message]);

        exit.Should().Be(0, stderr);
        ReceivedRecord record = await Next(receiver);
        record.TextString.Should().Be(message);
        record.IsExtended.Should().Be(extended);
        record.Sender.Address.Should().Be(ipv6 ? lab.DeviceIPv6 : lab.DeviceIPv4, "an unset source address is the device's first of the remote's family");
        record.Sender.Port.Should().Be(NetconsoleTargetOptions.DefaultLocalPort);
        if (extended)
        {
            record.Level.Should().Be(4);
            record.Facility.Should().Be(NetconsoleTargetOptions.DefaultFacility);
            record.Sequence.Should().Be(7);
            record.FindValue("key").Should().Be("value");
        }
    }

    // netcons_fragmented_msg.sh: the 1135-byte message+userdata is fragmented (ncfrag=0/1135,
    // ncfrag=967/1135) and reassembled whole, with and without the release prepended.
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fragmented_message_selftest_is_reassembled_from_real_datagrams(bool release)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: false);
        var (_, record, body, userdataLine) = RecordFormatterTests.SelftestVector();
        string value = userdataLine[" key=".Length..^1];
        string[] releaseArgs = release ? ["--release", "6.13.0-04048-g4f561a87745a"] : [];

        var (exit, _, stderr) = Send([.. releaseArgs, "--target", Target(lab, false, true, release ? "r" : ""), "--userdata", "key=" + value,
            "--level", "5", "--seq", "468", "--timestamp-us", "514729715", Encoding.UTF8.GetString(record.Text.Span)]);

        exit.Should().Be(0, stderr);
        ReceivedRecord received = await Next(receiver);
        received.FragmentCount.Should().Be(2);
        received.TextString.Should().Be(body[..^1]);
        received.FindValue("key").Should().Be(value);
        received.Sequence.Should().Be(468);
        received.Release.Should().Be(release ? "6.13.0-04048-g4f561a87745a" : null);
    }

    // netcons_overflow.sh: 256 userdata entries are accepted and all reach the receiver; a 257th is refused.
    [SkippableFact]
    public async Task Overflow_selftest_256_userdata_entries_arrive_and_a_257th_is_refused()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: true);
        string[] userdata = Enumerable.Range(1, 256).SelectMany(i => new[] { "--userdata", $"key{i}=value{i}" }).ToArray();

        var (exit, _, stderr) = Send([.. userdata, "--target", Target(lab, true, true), "overflow"]);

        exit.Should().Be(0, stderr);
        ReceivedRecord record = await Next(receiver);
        record.Dictionary.Should().HaveCount(256);
        record.FindValue("key256").Should().Be("value256");

        var (exit257, _, stderr257) = Send([.. userdata, "--userdata", "key257=value257", "--target", Target(lab, true, true), "overflow"]);
        exit257.Should().Be(2);
        stderr257.Should().Contain("256");
    }

    // netcons_sysdata.sh: cpu, taskname, release and msgid lines when enabled, none when disabled.
    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sysdata_selftest_lines_appear_only_when_enabled(bool enabled)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: false);
        string[] sysdata = enabled ? ["--sysdata", "cpu,taskname,release,msgid", "--release", "6.20.1"] : [];

        var (exit, _, stderr) = SendWithInput(new StringReader("first\nsecond\n"), [.. sysdata, "--target", Target(lab, false, true), "--stdin"]);

        exit.Should().Be(0, stderr);
        ReceivedRecord first = await Next(receiver);
        ReceivedRecord second = await Next(receiver);
        first.TextString.Should().Be("first");
        second.TextString.Should().Be("second");
        second.Sequence.Should().Be(first.Sequence + 1);
        if (enabled)
        {
            first.SysdataCpu.Should().BeInRange(0, Environment.ProcessorCount - 1);
            first.SysdataTaskName.Should().NotBeNullOrEmpty();
            first.SysdataRelease.Should().Be("6.20.1");
            first.SysdataMessageId.Should().Be(1);
            second.SysdataMessageId.Should().Be(2);
            first.Dictionary.Select(p => p.Key).Should().Equal("cpu", "taskname", "release", "msgid");
        }
        else
        {
            first.Dictionary.Should().BeEmpty();
        }
    }

    // What netpoll puts on the wire, checked on frames captured in the peer namespace. Beyond
    // the kernel (which broadcasts), a target without a remote MAC sends to the resolved one.
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Captured_frames_carry_netpolls_fields_valid_checksums_and_the_resolved_mac_without_a_remote_mac(bool ipv6)
    {
        NetworkLab lab = Lab();
        using LabCapture capture = lab.StartCapture(onPeer: true, bpfFilter: "udp port 6666");
        string text = string.Concat(Enumerable.Range(0, 300).Select(i => string.Create(CultureInfo.InvariantCulture, $"w{i} ")));

        var (exit, _, stderr) = Send("--target", Target(lab, ipv6, true), text);

        exit.Should().Be(0, stderr);
        IReadOnlyList<CapturedFrame> frames = capture.WaitForFrames(2, Wait);
        frames.Should().HaveCountGreaterThanOrEqualTo(2, "the record is fragmented");
        foreach (byte[] frame in frames.Select(f => f.Data))
        {
            new PhysicalAddress(frame[..6]).Should().Be(lab.PeerMac, "no remote MAC was given: the peer's was resolved (the kernel would broadcast)");
            new PhysicalAddress(frame[6..12]).Should().Be(lab.DeviceMac);
            FrameReference.UdpChecksumVerifies(frame).Should().BeTrue();
            if (ipv6)
            {
                FrameReference.Word(frame, 12).Should().Be(0x86dd);
                frame[14 + 7].Should().Be(32, "netpoll's IPv6 hop limit");
            }
            else
            {
                FrameReference.Word(frame, 12).Should().Be(0x0800);
                frame[14 + 8].Should().Be(64, "netpoll's TTL");
                (frame[14 + 6] & 0x40).Should().Be(0, "DF is not set");
                FrameReference.Ipv4HeaderChecksumVerifies(frame).Should().BeTrue();
            }
        }
    }

    [SkippableFact]
    public async Task A_given_remote_mac_is_the_frames_destination()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: false);
        using LabCapture capture = lab.StartCapture(onPeer: true, bpfFilter: "udp port 6666");
        string mac = string.Join(':', lab.PeerMac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

        var (exit, _, stderr) = Send("--target", $"+@/{lab.DeviceName},@{lab.PeerIPv4}/{mac}", "unicast");

        exit.Should().Be(0, stderr);
        (await Next(receiver)).TextString.Should().Be("unicast");
        new PhysicalAddress(capture.WaitForFrames(1, Wait)[0].Data[..6]).Should().Be(lab.PeerMac);
    }

    [SkippableFact]
    public async Task A_target_bound_by_mac_sends_on_the_device_with_that_mac()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: true);
        string mac = string.Join(':', lab.DeviceMac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

        var (exit, _, stderr) = Send("--target", $"+@/{mac},@{lab.PeerIPv6}/", "bound by MAC");

        exit.Should().Be(0, stderr);
        (await Next(receiver)).TextString.Should().Be("bound by MAC");
    }

    [SkippableFact]
    public async Task Stdin_lines_are_records_and_those_read_while_the_device_is_down_wait_and_go_out_in_order_when_it_is_up()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: false);
        var input = new ScriptedReader(
            ("line 1", null),
            ("line 2", null),
            ("line 3 (device down)", lab.SetDeviceDown),
            ("line 4 (device down)", null),
            ("line 5", lab.SetDeviceUp));

        var (exit, stdout, stderr) = SendWithInput(input, "--target", Target(lab, false, true), "--stdin", "--seq", "100");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain("Network is down; buffering records until it is up").And.Contain("sending again");
        stdout.Should().MatchRegex(@"^5 record\(s\), 5 frame\(s\) sent, [23] replayed, 0 dropped\n$");
        var received = new List<ReceivedRecord>();
        for (int i = 0; i < 5; i++)
        {
            received.Add(await Next(receiver));
        }

        received.Select(r => r.TextString).Should().Equal("line 1", "line 2", "line 3 (device down)", "line 4 (device down)", "line 5");
        received.Select(r => r.Sequence).Should().Equal(100UL, 101UL, 102UL, 103UL, 104UL);
        receiver.GetStatistics().Reassembler.RecordsLost.Should().Be(0, "seq 102 and 103 waited in the sender's replay buffer");
    }

    [SkippableFact]
    public async Task Stdin_rides_through_the_device_being_deleted_and_re_created()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab, ipv6: true);
        var input = new ScriptedReader(
            ("before", null),
            ("while deleted 1", lab.DeleteDevice),
            ("while deleted 2", null),
            ("after re-creation", () => lab.RecreateDevice()));

        var (exit, stdout, stderr) = SendWithInput(input, "--target", Target(lab, true, true), "--stdin", "--seq", "1");

        exit.Should().Be(0, stderr);
        stderr.Should().Contain("No such device").And.Contain("buffering records until it is back").And.Contain("sending again");
        stdout.Should().MatchRegex(@"^4 record\(s\), 4 frame\(s\) sent, [23] replayed, 0 dropped\n$");
        foreach (var (text, seq) in new[] { ("before", 1UL), ("while deleted 1", 2UL), ("while deleted 2", 3UL), ("after re-creation", 4UL) })
        {
            ReceivedRecord record = await Next(receiver);
            record.TextString.Should().Be(text, "the lines read while the device was away go out first, in order");
            record.Sequence.Should().Be(seq);
        }
    }

    [SkippableFact]
    public void A_target_without_a_device_and_without_a_route_to_its_remote_is_refused_with_exit_2()
    {
        Lab(); // routes 192.0.2.0/24 and 2001:db8::/64 only
        var (exit, _, stderr) = Send("--target", "+@/,@198.51.100.9/", "m");
        exit.Should().Be(2);
        stderr.TrimEnd('\n').Should().NotContain("\n").And.StartWith("netconsole-send: ")
            .And.Contain("no device named and no route to 198.51.100.9")
            .And.Contain("for example \"+@/eth1,@198.51.100.9/\"").And.Contain("devices here: ");
    }
}
