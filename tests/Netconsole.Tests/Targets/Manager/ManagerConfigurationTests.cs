using System.Net;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Adding, naming and reconfiguring targets.</summary>
public sealed class ManagerConfigurationTests : ManagerTestBase
{
    [Fact]
    public void Add_copies_the_options()
    {
        NetconsoleTargetOptions options = ByName("veth0");
        NetconsoleTarget target = Manager.Add(options);

        options.RemotePort = 7777;
        target.Options.RemotePort = 8888;

        target.Options.RemotePort.Should().Be(6666);
    }

    [Fact]
    public void Targets_without_a_name_are_named_target0_target1_skipping_names_in_use()
    {
        Manager.Add(ByName("veth0", "target1"));

        NetconsoleTarget first = Manager.Add(ByName("veth0", null));
        NetconsoleTarget second = Manager.Add(ByName("veth0", null));

        first.Name.Should().Be("target0");
        second.Name.Should().Be("target2");
        second.Options.Name.Should().Be("target2");
        Manager.Targets.Select(t => t.Name).Should().Equal("target1", "target0", "target2");
    }

    [Fact]
    public void A_second_target_with_the_same_name_is_refused()
    {
        Manager.Add(ByName("veth0"));

        FluentActions.Invoking(() => Manager.Add(ByName("veth1"))).Should().Throw<ArgumentException>().WithMessage("*named t exists already*");
        Manager.Targets.Should().HaveCount(1);
    }

    [Fact]
    public void Invalid_options_are_refused_by_add()
    {
        FluentActions.Invoking(() => Manager.Add(new NetconsoleTargetOptions { DeviceName = "veth0" }))
            .Should().Throw<NetconsoleConfigurationException>();
        Manager.Targets.Should().BeEmpty();
    }

    [Fact]
    public void An_unknown_target_name_throws_key_not_found()
    {
        FluentActions.Invoking(() => Manager.Enable("nope")).Should().Throw<KeyNotFoundException>().WithMessage("No target named nope*");
        FluentActions.Invoking(() => Manager.Disable("nope")).Should().Throw<KeyNotFoundException>();
    }

    [Fact]
    public void Reconfigure_is_refused_while_enabled()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        FluentActions.Invoking(() => Manager.Reconfigure("t", o => o.RemotePort = 7777))
            .Should().Throw<InvalidOperationException>().WithMessage("Target t is enabled*Disable it first.");
        target.Options.RemotePort.Should().Be(6666);
    }

    [Fact]
    public void Reconfigure_is_allowed_while_disabled_and_takes_effect_at_the_next_enable()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        Manager.Reconfigure("t", o =>
        {
            o.Extended = true;
            o.RemotePort = 7777;
        });
        Manager.Enable("t");
        Manager.Send(NetconsoleRecord.FromString(6, "hello") with { Sequence = 5 });

        target.Options.RemotePort.Should().Be(7777);
        byte[] frame = Factory.Last.Frames.Single();
        (frame[36] << 8 | frame[37]).Should().Be(7777);
        System.Text.Encoding.UTF8.GetString(frame, 42, frame.Length - 42).Should().StartWith("14,5,");
    }

    [Fact]
    public void Reconfigure_validates_and_leaves_the_options_unchanged_when_invalid()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        FluentActions.Invoking(() => Manager.Reconfigure("t", o => o.LocalAddress = IPAddress.Parse("2001:db8::1")))
            .Should().Throw<NetconsoleConfigurationException>();

        target.Options.LocalAddress.Should().BeNull();
    }

    [Fact]
    public void Reconfigure_cannot_rename_a_target()
    {
        Manager.Add(ByName("veth0"));

        FluentActions.Invoking(() => Manager.Reconfigure("t", o => o.Name = "u"))
            .Should().Throw<InvalidOperationException>().WithMessage("*cannot be renamed*");
    }

    // Issue 20: the configuration lock is re-entrant, so the change callback could enable the
    // target; Reconfigure then returned with the target Enabled on port 6666 and options saying 7777.
    [Fact]
    public void The_change_callback_cannot_enable_the_target_or_change_any_other_and_nothing_changes()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Add(ByName("veth0", "other"));

        FluentActions.Invoking(() => Manager.Reconfigure("t", o =>
        {
            Manager.Enable("t");
            o.RemotePort = 7777;
            o.Extended = true;
        })).Should().Throw<InvalidOperationException>().WithMessage("Cannot enable a target from inside the change callback of Reconfigure(\"t\")*");

        target.State.Should().Be(TargetState.Disabled);
        target.Options.RemotePort.Should().Be(6666);
        foreach (Action<NetconsoleTargetOptions> change in new Action<NetconsoleTargetOptions>[]
        {
            _ => Manager.Enable("other"),
            _ => Manager.Disable("other"),
            _ => Manager.Remove("other"),
            _ => Manager.Add(ByName("veth0", "third")),
            _ => Manager.Reconfigure("other", o => o.RemotePort = 1),
        })
        {
            FluentActions.Invoking(() => Manager.Reconfigure("t", change)).Should().Throw<InvalidOperationException>().WithMessage("Cannot * from inside the change callback*");
        }

        Manager.Targets.Select(t => (t.Name, t.State, t.Options.RemotePort)).Should().Equal(("t", TargetState.Disabled, 6666), ("other", TargetState.Disabled, 6666));
        Manager.Reconfigure("t", o => o.RemotePort = 7777);
        Manager.Enable("t").State.Should().Be(TargetState.Enabled, "after the callback, every call works again");
        target.Options.RemotePort.Should().Be(7777);
    }
}
