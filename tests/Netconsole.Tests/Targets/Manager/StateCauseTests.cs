using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Every state a target reaches carries a cause code that says what the reason text says.</summary>
public sealed class StateCauseTests : ManagerTestBase
{
    [Fact]
    public void An_added_target_is_not_enabled_yet()
    {
        Manager.Add(ByName("veth0")).StateCause.Should().Be(TargetStateCause.NotEnabled);
    }

    [Fact]
    public void Enable_and_the_events_carry_the_cause_with_the_reason()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        EnableResult result = Manager.Enable("t");

        result.Cause.Should().Be(TargetStateCause.Enabled);
        target.StateCause.Should().Be(TargetStateCause.Enabled);
        TargetStateChangedEventArgs e = EventsSoFar().Should().ContainSingle().Subject;
        (e.NewState, e.Cause, e.Reason).Should().Be((TargetState.Enabled, TargetStateCause.Enabled, "enabled on device veth0"));
    }

    [Fact]
    public void A_missing_device_then_its_arrival_are_NoSuchDevice_then_Resumed()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t").Cause.Should().Be(TargetStateCause.NoSuchDevice);

        Register("veth0");
        Settle();

        target.StateCause.Should().Be(TargetStateCause.Resumed);
        target.StateReason.Should().Be("resumed on device veth0");
    }

    [Fact]
    public void A_device_that_is_down_is_DeviceDown()
    {
        Register("veth0", up: false);
        Manager.Add(ByName("veth0"));

        Manager.Enable("t").Cause.Should().Be(TargetStateCause.DeviceDown);
    }

    [Fact]
    public void No_route_and_no_local_address_are_told_apart()
    {
        Manager.Add(new NetconsoleTargetOptions { Name = "t", RemoteAddress = Remote });
        Manager.Enable("t").Cause.Should().Be(TargetStateCause.NoRoute);

        Watcher.Register("veth1", MacB, [System.Net.IPAddress.Parse("2001:db8::1")]);
        Manager.Add(ByName("veth1", name: "v6only"));
        Manager.Enable("v6only").Cause.Should().Be(TargetStateCause.NoLocalAddress);
    }

    [Theory]
    [InlineData(FrameTransportError.LibpcapMissing, TargetStateCause.LibpcapMissing)]
    [InlineData(FrameTransportError.PermissionDenied, TargetStateCause.PermissionDenied)]
    [InlineData(FrameTransportError.NoSuchDevice, TargetStateCause.NoSuchDevice)]
    [InlineData(FrameTransportError.DeviceDown, TargetStateCause.DeviceDown)]
    [InlineData(FrameTransportError.NotEthernet, TargetStateCause.NotEthernet)]
    [InlineData(FrameTransportError.Other, TargetStateCause.TransportError)]
    public void A_transport_that_cannot_be_opened_gives_the_cause_of_its_error(FrameTransportError error, TargetStateCause cause)
    {
        Register("veth0");
        Manager.Add(ByName("veth0"));
        Factory.OpenError = new FrameTransportException(error, "veth0", "cannot open veth0");

        EnableResult result = Manager.Enable("t");

        (result.State, result.Cause, result.Reason).Should().Be((TargetState.Deactivated, cause, "setup failed: cannot open veth0"));
    }

    [Fact]
    public void A_device_unregistered_under_an_enabled_target_is_DeviceUnregistered()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Watcher.Unregister("veth0");
        Settle();

        target.StateCause.Should().Be(TargetStateCause.DeviceUnregistered);
    }

    [Fact]
    public void A_transport_that_dies_under_a_send_is_TransportLost()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Factory.Last.Fail = FrameTransportError.DeviceGone;

        SendRecords(1);
        Settle();

        target.StateCause.Should().Be(TargetStateCause.TransportLost);
    }

    [Fact]
    public void Disable_remove_and_disposal_each_have_their_own_cause()
    {
        NetconsoleTarget disabled = Manager.Add(ByName("veth0", name: "disabled"));
        NetconsoleTarget removed = Manager.Add(ByName("veth0", name: "removed"));
        NetconsoleTarget disposed = Manager.Add(ByName("veth0", name: "disposed"));
        Manager.Enable("disabled");

        Manager.Disable("disabled");
        Manager.Remove("removed");
        disabled.StateCause.Should().Be(TargetStateCause.DisabledByOperator);
        removed.StateCause.Should().Be(TargetStateCause.Removed);

        Manager.Dispose();
        disposed.StateCause.Should().Be(TargetStateCause.ManagerDisposed);
    }
}
