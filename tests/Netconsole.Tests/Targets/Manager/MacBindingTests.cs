using System.Net.NetworkInformation;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>A target bound by MAC follows the device that carries its MAC, whatever its name.</summary>
public sealed class MacBindingTests : ManagerTestBase
{
    [Fact]
    public void Enable_finds_the_device_by_its_mac()
    {
        Register("veth0", MacA);
        Register("veth1", MacB);
        NetconsoleTarget target = Manager.Add(ByMac(MacB));

        Manager.Enable("t").IsEnabled.Should().BeTrue();

        target.DeviceName.Should().Be("veth1");
        Factory.Last.DeviceName.Should().Be("veth1");
    }

    [Fact]
    public void Unregistering_makes_a_mac_bound_target_forget_the_device_name()
    {
        Register("veth0", MacA);
        NetconsoleTarget target = Manager.Add(ByMac(MacA));
        Manager.Enable("t");

        Watcher.Unregister("veth0");
        Settle();

        target.State.Should().Be(TargetState.Deactivated);
        target.StateReason.Should().Be("device veth0 unregistered");
        target.DeviceName.Should().BeNull();
    }

    [Fact]
    public void A_device_registered_under_another_name_with_the_mac_resumes_the_target()
    {
        Register("veth0", MacA);
        NetconsoleTarget target = Manager.Add(ByMac(MacA));
        Manager.Enable("t");
        Watcher.Unregister("veth0");
        Settle();

        Register("usb0", MacA);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.StateReason.Should().Be("resumed on device usb0");
        target.DeviceName.Should().Be("usb0");
    }

    [Fact]
    public void A_device_with_the_old_name_but_another_mac_never_resumes_a_mac_bound_target()
    {
        Register("veth0", MacA);
        NetconsoleTarget target = Manager.Add(ByMac(MacA));
        Manager.Enable("t");
        Watcher.Unregister("veth0");
        Settle();

        Register("veth0", MacB);
        Settle();

        target.State.Should().Be(TargetState.Deactivated);
        Factory.Opens.Should().Be(1);
    }

    [Fact]
    public void A_device_taking_the_targets_mac_resumes_it()
    {
        NetconsoleTarget target = Manager.Add(ByMac(MacA));
        Manager.Enable("t").Reason.Should().Be("setup failed: no device with MAC 02:00:00:00:00:0a");
        Register("veth0", MacB);
        Settle();
        target.State.Should().Be(TargetState.Deactivated);

        Watcher.SetMac("veth0", MacA);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.DeviceName.Should().Be("veth0");
    }

    [Fact]
    public void A_renamed_device_carrying_the_mac_resumes_the_target()
    {
        Register("veth0", MacA);
        NetconsoleTarget target = Manager.Add(ByMac(MacA));
        Factory.OpenError = new FrameTransportException(FrameTransportError.Other, "veth0", "busy");
        Manager.Enable("t").Reason.Should().Be("setup failed: busy");
        Factory.OpenError = null;

        Watcher.Rename("veth0", "lan0");
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.DeviceName.Should().Be("lan0");
    }

    [Fact]
    public void A_renamed_device_under_the_targets_name_resumes_a_name_bound_target()
    {
        Register("eth7", MacA);
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Watcher.Rename("eth7", "veth0");
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.DeviceName.Should().Be("veth0");
    }

    [Fact]
    public void An_all_zero_mac_never_matches_a_device()
    {
        var zero = new PhysicalAddress(new byte[6]);
        Watcher.Register("lo", zero, [ManagerTestBase.Local]);
        Manager.Add(ByMac(zero));

        Manager.Enable("t").State.Should().Be(TargetState.Deactivated);
    }
}
