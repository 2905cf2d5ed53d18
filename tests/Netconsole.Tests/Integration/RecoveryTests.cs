using System.Diagnostics;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Tests.Devices;
using Netconsole.Tests.Receiving;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// Automatic target recovery with real rtnetlink (or polling) events, real veth interfaces
/// and real injection: the kernel's netcons_resume.sh and netcons_torture.sh, re-done.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class RecoveryTests(ITestOutputHelper output) : LabFixture
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static TargetManager Manager(IDeviceWatcher watcher) => new(new TargetManagerOptions { Watcher = watcher });

    private NetconsoleReceiver Receiver(NetworkLab lab) =>
        new(lab.OpenPeerUdpSocket(AddressFamily.InterNetworkV6, 6666));

    private static NetconsoleTargetOptions ByName(NetworkLab lab, string? device = null) =>
        NetconsoleTargetOptions.Parse($"+@/{device ?? lab.DeviceName},@{lab.PeerIPv6}/") is var o ? Named(o) : null!;

    private static NetconsoleTargetOptions ByMac(NetworkLab lab) =>
        Named(NetconsoleTargetOptions.Parse($"+@/{Mac(lab.DeviceMac)},@{lab.PeerIPv6}/"));

    private static NetconsoleTargetOptions Named(NetconsoleTargetOptions options)
    {
        options.Name = "resume";
        return options;
    }

    private static string Mac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    internal static void WaitFor(NetconsoleTarget target, TargetState state, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (target.State != state)
        {
            if (deadline.Elapsed > (timeout ?? Wait))
            {
                throw new TimeoutException($"{target.Name} did not become {state} within {(timeout ?? Wait).TotalSeconds} s: {target.State} ({target.StateReason})");
            }

            Thread.Sleep(5);
        }
    }

    // Proves that something did not happen after a device change: the watcher reported the device
    // up with that MAC, and the manager's worker applied that event and all before it. The manager
    // subscribed to the watcher first, so it had queued the event when the recorder saw it.
    private static void WaitUntilApplied(TargetManager manager, DeviceEventRecorder events, string name, PhysicalAddress mac)
    {
        events.WaitFor(e => e.Device.Name == name && e.Device.IsUp && e.Device.Mac.Equals(mac), $"{name} up with MAC {mac}");
        manager.WaitForWorkerIdle(Wait).Should().BeTrue("the manager's worker applies the device events it was given");
    }

    private static void Send(TargetManager manager, ulong seq, string text) =>
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes(text)) { Sequence = seq, TimestampMicroseconds = seq });

    private static async Task<string> Next(NetconsoleReceiver receiver)
    {
        using var timeout = new CancellationTokenSource(Wait);
        return (await receiver.ReadAsync(timeout.Token)).TextString;
    }

    // netcons_resume.sh, bound by name.
    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    public async Task Bound_by_name_deleted_device_deactivates_and_re_creation_with_the_same_name_resumes(string watcher)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab);
        await using TargetManager manager = Manager(Watcher(watcher));
        NetconsoleTarget target = manager.Add(ByName(lab));
        manager.Enable(target.Name).State.Should().Be(TargetState.Enabled);
        Send(manager, 1, "before");
        (await Next(receiver)).Should().Be("before");

        lab.DeleteDevice();
        WaitFor(target, TargetState.Deactivated);
        target.StateReason.Should().Contain("unregistered");
        Send(manager, 2, "while gone");
        target.GetStatistics().RecordsBuffered.Should().Be(1, "the replay buffer keeps it");

        lab.RecreateDevice();
        WaitFor(target, TargetState.Enabled);
        target.StateReason.Should().Contain(lab.DeviceName);
        Send(manager, 3, "after");
        (await Next(receiver)).Should().Be("while gone");
        (await Next(receiver)).Should().Be("after");
        target.GetStatistics().RecordsDropped.Should().Be(0);
        target.GetStatistics().Resumes.Should().Be(1);
    }

    // The same through the packet-socket transport (issue 19): the manager opens a new one on the
    // re-created device, and records sent before and after reach a real receiver.
    [SkippableFact]
    public async Task Through_packet_sockets_records_arrive_and_a_deleted_and_re_created_device_resumes()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab);
        var opened = new List<IFrameTransport>();
        var factory = new RecordingFactory(new PacketSocketTransportFactory(), opened);
        await using TargetManager manager = new(new TargetManagerOptions { Watcher = Watcher("netlink"), TransportFactory = factory });
        NetconsoleTarget target = manager.Add(ByName(lab));
        manager.Enable(target.Name).State.Should().Be(TargetState.Enabled);
        Send(manager, 1, "before");
        (await Next(receiver)).Should().Be("before");

        lab.DeleteDevice();
        WaitFor(target, TargetState.Deactivated);
        Send(manager, 2, "while gone");
        lab.RecreateDevice();
        WaitFor(target, TargetState.Enabled);
        Send(manager, 3, "after");

        (await Next(receiver)).Should().Be("while gone");
        (await Next(receiver)).Should().Be("after");
        target.GetStatistics().RecordsDropped.Should().Be(0);
        lock (opened)
        {
            opened.Should().HaveCount(2).And.AllBeOfType<PacketSocketTransport>("the target resumed on a new packet socket");
        }
    }

    private sealed class RecordingFactory(IFrameTransportFactory inner, List<IFrameTransport> opened) : IFrameTransportFactory
    {
        public IFrameTransport Open(string deviceName)
        {
            IFrameTransport transport = inner.Open(deviceName);
            lock (opened)
            {
                opened.Add(transport);
            }

            return transport;
        }
    }

    // netcons_resume.sh, bound by MAC: another name, then the old MAC -> resumes (the kernel needs a
    // rename after the MAC change; here the MAC change alone resumes it).
    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    public async Task Bound_by_mac_resumes_on_a_device_of_another_name_once_it_carries_the_mac(string watcher)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab);
        IDeviceWatcher devices = Watcher(watcher);
        await using TargetManager manager = Manager(devices);
        PhysicalAddress mac = lab.DeviceMac;
        NetconsoleTarget target = manager.Add(ByMac(lab));
        manager.Enable(target.Name).State.Should().Be(TargetState.Enabled);

        lab.DeleteDevice();
        WaitFor(target, TargetState.Deactivated);
        PhysicalAddress other = NetworkLab.RandomMac();
        using (var events = new DeviceEventRecorder(devices))
        {
            lab.RecreateDevice(newName: lab.NewDeviceName(), mac: other);
            WaitUntilApplied(manager, events, lab.DeviceName, other);
        }

        target.State.Should().Be(TargetState.Deactivated, "a device with another MAC does not resume a target bound by MAC");

        lab.SetDeviceMac(mac);
        WaitFor(target, TargetState.Enabled);
        target.DeviceName.Should().Be(lab.DeviceName);
        Send(manager, 1, "on the renamed device");
        (await Next(receiver)).Should().Be("on the renamed device");
    }

    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    public async Task Bound_by_mac_resumes_when_a_device_is_renamed_after_taking_the_mac(string watcher)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab);
        await using TargetManager manager = Manager(Watcher(watcher));
        PhysicalAddress mac = lab.DeviceMac;
        NetconsoleTarget target = manager.Add(ByMac(lab));
        manager.Enable(target.Name);

        lab.DeleteDevice();
        WaitFor(target, TargetState.Deactivated);
        lab.RecreateDevice(newName: lab.NewDeviceName(), mac: mac);
        lab.RenameDevice(lab.NewDeviceName());
        WaitFor(target, TargetState.Enabled);
        Send(manager, 1, "after rename");
        (await Next(receiver)).Should().Be("after rename");
    }

    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    public async Task A_device_with_the_old_name_but_another_mac_never_resumes_a_mac_bound_target(string watcher)
    {
        NetworkLab lab = Lab();
        IDeviceWatcher devices = Watcher(watcher);
        await using TargetManager manager = Manager(devices);
        NetconsoleTarget target = manager.Add(ByMac(lab));
        manager.Enable(target.Name);

        lab.DeleteDevice();
        WaitFor(target, TargetState.Deactivated);
        PhysicalAddress other = NetworkLab.RandomMac();
        using (var events = new DeviceEventRecorder(devices))
        {
            lab.RecreateDevice(mac: other);
            lab.SetDeviceDown();
            lab.SetDeviceUp();
            WaitUntilApplied(manager, events, lab.DeviceName, other);
        }

        target.State.Should().Be(TargetState.Deactivated);
    }

    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    public async Task Enabling_on_a_device_that_does_not_exist_yet_deactivates_and_its_creation_enables(string watcher)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab);
        await using TargetManager manager = Manager(Watcher(watcher));
        string later = lab.NewDeviceName();
        lab.DeleteDevice();
        NetconsoleTarget target = manager.Add(ByName(lab, later));

        EnableResult result = manager.Enable(target.Name);

        result.State.Should().Be(TargetState.Deactivated);
        result.Reason.Should().Contain(later);
        lab.RecreateDevice(newName: later);
        WaitFor(target, TargetState.Enabled);
        Send(manager, 1, "created later");
        (await Next(receiver)).Should().Be("created later");
    }

    [SkippableTheory]
    [InlineData("netlink")]
    [InlineData("polling")]
    public async Task Disabling_while_the_device_is_away_wins_over_its_return(string watcher)
    {
        NetworkLab lab = Lab();
        IDeviceWatcher devices = Watcher(watcher);
        await using TargetManager manager = Manager(devices);
        NetconsoleTarget target = manager.Add(ByName(lab));
        manager.Enable(target.Name);
        lab.DeleteDevice();
        WaitFor(target, TargetState.Deactivated);

        manager.Disable(target.Name);
        using (var events = new DeviceEventRecorder(devices))
        {
            lab.RecreateDevice();
            WaitUntilApplied(manager, events, lab.DeviceName, lab.DeviceMac);
        }

        target.State.Should().Be(TargetState.Disabled);
        target.GetStatistics().Resumes.Should().Be(0);
    }

    // netcons_torture.sh, re-done: 150 iterations x 10 records; every 30 toggle the target,
    // every 50 add/remove two extra targets, every 70 link down/up.
    [SkippableFact]
    public async Task Torture_every_record_offered_to_a_target_is_sent_or_counted_and_nothing_leaks()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = Receiver(lab);
        var manager = new TargetManager(); // the platform's default watcher, owned by the manager
        Thread worker = manager.WorkerThread;
        Thread? watcherThread = (manager.Watcher as RtnetlinkDeviceWatcher)?.WatcherThread;
        watcherThread.Should().NotBeNull("Linux gets the rtnetlink watcher by default");
        NetconsoleTarget main = manager.Add(ByName(lab));
        manager.Enable(main.Name).State.Should().Be(TargetState.Enabled);
        ulong seq = 0;
        long offered = 0;
        bool extras = false;
        for (int i = 1; i <= 150; i++)
        {
            for (int r = 0; r < 10; r++)
            {
                offered++;
                Send(manager, seq++, $"torture {i}.{r}");
            }

            if (i % 30 == 0)
            {
                if (main.State == TargetState.Disabled)
                {
                    manager.Enable(main.Name);
                }
                else
                {
                    manager.Disable(main.Name);
                }
            }

            if (i % 50 == 0)
            {
                if (extras)
                {
                    manager.Remove("extra1").Should().BeTrue();
                    manager.Remove("extra2").Should().BeTrue();
                }
                else
                {
                    foreach (string name in new[] { "extra1", "extra2" })
                    {
                        var o = NetconsoleTargetOptions.Parse($"+{(name == "extra1" ? 6001 : 6002)}@/{lab.DeviceName},6670@{lab.PeerIPv6}/");
                        o.Name = name;
                        manager.Add(o);
                        manager.Enable(name);
                    }
                }

                extras = !extras;
            }

            if (i % 70 == 0)
            {
                lab.SetDeviceDown();
                lab.SetDeviceUp();
            }
        }

        // What the link flaps left in the replay buffer goes out (the target ends enabled).
        await TestWait.UntilAsync(() => main.GetStatistics().RecordsBuffered == 0);
        TargetStatistics stats = main.GetStatistics();
        output.WriteLine($"main: offered {offered}, sent {stats.RecordsSent}, replayed {stats.RecordsReplayed}, dropped {stats.RecordsDropped} ({string.Join(", ", stats.RecordsDroppedByReason.Select(p => $"{p.Key}={p.Value}"))})");
        // Every record is offered to every target, disabled ones included (a counted drop).
        (stats.RecordsSent + stats.RecordsReplayed + stats.RecordsDropped).Should().Be(offered, "every record offered to the target is sent, replayed or counted as dropped");
        stats.RecordsDroppedByReason[TargetDropReason.Disabled].Should().BePositive("the target was disabled for 30 of the 150 iterations");

        long delivered = stats.RecordsSent + stats.RecordsReplayed;
        await TestWait.UntilAsync(() => receiver.GetStatistics().RecordsReceived >= delivered);
        long received = receiver.GetStatistics().RecordsReceived;
        received.Should().Be(delivered, "every record the target sent or replayed arrived");

        await manager.DisposeAsync();
        worker.IsAlive.Should().BeFalse("the resume worker ends with the manager");
        watcherThread!.IsAlive.Should().BeFalse("the watcher the manager created ends with it");
    }
}
