using Netconsole.Devices;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// Off Linux there is no route lookup (rtnetlink): a target that names no device cannot find
/// one. It stays deactivated with a cause and a reason that say what to do, and is not tried
/// again by itself; a target bound by name or by MAC works as anywhere.
/// </summary>
public sealed class NoRouteLookupTests : ManagerTestBase
{
    private const string Reason =
        "setup failed: no device named, and this system cannot choose one by the route to 192.0.2.2 "
        + "(route lookup uses rtnetlink, which is Linux only): name the device (DeviceName) or bind the target by MAC (DeviceMac)";

    public NoRouteLookupTests()
        : base(hasRouteLookup: false)
    {
    }

    private NetconsoleTarget AddWithoutDevice() =>
        Manager.Add(new NetconsoleTargetOptions { Name = "t", RemoteAddress = Remote });

    [SkippableFact]
    public void The_default_route_lookup_exists_on_linux_only()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it checks Linux's own rules too");
        new TargetManagerOptions().RouteLookup.Should().NotBeNull("the tests run on Linux, which has rtnetlink");

        using (HostPlatform.Pretend(HostKind.Windows))
        {
            new TargetManagerOptions().RouteLookup.Should().BeNull();
        }

        using (HostPlatform.Pretend(HostKind.MacOS))
        {
            new TargetManagerOptions().RouteLookup.Should().BeNull();
        }
    }

    [Fact]
    public void A_target_without_a_device_stays_deactivated_with_the_cause_and_what_to_do()
    {
        Register("veth0");
        NetconsoleTarget target = AddWithoutDevice();

        EnableResult result = Manager.Enable("t");

        (result.State, result.Cause, result.Reason).Should().Be((TargetState.Deactivated, TargetStateCause.RouteLookupUnsupported, Reason));
        (target.State, target.StateCause, target.StateReason).Should().Be((TargetState.Deactivated, TargetStateCause.RouteLookupUnsupported, Reason));
        Factory.Opens.Should().Be(0, "no device is opened on a guess");
    }

    [Fact]
    public void It_is_not_tried_again_every_second()
    {
        NetconsoleTarget target = AddWithoutDevice();
        Manager.Enable("t");

        target.RetryLater.Should().BeFalse("nothing on this system can make a route lookup appear");
        Thread.Sleep(TargetManager.SetupRetryInterval * 2);
        Settle();

        Manager.SetupRetryPasses.Should().Be(0);
        target.StateReason.Should().Be(Reason);
    }

    [Fact]
    public void Device_events_leave_it_alone()
    {
        NetconsoleTarget target = AddWithoutDevice();
        Manager.Enable("t");

        Register("veth0");
        Watcher.SetUp("veth0", false);
        Watcher.SetUp("veth0", true);
        Settle();

        target.StateReason.Should().Be(Reason, "each event would fail the same way");
        Factory.Opens.Should().Be(0);
        EventsSoFar().Should().ContainSingle().Which.Cause.Should().Be(TargetStateCause.RouteLookupUnsupported);
    }

    [Fact]
    public void Naming_the_device_then_enabling_sets_it_up()
    {
        Register("veth0");
        AddWithoutDevice();
        Manager.Enable("t");

        Manager.Reconfigure("t", options => options.DeviceName = "veth0");

        Manager.Enable("t").Reason.Should().Be("enabled on device veth0");
    }

    [Fact]
    public void Targets_bound_by_name_or_by_mac_do_not_need_a_route_lookup()
    {
        Register("veth0", MacA);
        Manager.Add(ByName("veth0", name: "by-name"));
        Manager.Add(ByMac(MacA, name: "by-mac"));

        Manager.Enable("by-name").State.Should().Be(TargetState.Enabled);
        Manager.Enable("by-mac").State.Should().Be(TargetState.Enabled);
    }
}
