using System.Diagnostics;
using System.Net.NetworkInformation;
using System.Runtime.Versioning;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Devices;

// Both watchers against real devices in the lab: each lab operation gives the expected event.
// Latencies (event raised minus the lab operation returning; negative when the lab operation
// waits for carrier after the change) go to the test output, informally.
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class DeviceWatcherLabTests(ITestOutputHelper output)
{
    public const string Netlink = "rtnetlink";
    public const string Polling = "polling";

    public static TheoryData<string> Watchers => new() { Netlink, Polling };

    private static IDeviceWatcher CreateWatcher(string kind) => kind switch
    {
        Netlink => new RtnetlinkDeviceWatcher(),
        Polling => new PollingDeviceWatcher(TimeSpan.FromMilliseconds(100)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private NetworkLab CreateLab()
    {
        Requires.LinuxRoot();
        Requires.PrivateNetworkNamespace();
        return NetworkLab.Create(new NetworkLabOptions { Log = new StringWriter() });
    }

    private void Latency(string kind, string operation, long started, long returned, long raised) =>
        output.WriteLine(
            $"latency {kind} {operation}: {Stopwatch.GetElapsedTime(started, raised).TotalMilliseconds:F1} ms after the command started, "
            + $"{Stopwatch.GetElapsedTime(returned, raised).TotalMilliseconds:F1} ms after it returned");

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void The_initial_snapshot_contains_the_lab_device(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);

        watcher.GetDevices().Should().BeEmpty("nothing is known before Start");
        watcher.Start();

        NetworkDevice device = watcher.GetDevices().Should().ContainSingle(d => d.Name == lab.DeviceName).Subject;
        device.Index.Should().Be(lab.DeviceIndex);
        device.Mac.Should().Be(lab.DeviceMac);
        device.IsUp.Should().BeTrue();
        device.IsRunning.Should().BeTrue();
        device.Addresses.Should().Contain([lab.DeviceIPv4, lab.DeviceIPv6]);
        watcher.GetDevices().Select(d => d.Index).Should().BeInAscendingOrder();
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Deleting_the_device_is_Unregistered_with_its_last_name_and_index(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);
        (string name, int index) = (lab.DeviceName, lab.DeviceIndex);

        long started = Stopwatch.GetTimestamp();
        lab.DeleteDevice();
        long returned = Stopwatch.GetTimestamp();

        (DeviceChangedEventArgs e, long raised) = recorder.WaitFor(e => e.Kind == DeviceChangeKind.Unregistered && e.Device.Index == index, "Unregistered");
        Latency(kind, "delete", started, returned, raised);
        e.Device.Name.Should().Be(name);
        e.Device.Mac.Should().Be(lab.DeviceMac);
        watcher.GetDevices().Should().NotContain(d => d.Index == index);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Recreating_the_device_with_the_same_name_is_Registered_with_a_new_index(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);
        (string name, int index) = (lab.DeviceName, lab.DeviceIndex);
        lab.DeleteDevice();

        long started = Stopwatch.GetTimestamp();
        lab.RecreateDevice();
        long returned = Stopwatch.GetTimestamp();

        (DeviceChangedEventArgs e, long raised) = recorder.WaitFor(e => e.Kind == DeviceChangeKind.Registered && e.Device.Name == name, "Registered");
        Latency(kind, "recreate", started, returned, raised);
        e.Device.Index.Should().NotBe(index).And.Be(lab.DeviceIndex);
        e.Device.Mac.Should().Be(lab.DeviceMac);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Recreating_the_device_with_another_name_and_the_old_mac_is_Registered_with_that_mac(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);
        PhysicalAddress mac = lab.DeviceMac;
        string newName = lab.NewDeviceName();
        lab.DeleteDevice();

        lab.RecreateDevice(newName, mac);

        DeviceChangedEventArgs e = recorder.WaitFor(e => e.Kind == DeviceChangeKind.Registered && e.Device.Name == newName, "Registered").Event;
        e.Device.Mac.Should().Be(mac);
        e.Device.Index.Should().Be(lab.DeviceIndex);
        watcher.GetDevices().Should().ContainSingle(d => d.Name == newName).Which.Mac.Should().Be(mac);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Renaming_the_device_is_Renamed_with_both_names_and_the_same_index(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);
        (string oldName, int index) = (lab.DeviceName, lab.DeviceIndex);
        string newName = lab.NewDeviceName();

        lab.RenameDevice(newName);

        DeviceChangedEventArgs e = recorder.WaitFor(e => e.Kind == DeviceChangeKind.Renamed, "Renamed").Event;
        e.OldName.Should().Be(oldName);
        e.Device.Name.Should().Be(newName);
        e.Device.Index.Should().Be(index);
        recorder.WaitFor(e => e.Kind == DeviceChangeKind.Up && e.Device.Index == index, "Up after the rename");
        watcher.GetDevices().Should().ContainSingle(d => d.Index == index).Which.Name.Should().Be(newName);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Setting_the_mac_is_MacChanged_with_both_macs(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);
        PhysicalAddress oldMac = lab.DeviceMac;
        PhysicalAddress newMac = NetworkLab.RandomMac();

        long started = Stopwatch.GetTimestamp();
        lab.SetDeviceMac(newMac);
        long returned = Stopwatch.GetTimestamp();

        (DeviceChangedEventArgs e, long raised) = recorder.WaitFor(e => e.Kind == DeviceChangeKind.MacChanged, "MacChanged");
        Latency(kind, "set mac", started, returned, raised);
        e.OldMac.Should().Be(oldMac);
        e.Device.Mac.Should().Be(newMac);
        e.Device.Index.Should().Be(lab.DeviceIndex);
        e.Device.Name.Should().Be(lab.DeviceName);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Setting_the_device_down_is_Down_and_up_again_is_Up(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);

        long started = Stopwatch.GetTimestamp();
        lab.SetDeviceDown();
        long returned = Stopwatch.GetTimestamp();
        (DeviceChangedEventArgs down, long raised) = recorder.WaitFor(e => e.Device.Index == lab.DeviceIndex && e.Kind is DeviceChangeKind.Down or DeviceChangeKind.Up, "Down");
        Latency(kind, "down", started, returned, raised);
        down.Kind.Should().Be(DeviceChangeKind.Down);
        down.Device.IsUp.Should().BeFalse();

        lab.SetDeviceUp();
        DeviceChangedEventArgs up = recorder.WaitFor(e => e.Device.Index == lab.DeviceIndex && e.Kind is DeviceChangeKind.Down or DeviceChangeKind.Up, "Up").Event;
        up.Kind.Should().Be(DeviceChangeKind.Up);
        up.Device.IsUp.Should().BeTrue();
        up.Device.IsRunning.Should().BeTrue();
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Losing_the_carrier_is_Down_and_getting_it_back_is_Up(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);

        lab.SetPeerDown();
        DeviceChangedEventArgs down = recorder.WaitFor(e => e.Device.Index == lab.DeviceIndex && e.Kind is DeviceChangeKind.Down or DeviceChangeKind.Up, "Down").Event;
        down.Kind.Should().Be(DeviceChangeKind.Down);
        down.Device.IsUp.Should().BeTrue("the device itself stays administratively up");
        down.Device.IsRunning.Should().BeFalse();

        lab.SetPeerUp();
        recorder.WaitFor(e => e.Device.Index == lab.DeviceIndex && e.Kind is DeviceChangeKind.Down or DeviceChangeKind.Up, "Up").Event
            .Kind.Should().Be(DeviceChangeKind.Up);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void After_a_storm_of_deletes_and_recreates_the_snapshot_matches_the_system(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);

        for (int cycle = 0; cycle < 20; cycle++)
        {
            lab.DeleteDevice();
            lab.RecreateDevice(cycle % 2 == 0 ? lab.NewDeviceName() : null, cycle % 3 == 0 ? NetworkLab.RandomMac() : null);
        }

        WaitUntilSnapshotMatchesSystem(watcher);
        recorder.WaitFor(e => e.Kind == DeviceChangeKind.Registered && e.Device.Index == lab.DeviceIndex, "Registered for the last device");
        Counters(watcher).HandlerErrors.Should().Be(0);
        output.WriteLine($"{kind}: {Counters(watcher)}");
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void A_throwing_handler_is_counted_and_the_watcher_goes_on(string kind)
    {
        using NetworkLab lab = CreateLab();
        using IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.DeviceChanged += (_, _) => throw new InvalidOperationException("handler failure");
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);

        lab.SetDeviceDown();
        recorder.WaitFor(e => e.Kind == DeviceChangeKind.Down, "Down");
        lab.SetDeviceUp();
        recorder.WaitFor(e => e.Kind == DeviceChangeKind.Up, "Up");

        Counters(watcher).HandlerErrors.Should().BeGreaterThanOrEqualTo(2);
    }

    [SkippableTheory]
    [MemberData(nameof(Watchers))]
    public void Dispose_ends_the_watcher_thread_and_is_idempotent(string kind)
    {
        Requires.LinuxRoot();
        string threadName = kind == Netlink ? RtnetlinkDeviceWatcher.ThreadName : PollingDeviceWatcher.ThreadName;
        IDeviceWatcher watcher = CreateWatcher(kind);
        watcher.Start();
        watcher.Start();
        // This watcher's own thread: other tests may run watchers of their own at the same time.
        Thread? thread = watcher switch
        {
            RtnetlinkDeviceWatcher n => n.WatcherThread,
            PollingDeviceWatcher p => p.WatcherThread,
            _ => null,
        };
        thread.Should().NotBeNull();
        thread!.Name.Should().Be(threadName);
        thread.IsAlive.Should().BeTrue();

        watcher.Dispose();
        watcher.Dispose();

        thread.IsAlive.Should().BeFalse("Dispose joins the watcher's thread");
        FluentActions.Invoking(watcher.Start).Should().Throw<ObjectDisposedException>();
    }

    [SkippableFact]
    public void Overflow_redumps_and_reports_what_the_lost_notifications_said()
    {
        using NetworkLab lab = CreateLab();
        // The smallest socket buffer the kernel allows, and a handler that blocks: notifications pile up and are dropped.
        using var watcher = new RtnetlinkDeviceWatcher(receiveBufferBytes: 1);
        using var gate = new ManualResetEventSlim();
        watcher.DeviceChanged += (_, _) => gate.Wait(TimeSpan.FromSeconds(20));
        watcher.Start();
        using var recorder = new DeviceEventRecorder(watcher);
        int firstIndex = lab.DeviceIndex;

        lab.SetDeviceDown(); // the first event blocks the thread
        for (int cycle = 0; cycle < 10; cycle++)
        {
            lab.DeleteDevice();
            lab.RecreateDevice(lab.NewDeviceName(), NetworkLab.RandomMac());
        }

        gate.Set();

        WaitUntilSnapshotMatchesSystem(watcher);
        watcher.Overflows.Should().BeGreaterThan(0);
        recorder.WaitFor(e => e.Kind == DeviceChangeKind.Unregistered && e.Device.Index == firstIndex, "Unregistered for the first device");
        recorder.WaitFor(e => e.Kind == DeviceChangeKind.Registered && e.Device.Index == lab.DeviceIndex && e.Device.Mac.Equals(lab.DeviceMac), "Registered for the last device");
        output.WriteLine($"overflows {watcher.Overflows}, malformed {watcher.MalformedMessages}");
    }

    [SkippableFact]
    public void CreateDefault_is_the_rtnetlink_watcher_on_Linux()
    {
        Skip.IfNot(OperatingSystem.IsLinux());

        using IDeviceWatcher watcher = DeviceWatcher.CreateDefault();

        watcher.Should().BeOfType<RtnetlinkDeviceWatcher>();
    }

    private static (long HandlerErrors, long Overflows, long Malformed) Counters(IDeviceWatcher watcher) => watcher switch
    {
        RtnetlinkDeviceWatcher netlink => (netlink.HandlerErrors, netlink.Overflows, netlink.MalformedMessages),
        PollingDeviceWatcher polling => (polling.HandlerErrors, 0, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(watcher)),
    };

    // The watcher's view (index, name, MAC, flags) equals NetworkDevice.GetAll()'s within the patience.
    private static void WaitUntilSnapshotMatchesSystem(IDeviceWatcher watcher)
    {
        static string Describe(IEnumerable<NetworkDevice> devices) => string.Join(
            "; ",
            devices.OrderBy(d => d.Index).Select(d => $"{d.Index} {d.Name} {Mac(d.Mac)} {d.IsUp} {d.IsRunning}"));

        var clock = Stopwatch.StartNew();
        string seen = "", system = "";
        while (clock.Elapsed < DeviceEventRecorder.Patience)
        {
            seen = Describe(watcher.GetDevices());
            system = Describe(NetworkDevice.GetAll());
            if (seen == system)
            {
                return;
            }

            Thread.Sleep(50);
        }

        seen.Should().Be(system, "the watcher's snapshot converges on the system's");
    }

    // Loopback's all-zero MAC is reported by rtnetlink and left empty by .NET: both mean "none".
    private static string Mac(PhysicalAddress mac) => mac.GetAddressBytes().All(b => b == 0) ? "" : mac.ToString();
}
