using System.Net.NetworkInformation;
using System.Net;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Targets;

/// <summary>The documented examples of the kernel's netconsole= syntax and what each field becomes.</summary>
public class TargetSyntaxParsingTests
{
    [Fact]
    public void Full_example_sets_every_field()
    {
        var options = NetconsoleTargetOptions.Parse("4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9a:bc");

        options.LocalPort.Should().Be(4444);
        options.LocalAddress.Should().Be(IPAddress.Parse("10.0.0.1"));
        options.DeviceName.Should().Be("eth1");
        options.DeviceMac.Should().BeNull();
        options.RemotePort.Should().Be(9353);
        options.RemoteAddress.Should().Be(IPAddress.Parse("10.0.0.2"));
        options.RemoteMac.Should().Be(PhysicalAddress.Parse("12-34-56-78-9A-BC"));
        options.Extended.Should().BeFalse();
        options.PrependRelease.Should().BeFalse();
    }

    [Fact]
    public void Minimal_target_takes_the_default_ports_and_leaves_device_and_macs_unset()
    {
        var options = NetconsoleTargetOptions.Parse("@/,@10.0.0.2/");

        options.LocalPort.Should().Be(6665);
        options.RemotePort.Should().Be(6666);
        options.LocalAddress.Should().BeNull();
        options.RemoteAddress.Should().Be(IPAddress.Parse("10.0.0.2"));
        options.Extended.Should().BeFalse();
        options.Name.Should().BeNull();
    }

    [Fact]
    public void Absent_device_never_defaults_to_eth0_as_the_kernel_does()
    {
        var options = NetconsoleTargetOptions.Parse("@/,@10.0.0.2/");

        options.DeviceName.Should().BeNull();
        options.DeviceMac.Should().BeNull();
    }

    [Fact]
    public void Absent_remote_mac_stays_unset_instead_of_the_kernels_broadcast()
    {
        NetconsoleTargetOptions.Parse("@/,@10.0.0.2/").RemoteMac.Should().BeNull();
    }

    [Fact]
    public void Bare_ipv6_remote_address_is_delimited_by_the_slash()
    {
        var options = NetconsoleTargetOptions.Parse("@/,@fd00:1:2:3::1/");

        options.RemoteAddress.Should().Be(IPAddress.Parse("fd00:1:2:3::1"));
        options.LocalAddress.Should().BeNull();
    }

    [Fact]
    public void Ipv6_source_and_remote_addresses_parse_together()
    {
        var options = NetconsoleTargetOptions.Parse("@2001:db8::1/veth0,@2001:db8::2/");

        options.LocalAddress.Should().Be(IPAddress.Parse("2001:db8::1"));
        options.RemoteAddress.Should().Be(IPAddress.Parse("2001:db8::2"));
        options.DeviceName.Should().Be("veth0");
    }

    [Fact]
    public void Plus_selects_the_extended_format()
    {
        var options = NetconsoleTargetOptions.Parse("+@/eth0,@192.0.2.2/");

        options.Extended.Should().BeTrue();
        options.PrependRelease.Should().BeFalse();
        options.DeviceName.Should().Be("eth0");
        options.RemoteAddress.Should().Be(IPAddress.Parse("192.0.2.2"));
    }

    [Fact]
    public void R_right_after_plus_prepends_the_release()
    {
        var options = NetconsoleTargetOptions.Parse("+r@/,@192.0.2.2/");

        options.Extended.Should().BeTrue();
        options.PrependRelease.Should().BeTrue();
    }

    [Fact]
    public void Plus_and_r_may_be_followed_by_a_source_port()
    {
        var options = NetconsoleTargetOptions.Parse("+r7000@/,@192.0.2.2/");

        options.PrependRelease.Should().BeTrue();
        options.LocalPort.Should().Be(7000);
    }

    [Fact]
    public void Device_containing_a_colon_binds_the_target_by_mac()
    {
        var options = NetconsoleTargetOptions.Parse("@/22:33:44:55:66:77,@192.0.2.2/");

        options.DeviceMac.Should().Be(PhysicalAddress.Parse("22-33-44-55-66-77"));
        options.DeviceName.Should().BeNull();
    }

    [Fact]
    public void Mac_addresses_are_read_in_either_case()
    {
        var options = NetconsoleTargetOptions.Parse("@/AA:bb:CC:dd:EE:ff,@192.0.2.2/AB:CD:EF:ab:cd:ef");

        options.DeviceMac.Should().Be(PhysicalAddress.Parse("AA-BB-CC-DD-EE-FF"));
        options.RemoteMac.Should().Be(PhysicalAddress.Parse("AB-CD-EF-AB-CD-EF"));
    }

    [Fact]
    public void Device_name_of_15_characters_is_accepted()
    {
        NetconsoleTargetOptions.Parse("@/abcdefghijklmno,@192.0.2.2/").DeviceName.Should().Be("abcdefghijklmno");
    }

    [Fact]
    public void Ports_take_leading_zeros_as_decimal_like_the_kernel()
    {
        var options = NetconsoleTargetOptions.Parse("06665@/,00010@192.0.2.2/");

        options.LocalPort.Should().Be(6665);
        options.RemotePort.Should().Be(10);
    }

    [Fact]
    public void Ports_at_both_ends_of_the_range_are_accepted()
    {
        var options = NetconsoleTargetOptions.Parse("1@/,65535@192.0.2.2/");

        options.LocalPort.Should().Be(1);
        options.RemotePort.Should().Be(65535);
    }

    [Fact]
    public void Userdata_sysdata_facility_release_and_name_keep_their_defaults()
    {
        var options = NetconsoleTargetOptions.Parse("+r@/,@192.0.2.2/");

        options.Userdata.Should().BeEmpty();
        options.Sysdata.Should().Be(SysdataFields.None);
        options.Facility.Should().Be(NetconsoleTargetOptions.DefaultFacility);
        options.Release.Should().BeNull();
        options.Name.Should().BeNull();
    }

    [Fact]
    public void ParseMany_names_the_targets_cmdline0_and_cmdline1_in_order()
    {
        var targets = NetconsoleTargetOptions.ParseMany("@/,@10.0.0.2/;@/eth1,6892@10.0.0.3/");

        targets.Should().HaveCount(2);
        targets[0].Name.Should().Be("cmdline0");
        targets[0].RemoteAddress.Should().Be(IPAddress.Parse("10.0.0.2"));
        targets[0].DeviceName.Should().BeNull();
        targets[1].Name.Should().Be("cmdline1");
        targets[1].DeviceName.Should().Be("eth1");
        targets[1].RemotePort.Should().Be(6892);
        targets[1].RemoteAddress.Should().Be(IPAddress.Parse("10.0.0.3"));
    }

    [Fact]
    public void ParseMany_reads_a_single_target_as_cmdline0()
    {
        var targets = NetconsoleTargetOptions.ParseMany("+@/eth0,@192.0.2.2/");

        targets.Should().ContainSingle().Which.Name.Should().Be("cmdline0");
    }

    [Fact]
    public void ParseMany_skips_empty_segments_without_spending_a_name()
    {
        var targets = NetconsoleTargetOptions.ParseMany(";@/,@10.0.0.2/;;@/,@10.0.0.3/;");

        targets.Select(t => t.Name).Should().Equal("cmdline0", "cmdline1");
        targets[1].RemoteAddress.Should().Be(IPAddress.Parse("10.0.0.3"));
    }

    [Fact]
    public void TryParse_returns_the_options_for_a_valid_target()
    {
        NetconsoleTargetOptions.TryParse("@/,@10.0.0.2/", out var options).Should().BeTrue();
        options!.RemoteAddress.Should().Be(IPAddress.Parse("10.0.0.2"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("r@/,@10.0.0.2/")]
    [InlineData("@/,@10.0.0.2")]
    public void TryParse_returns_false_for_an_invalid_target(string? value)
    {
        NetconsoleTargetOptions.TryParse(value, out var options).Should().BeFalse();
        options.Should().BeNull();
    }
}
