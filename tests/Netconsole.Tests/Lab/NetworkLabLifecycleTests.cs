using System.Net;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Tests.Integration;
using Xunit.Abstractions;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Lab;

// One lab at a time, as every other lab test: a route lookup without a device (targets
// written "@/,@ip/") must not find another test's lab.
[Collection(LabTestsRunAlone.Name)]
public sealed class NetworkLabLifecycleTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Create_makes_a_peer_namespace_and_a_veth_pair_with_addresses_and_carrier()
    {
        using NetworkLab lab = CreateLab(output);

        Namespaces().Should().Contain(lab.PeerNamespace);
        lab.DeviceName.Should().Be(lab.Id).And.StartWith(NetworkLab.DefaultNamePrefix).And.HaveLength(8);
        lab.DeviceMac.GetAddressBytes()[0].Should().Be(0x02, "lab MACs are locally administered unicast");
        lab.PeerMac.GetAddressBytes()[0].Should().Be(0x02);

        NetworkDevice device = lab.QueryDevice()!;
        device.Name.Should().Be(lab.DeviceName);
        device.Index.Should().Be(lab.DeviceIndex);
        device.Mac.Should().Be(lab.DeviceMac);
        device.IsUp.Should().BeTrue();
        device.IsRunning.Should().BeTrue();
        device.Addresses.Should().Contain([IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1")]);

        NetworkDevice peer = lab.QueryPeer()!;
        peer.Name.Should().Be(lab.PeerName);
        peer.Mac.Should().Be(lab.PeerMac);
        peer.IsRunning.Should().BeTrue();
        peer.Addresses.Should().Contain([IPAddress.Parse("192.0.2.2"), IPAddress.Parse("2001:db8::2")]);
        Links(lab.PeerNamespace).Should().BeEquivalentTo(["lo", lab.PeerName], "the peer namespace holds only its lo and the peer end");
        Links().Should().NotContain(lab.PeerName, "the peer end lives in the peer namespace only");
    }

    [SkippableFact]
    public void Dispose_removes_the_namespace_the_interfaces_and_the_lock_and_closes_peer_sockets()
    {
        NetworkLab lab = CreateLab(output);
        string id = lab.Id;
        Socket socket = lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, 6666);

        lab.Dispose();
        lab.Dispose();

        Namespaces().Should().NotContain(id);
        Links().Should().NotContain(name => name.StartsWith(id, StringComparison.Ordinal));
        File.Exists(Path.Combine(NetworkLab.LockDirectory, id + ".lock")).Should().BeFalse();
        socket.SafeHandle.IsClosed.Should().BeTrue();
        FluentActions.Invoking(lab.QueryDevice).Should().Throw<ObjectDisposedException>();
    }

    [SkippableFact]
    public void An_exception_inside_a_using_block_still_removes_everything()
    {
        RequireLab();
        string? id = null;

        FluentActions.Invoking(() =>
        {
            using NetworkLab lab = CreateLab(output);
            id = lab.Id;
            lab.RenameDevice(lab.NewDeviceName());
            throw new InvalidOperationException("a failing test");
        }).Should().Throw<InvalidOperationException>().WithMessage("a failing test");

        id.Should().NotBeNull();
        Namespaces().Should().NotContain(id);
        Links().Should().NotContain(name => name.StartsWith(id!, StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Every_ip_command_goes_to_the_log()
    {
        RequireLab();
        var log = new StringWriter();

        using (NetworkLab lab = NetworkLab.Create(new NetworkLabOptions { Log = log }))
        {
            log.ToString().Should().MatchRegex($@"\[{lab.Id} \+\d+ ms\] ip netns add {lab.Id}\n")
                .And.Contain($"ip link add {lab.DeviceName} address ");
        }

        output.WriteLine(log.ToString());
        log.ToString().Should().Contain("ip netns del ");
    }

    [SkippableFact]
    public void RunInPeerNamespace_runs_on_a_thread_inside_the_peer_namespace()
    {
        using NetworkLab lab = CreateLab(output);
        string mine = new FileInfo("/proc/thread-self/ns/net").LinkTarget!;
        int callerThread = Environment.CurrentManagedThreadId;

        (string inside, int thread) = lab.RunInPeerNamespace(() =>
            (new FileInfo("/proc/thread-self/ns/net").LinkTarget!, Environment.CurrentManagedThreadId));

        inside.Should().NotBe(mine);
        thread.Should().NotBe(callerThread);
        new FileInfo("/proc/thread-self/ns/net").LinkTarget.Should().Be(mine, "the caller never switches namespaces");
        FluentActions.Invoking(() => lab.RunInPeerNamespace(() => throw new FormatException("inside")))
            .Should().Throw<FormatException>().WithMessage("inside");
    }

    [SkippableFact]
    public void CleanupStale_removes_a_crashed_runs_namespace_and_lock_but_not_a_live_lab()
    {
        RequireLab();
        // A prefix of this test's own, so concurrent runs and other tests are never involved.
        string prefix = "nt" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2));
        var options = new NetworkLabOptions { NamePrefix = prefix, Log = new TestOutputWriter(output) };
        string crashed = prefix + "0dead";
        string orphan = prefix + "0beef";
        string foreign = prefix + "zz";
        Ip("netns", "add", crashed);
        Ip("netns", "add", orphan);
        Ip("netns", "add", foreign);
        Directory.CreateDirectory(NetworkLab.LockDirectory);
        File.WriteAllText(Path.Combine(NetworkLab.LockDirectory, crashed + ".lock"), "pid 0 (crashed)\n");
        try
        {
            using NetworkLab live = NetworkLab.Create(options);

            IReadOnlyList<string> removed = NetworkLab.CleanupStale(options);

            removed.Should().BeEquivalentTo(["netns " + crashed, "lock " + crashed, "netns " + orphan]);
            Namespaces().Should().NotContain([crashed, orphan]).And.Contain([live.PeerNamespace, foreign]);
            live.QueryDevice()!.IsRunning.Should().BeTrue("a live lab is never stale");
            File.Exists(Path.Combine(NetworkLab.LockDirectory, crashed + ".lock")).Should().BeFalse();
        }
        finally
        {
            Ip("netns", "del", foreign);
            NetworkLab.CleanupStale(options);
        }
    }

    [Fact]
    public void Options_reject_a_prefix_that_would_make_names_too_long_or_odd()
    {
        var options = new NetworkLabOptions();

        FluentActions.Invoking(() => options.NamePrefix = "toolongpx").Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => options.NamePrefix = "Ncl").Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => options.NamePrefix = "1cl").Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => options.NamePrefix = "n-l").Should().Throw<ArgumentException>();
        options.NamePrefix = "abcdefg8";
        options.NamePrefix.Should().Be("abcdefg8");
    }
}
