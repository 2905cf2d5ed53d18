using System.Net.NetworkInformation;
using System.Net;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Targets;

/// <summary>Setters reject a value wrong on its own; Validate checks the rules across properties.</summary>
public class TargetOptionsValidationTests
{
    private static NetconsoleConfigurationException Rejects(Action action) =>
        FluentActions.Invoking(action).Should().Throw<NetconsoleConfigurationException>().Which;

    private static NetconsoleTargetOptions Valid() => new() { RemoteAddress = IPAddress.Parse("192.0.2.2") };

    [Fact]
    public void New_options_have_the_documented_defaults()
    {
        var options = new NetconsoleTargetOptions();

        options.LocalPort.Should().Be(6665);
        options.RemotePort.Should().Be(6666);
        options.Facility.Should().Be(1);
        options.Extended.Should().BeFalse();
        options.PrependRelease.Should().BeFalse();
        options.Sysdata.Should().Be(SysdataFields.None);
        options.Userdata.Should().BeEmpty();
        options.DeviceName.Should().BeNull();
        options.DeviceMac.Should().BeNull();
        options.LocalAddress.Should().BeNull();
        options.RemoteAddress.Should().BeNull();
        options.RemoteMac.Should().BeNull();
        options.Release.Should().BeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Port_outside_1_to_65535_is_rejected_by_the_setter(int port)
    {
        var options = new NetconsoleTargetOptions();

        Rejects(() => options.LocalPort = port).ParamName.Should().Be(nameof(NetconsoleTargetOptions.LocalPort));
        Rejects(() => options.RemotePort = port).ParamName.Should().Be(nameof(NetconsoleTargetOptions.RemotePort));
        options.LocalPort.Should().Be(6665);
    }

    [Fact]
    public void Setter_error_names_the_value_the_rule_and_an_example()
    {
        var error = Rejects(() => new NetconsoleTargetOptions().RemotePort = 70000);

        error.Input.Should().Be("70000");
        error.Position.Should().Be(-1);
        error.Message.Should().StartWith("Invalid netconsole configuration value \"70000\": a UDP port is 1 to 65535. Example: \"6666\".");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(24)]
    public void Facility_outside_0_to_23_is_rejected_by_the_setter(int facility)
    {
        Rejects(() => new NetconsoleTargetOptions().Facility = facility).Message.Should().Contain("0 (kern) to 23 (local7)");
    }

    [Fact]
    public void Sysdata_flags_outside_All_are_rejected_by_the_setter()
    {
        Rejects(() => new NetconsoleTargetOptions().Sysdata = (SysdataFields)16);
    }

    [Theory]
    [InlineData("abcdefghijklmnop")]
    [InlineData("eth0:1")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a,b")]
    [InlineData(".")]
    [InlineData("..")]
    public void Device_name_that_is_no_valid_interface_name_is_rejected_by_the_setter(string name)
    {
        Rejects(() => new NetconsoleTargetOptions().DeviceName = name).Input.Should().Be(name);
    }

    [Fact]
    public void Empty_device_name_is_stored_as_null()
    {
        var options = new NetconsoleTargetOptions { DeviceName = "eth0" };

        options.DeviceName = string.Empty;

        options.DeviceName.Should().BeNull();
    }

    [Fact]
    public void Setting_a_device_name_leaves_the_device_mac_alone()
    {
        var options = new NetconsoleTargetOptions { DeviceMac = PhysicalAddress.Parse("22-33-44-55-66-77") };

        options.DeviceName = "eth0";

        options.DeviceMac.Should().NotBeNull();
    }

    [Fact]
    public void Mac_that_is_not_6_bytes_is_rejected_by_the_setter()
    {
        var options = new NetconsoleTargetOptions();

        Rejects(() => options.RemoteMac = new PhysicalAddress(new byte[8]));
        Rejects(() => options.DeviceMac = new PhysicalAddress([]));
    }

    // Issue 20: the options kept the caller's IPAddress; a ScopeId set on it afterwards passed
    // Validate, and ToString() then wrote "2001:db8::2%3", which Parse rejects.
    [Fact]
    public void The_options_keep_copies_of_their_addresses_so_a_scope_set_afterwards_on_either_side_changes_nothing()
    {
        var remote = IPAddress.Parse("2001:db8::2");
        var local = IPAddress.Parse("2001:db8::1");
        var options = new NetconsoleTargetOptions { RemoteAddress = remote, LocalAddress = local, DeviceName = "veth0" };

        remote.ScopeId = 3;
        local.ScopeId = 3;
        options.RemoteAddress!.ScopeId = 4;
        options.LocalAddress!.ScopeId = 4;

        options.Validate();
        options.ToString().Should().Be("6665@2001:db8::1/veth0,6666@2001:db8::2/");
        NetconsoleTargetOptions.Parse(options.ToString()).RemoteAddress.Should().Be(IPAddress.Parse("2001:db8::2"));
    }

    [Fact]
    public void Ipv6_address_with_a_scope_id_is_rejected_by_the_setter()
    {
        Rejects(() => new NetconsoleTargetOptions().RemoteAddress = new IPAddress(IPAddress.Parse("fe80::1").GetAddressBytes(), 2))
            .Message.Should().Contain("scope id");
    }

    [Theory]
    [InlineData("6.4.0")]
    [InlineData("1.4.0+3f2a9c1")]
    [InlineData("6.8.0-45-generic")]
    public void Usable_release_is_accepted(string release)
    {
        RecordFormat.IsUsableRelease(release).Should().BeTrue();
        new NetconsoleTargetOptions { Release = release }.ToRecordFormat().Release.Should().Be(release);
    }

    [Theory]
    [InlineData("")]
    [InlineData("6")]
    [InlineData("6,4.0")]
    [InlineData("6.4;0")]
    [InlineData("6.4 0")]
    [InlineData("6.4.0\u00e9")]
    [InlineData("6.4.0\n")]
    public void Release_without_a_dot_or_with_a_comma_semicolon_or_non_printable_character_is_rejected(string release)
    {
        RecordFormat.IsUsableRelease(release).Should().BeFalse();
        Rejects(() => new NetconsoleTargetOptions().Release = release);
    }

    [Fact]
    public void Release_of_63_characters_is_accepted_and_64_rejected_with_netconsds_limit_as_the_reason()
    {
        // netconsd looks for the release's ',' within a record's first 64 bytes.
        string release = "1." + new string('0', 61);
        release.Length.Should().Be(63);

        RecordFormat.IsUsableRelease(release).Should().BeTrue();
        new NetconsoleTargetOptions { Release = release }.Release.Should().Be(release);
        RecordFormat.IsUsableRelease(release + "0").Should().BeFalse();
        Rejects(() => new NetconsoleTargetOptions().Release = release + "0").Message.Should().StartWith(
            $"Invalid netconsole configuration value \"{release}0\": a release is at most 63 characters, and this one has 64 "
            + "(netconsd looks for the ',' that ends the release within a record's first 64 bytes, so a longer release breaks the record). Example: \"6.4.0\".");
    }

    [Theory]
    [InlineData("", "a release is 1-63 printable ASCII characters")]
    [InlineData("6", "a release contains a '.' (netconsd takes the first field for a release only when it has a '.')")]
    [InlineData("6,4.0", "a release is printable ASCII characters (0x21-0x7e) without ',' or ';' (they would shift the header's fields)")]
    [InlineData("6.4 0", "a release is printable ASCII characters (0x21-0x7e) without ',' or ';' (they would shift the header's fields)")]
    public void A_rejected_release_names_the_rule_it_breaks(string release, string rule)
    {
        Rejects(() => new NetconsoleTargetOptions().Release = release).Rule.Should().Be(rule);
    }

    [Fact]
    public void Default_release_is_usable()
    {
        RecordFormat.IsUsableRelease(RecordFormat.DefaultRelease).Should().BeTrue();
        new NetconsoleTargetOptions().ToRecordFormat().Release.Should().Be(RecordFormat.DefaultRelease);
    }

    [Fact]
    public void Minimal_valid_options_pass_Validate()
    {
        Valid().Validate();
    }

    [Fact]
    public void Validate_requires_a_remote_address()
    {
        var error = Rejects(() => new NetconsoleTargetOptions().Validate());

        error.Message.Should().Contain("remote address");
        error.Input.Should().Be("6665@/,6666@/");
    }

    [Fact]
    public void Validate_requires_the_local_address_to_be_of_the_remote_address_family()
    {
        var options = Valid();
        options.LocalAddress = IPAddress.Parse("2001:db8::1");

        Rejects(options.Validate).Message.Should().Contain("same family");
    }

    [Fact]
    public void Validate_rejects_prepend_release_without_extended_because_release_requires_extended_format()
    {
        var options = Valid();
        options.PrependRelease = true;

        var error = Rejects(options.Validate);

        error.Rule.Should().StartWith("release requires extended format");
        error.Message.Should().Contain("\"r6665@/,6666@192.0.2.2/\"");
    }

    [Fact]
    public void Validate_rejects_a_device_given_both_by_name_and_by_mac()
    {
        var options = Valid();
        options.DeviceName = "eth0";
        options.DeviceMac = PhysicalAddress.Parse("22-33-44-55-66-77");

        Rejects(options.Validate).Message.Should().Contain("not both").And.Contain("22:33:44:55:66:77");
    }

    [Fact]
    public void Validate_rejects_sysdata_without_extended_because_only_extended_records_carry_it()
    {
        var options = Valid();
        options.Sysdata = SysdataFields.MessageId;

        Rejects(options.Validate).Message.Should().Contain("sysdata is only sent in extended format");
    }

    [Fact]
    public void Validate_rejects_userdata_without_extended_because_only_extended_records_carry_it()
    {
        var options = Valid();
        options.Userdata["region"] = "eu";

        Rejects(options.Validate).Message.Should().Contain("userdata is only sent in extended format");
    }

    [Fact]
    public void Extended_options_with_release_sysdata_and_userdata_pass_Validate()
    {
        var options = NetconsoleTargetOptions.Parse("+r@192.0.2.1/eth0,@192.0.2.2/");
        options.Sysdata = SysdataFields.All;
        options.Userdata["region"] = "eu";
        options.Release = "6.4.0";

        options.Validate();
    }

    [Fact]
    public void Clone_copies_every_property()
    {
        var original = NetconsoleTargetOptions.Parse("+r4444@192.0.2.1/22:33:44:55:66:77,9353@192.0.2.2/12:34:56:78:9a:bc");
        original.Name = "web";
        original.Release = "6.4.0";
        original.Sysdata = SysdataFields.Cpu | SysdataFields.MessageId;
        original.Facility = 16;
        original.Userdata["region"] = "eu";
        original.Userdata["zone"] = string.Empty;

        var copy = original.Clone();

        copy.Should().BeEquivalentTo(original);
        copy.ToString().Should().Be(original.ToString());
        copy.Userdata.Select(p => $"{p.Key}={p.Value}").Should().Equal("region=eu", "zone=");
        copy.Userdata.FormattedLength.Should().Be(original.Userdata.FormattedLength);
    }

    [Fact]
    public void Changing_a_clone_leaves_the_original_alone()
    {
        var original = NetconsoleTargetOptions.Parse("+@/eth0,@2001:db8::2/12:34:56:78:9a:bc");
        original.Userdata["region"] = "eu";

        var copy = original.Clone();
        copy.Userdata["region"] = "us";
        copy.Userdata["extra"] = "1";
        copy.DeviceName = "eth1";
        copy.RemotePort = 7000;
        copy.Extended = false;

        original.Userdata.Select(p => $"{p.Key}={p.Value}").Should().Equal("region=eu");
        original.ToString().Should().Be("+6665@/eth0,6666@2001:db8::2/12:34:56:78:9a:bc");
    }

    [Fact]
    public void Clone_does_not_share_address_instances()
    {
        var original = Valid();
        original.RemoteAddress = IPAddress.Parse("2001:db8::2");
        original.RemoteMac = PhysicalAddress.Parse("12-34-56-78-9A-BC");

        var copy = original.Clone();

        copy.RemoteAddress.Should().NotBeSameAs(original.RemoteAddress).And.Be(original.RemoteAddress);
        copy.RemoteMac.Should().NotBeSameAs(original.RemoteMac).And.Be(original.RemoteMac);
    }

    [Fact]
    public void Exception_has_the_standard_constructors()
    {
        new NetconsoleConfigurationException().Position.Should().Be(-1);
        new NetconsoleConfigurationException("bad").Rule.Should().Be("bad");
        var inner = new FormatException();
        var error = new NetconsoleConfigurationException("bad", inner);
        error.InnerException.Should().BeSameAs(inner);
        error.Input.Should().BeNull();
        error.Example.Should().BeEmpty();
    }
}
