using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>The target states and their transitions (WIRE.md section 6, ARCHITECTURE.md "Target lifecycle").</summary>
public sealed class TargetLifecycleTests : ManagerTestBase
{
    [Fact]
    public void An_added_target_starts_disabled()
    {
        Register("veth0");

        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        target.State.Should().Be(TargetState.Disabled);
        target.StateReason.Should().Be("added, not enabled yet");
        Factory.Opens.Should().Be(0);
        EventsSoFar().Should().BeEmpty();
    }

    [Fact]
    public void Enable_on_a_present_device_opens_it_and_enables_the_target()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        EnableResult result = Manager.Enable("t");

        result.IsEnabled.Should().BeTrue();
        result.Reason.Should().Be("enabled on device veth0");
        target.State.Should().Be(TargetState.Enabled);
        target.DeviceName.Should().Be("veth0");
        Factory.Last.DeviceName.Should().Be("veth0");
        EventsSoFar().Should().ContainSingle().Which.Should().BeEquivalentTo(
            new { Target = target, OldState = TargetState.Disabled, NewState = TargetState.Enabled, Reason = "enabled on device veth0" });
    }

    [Fact]
    public void Enable_on_a_missing_device_deactivates_the_target_with_the_reason()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        EnableResult result = Manager.Enable("t");

        result.State.Should().Be(TargetState.Deactivated);
        result.Reason.Should().Be("setup failed: no device named veth0");
        target.State.Should().Be(TargetState.Deactivated);
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public void A_target_deactivated_at_enable_resumes_when_its_device_is_registered()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Register("veth0");
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.StateReason.Should().Be("resumed on device veth0");
        target.GetStatistics().Resumes.Should().Be(1);
    }

    [Fact]
    public void Enable_on_a_device_that_is_down_deactivates_and_the_target_resumes_when_it_comes_up()
    {
        Register("veth0", up: false);
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        Manager.Enable("t").Reason.Should().Be("setup failed: device veth0 is down");

        Watcher.SetUp("veth0", true);
        Settle();
        target.State.Should().Be(TargetState.Enabled);
    }

    [Fact]
    public void Enable_that_cannot_open_the_device_deactivates_with_the_transport_message()
    {
        Register("veth0");
        Manager.Add(ByName("veth0"));
        Factory.OpenError = new FrameTransportException(FrameTransportError.PermissionDenied, "veth0", "no CAP_NET_RAW");

        EnableResult result = Manager.Enable("t");

        result.State.Should().Be(TargetState.Deactivated);
        result.Reason.Should().Be("setup failed: no CAP_NET_RAW");
    }

    [Fact]
    public void A_target_without_a_device_and_without_a_route_fails_setup_and_says_to_name_one()
    {
        Manager.Add(new NetconsoleTargetOptions { Name = "t", RemoteAddress = Remote });

        Manager.Enable("t").Reason.Should().Be($"setup failed: no device named and no route to {Remote}: add a route or name the device in the target");
    }

    [Fact]
    public void A_target_waiting_for_a_route_is_set_up_by_the_worker_once_the_route_appears_without_any_device_event()
    {
        NetworkDevice device = Watcher.Register("veth7", MacA, [System.Net.IPAddress.Parse("192.0.2.1")]);
        NetconsoleTarget target = Manager.Add(new NetconsoleTargetOptions { Name = "t", RemoteAddress = Remote });
        Manager.Enable("t").State.Should().Be(TargetState.Deactivated);
        Settle();

        Routes = remote => new Netconsole.Resolution.RouteInfo(device.Index, null, null); // e.g. DHCP adds the route after the link came up
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (target.State != TargetState.Enabled && deadline.Elapsed < Timeout)
        {
            Thread.Sleep(20);
        }

        target.State.Should().Be(TargetState.Enabled, "the worker tries again every {0}", TargetManager.SetupRetryInterval);
        target.StateReason.Should().Be($"resumed on device veth7; device veth7 chosen by the route to {Remote}");
        target.GetStatistics().Resumes.Should().Be(1);
    }

    [Fact]
    public void A_disabled_target_is_not_retried_even_when_its_route_appears()
    {
        NetworkDevice device = Watcher.Register("veth7", MacA, [System.Net.IPAddress.Parse("192.0.2.1")]);
        NetconsoleTarget target = Manager.Add(new NetconsoleTargetOptions { Name = "t", RemoteAddress = Remote });
        Manager.Enable("t").State.Should().Be(TargetState.Deactivated);
        int passes = Manager.SetupRetryPasses;
        Manager.Disable("t");
        Routes = remote => new Netconsole.Resolution.RouteInfo(device.Index, null, null);

        // The retry pass armed before the Disable runs once more and must leave the target alone.
        SpinWait.SpinUntil(() => Manager.SetupRetryPasses > passes, Timeout).Should().BeTrue("the worker's retry pass comes within {0}", TargetManager.SetupRetryInterval);
        Settle();

        target.State.Should().Be(TargetState.Disabled, "an operator's disable wins");
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public void A_target_without_a_device_gets_the_interface_of_the_route_to_its_remote_and_says_so()
    {
        NetworkDevice device = Watcher.Register("veth7", MacA, [System.Net.IPAddress.Parse("192.0.2.1")]);
        Routes = remote => new Netconsole.Resolution.RouteInfo(device.Index, null, null);
        Manager.Add(new NetconsoleTargetOptions { Name = "t", RemoteAddress = Remote });

        EnableResult result = Manager.Enable("t");

        result.State.Should().Be(TargetState.Enabled);
        result.Reason.Should().Be($"enabled on device veth7; device veth7 chosen by the route to {Remote}");
        Factory.Opens.Should().Be(1);
    }

    [Fact]
    public void A_device_without_an_address_of_the_remote_family_fails_setup()
    {
        Watcher.Register("veth0", MacA, [System.Net.IPAddress.Parse("2001:db8::1")]);
        Manager.Add(ByName("veth0"));

        Manager.Enable("t").Reason.Should().Be("setup failed: device veth0 has no IPv4 address to send from: set the local address");
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public void Unregistering_the_device_deactivates_the_target_and_closes_its_transport()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Watcher.Unregister("veth0");
        Settle();

        target.State.Should().Be(TargetState.Deactivated);
        target.StateReason.Should().Be("device veth0 unregistered");
        Factory.Last.IsDisposed.Should().BeTrue();
        target.DeviceName.Should().Be("veth0", "a target bound by name keeps waiting for its name");
    }

    [Fact]
    public void A_device_registered_again_under_the_same_name_resumes_the_target_on_a_new_transport()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Watcher.Unregister("veth0");
        Settle();

        Register("veth0", MacB);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.StateReason.Should().Be("resumed on device veth0");
        Factory.Opened.Should().HaveCount(2);
        Factory.Opened[0].IsDisposed.Should().BeTrue();
        Factory.Opened[1].IsDisposed.Should().BeFalse();
        EventsSoFar().Select(e => e.NewState).Should().Equal(TargetState.Enabled, TargetState.Deactivated, TargetState.Enabled);
    }

    [Fact]
    public void Another_device_unregistering_leaves_the_target_enabled()
    {
        Register("veth0");
        Register("veth1", MacB);
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Watcher.Unregister("veth1");
        Settle();

        target.State.Should().Be(TargetState.Enabled);
    }

    [Fact]
    public void Down_and_up_leave_an_enabled_target_enabled()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Watcher.SetUp("veth0", false);
        Watcher.SetUp("veth0", true);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        Factory.Opens.Should().Be(1);
    }

    [Fact]
    public void An_enabled_target_follows_its_device_across_a_rename_as_the_kernel()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Watcher.Rename("veth0", "lan0");
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.DeviceName.Should().Be("lan0");
        target.Options.DeviceName.Should().Be("lan0");
        Factory.Opens.Should().Be(1);
    }

    [Fact]
    public void Disable_closes_the_transport_and_disables_the_target()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Manager.Disable("t");

        target.State.Should().Be(TargetState.Disabled);
        target.StateReason.Should().Be("disabled by the operator");
        Factory.Last.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void A_disabled_target_never_resumes()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.Disable("t");

        Register("veth0");
        Settle();

        target.State.Should().Be(TargetState.Disabled);
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public void Enable_on_an_enabled_target_changes_nothing()
    {
        Register("veth0");
        Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Manager.Enable("t").IsEnabled.Should().BeTrue();

        Factory.Opens.Should().Be(1);
        EventsSoFar().Should().HaveCount(1);
    }

    [Fact]
    public void Enable_on_a_deactivated_target_sets_it_up_at_once()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.PauseWorker();
        Register("veth0");

        Manager.Enable("t").IsEnabled.Should().BeTrue();
        Manager.ResumeWorker();
        Settle();

        target.GetStatistics().Resumes.Should().Be(0, "the operator enabled it; the queued event finds it enabled");
        Factory.Opens.Should().Be(1);
    }

    [Fact]
    public void Remove_disables_the_target_and_forgets_it()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Manager.Remove("t").Should().BeTrue();

        Manager.Targets.Should().BeEmpty();
        target.State.Should().Be(TargetState.Disabled);
        target.StateReason.Should().Be("removed");
        Factory.Last.IsDisposed.Should().BeTrue();
        Manager.Remove("t").Should().BeFalse();
    }

    [Fact]
    public void The_target_event_and_the_manager_event_report_the_same_change()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        var seen = new List<TargetStateChangedEventArgs>();
        target.StateChanged += (sender, e) =>
        {
            sender.Should().BeSameAs(target);
            seen.Add(e);
        };

        Manager.Enable("t");

        seen.Should().ContainSingle().Which.Should().BeSameAs(EventsSoFar().Single());
    }

    [Fact]
    public void A_throwing_handler_breaks_neither_the_change_nor_the_other_handlers()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        target.StateChanged += (_, _) => throw new InvalidOperationException("handler bug");
        int laterTargetHandler = 0;
        target.StateChanged += (_, _) => laterTargetHandler++;
        Manager.StateChanged += (_, _) => throw new InvalidOperationException("handler bug");

        Manager.Enable("t").IsEnabled.Should().BeTrue();

        EventsSoFar().Should().ContainSingle();
        laterTargetHandler.Should().Be(1);
        Manager.HandlerFailures.Should().Be(2);
    }

    [Fact]
    public void A_handler_may_call_the_manager()
    {
        Register("veth0");
        Manager.Add(ByName("veth0"));
        Manager.StateChanged += (_, e) =>
        {
            if (e.NewState == TargetState.Enabled)
            {
                Manager.Disable(e.Target.Name);
            }
        };

        Manager.Enable("t");

        EventsSoFar().Select(e => e.NewState).Should().Equal(TargetState.Enabled, TargetState.Disabled);
    }

    [Fact]
    public void The_last_state_change_is_stamped_with_the_managers_clock()
    {
        var clock = new FixedClock(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = Watcher, TransportFactory = Factory, TimeProvider = clock });
        Register("veth0");
        NetconsoleTarget target = manager.Add(ByName("veth0"));
        clock.Now = clock.Now.AddMinutes(1);

        manager.Enable("t");

        target.GetStatistics().LastStateChange.Should().Be(new DateTimeOffset(2026, 1, 2, 3, 5, 5, TimeSpan.Zero));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
