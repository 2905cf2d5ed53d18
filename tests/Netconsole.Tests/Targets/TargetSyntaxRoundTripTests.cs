using System.Net.NetworkInformation;
using System.Net;
using CsCheck;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Targets;

/// <summary>ToString writes the kernel syntax back, and Parse reads it to the same fields.</summary>
public class TargetSyntaxRoundTripTests
{
    private static readonly Gen<IPAddress> Ipv4 = Gen.Byte.Array[4].Select(b => new IPAddress(b));
    private static readonly Gen<IPAddress> Ipv6 = Gen.Byte.Array[16].Select(b => new IPAddress(b));
    private static readonly Gen<PhysicalAddress> Mac = Gen.Byte.Array[6].Select(b => new PhysicalAddress(b));
    private static readonly Gen<string> DeviceName = Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"].Array[1, 15]
        .Select(c => new string(c))
        .Where(n => n is not "." and not "..");

    private static readonly Gen<NetconsoleTargetOptions> ValidOptions =
        from extended in Gen.Bool
        from release in Gen.Bool
        from localPort in Gen.Int[1, 65535]
        from remotePort in Gen.Int[1, 65535]
        from ipv6 in Gen.Bool
        from withLocal in Gen.Bool
        from local in ipv6 ? Ipv6 : Ipv4
        from remote in ipv6 ? Ipv6 : Ipv4
        from device in Gen.Int[0, 2]
        from name in DeviceName
        from deviceMac in Mac
        from withRemoteMac in Gen.Bool
        from remoteMac in Mac
        select new NetconsoleTargetOptions
        {
            Extended = extended,
            PrependRelease = extended && release,
            LocalPort = localPort,
            RemotePort = remotePort,
            LocalAddress = withLocal ? local : null,
            RemoteAddress = remote,
            DeviceName = device == 1 ? name : null,
            DeviceMac = device == 2 ? deviceMac : null,
            RemoteMac = withRemoteMac ? remoteMac : null,
        };

    [Fact]
    public void ToString_writes_every_field_with_explicit_ports_and_a_lowercase_mac()
    {
        var options = new NetconsoleTargetOptions
        {
            Extended = true,
            PrependRelease = true,
            LocalAddress = IPAddress.Parse("192.0.2.1"),
            DeviceName = "veth0",
            RemoteAddress = IPAddress.Parse("192.0.2.2"),
            RemoteMac = PhysicalAddress.Parse("12-34-56-78-9A-BC"),
        };

        options.ToString().Should().Be("+r6665@192.0.2.1/veth0,6666@192.0.2.2/12:34:56:78:9a:bc");
    }

    [Fact]
    public void ToString_of_a_minimal_target_leaves_the_optional_fields_empty()
    {
        NetconsoleTargetOptions.Parse("@/,@fd00:1:2:3::1/").ToString().Should().Be("6665@/,6666@fd00:1:2:3::1/");
    }

    [Fact]
    public void ToString_writes_a_device_mac_in_lowercase_with_colons()
    {
        NetconsoleTargetOptions.Parse("@/AA:BB:CC:DD:EE:FF,@192.0.2.2/").ToString().Should().Be("6665@/aa:bb:cc:dd:ee:ff,6666@192.0.2.2/");
    }

    [Fact]
    public void ToString_leaves_out_what_the_syntax_cannot_carry()
    {
        var options = NetconsoleTargetOptions.Parse("+@/eth0,@192.0.2.2/");
        options.Name = "web";
        options.Userdata["region"] = "eu-west-1";
        options.Sysdata = SysdataFields.All;
        options.Facility = 3;
        options.Release = "1.2.3";

        options.ToString().Should().Be("+6665@/eth0,6666@192.0.2.2/");
    }

    [Theory]
    [InlineData("4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9a:bc")]
    [InlineData("+r6665@192.0.2.1/veth0,6666@192.0.2.2/12:34:56:78:9a:bc")]
    [InlineData("6665@/22:33:44:55:66:77,6666@192.0.2.2/")]
    [InlineData("6665@2001:db8::1/,6666@2001:db8::2/")]
    [InlineData("+6665@/,6666@::ffff:192.0.2.2/")]
    public void Canonical_target_strings_are_written_back_unchanged(string text)
    {
        NetconsoleTargetOptions.Parse(text).ToString().Should().Be(text);
    }

    [Fact]
    public void Random_valid_options_survive_ToString_then_Parse()
    {
        ValidOptions.Sample(original =>
        {
            string text = original.ToString();
            var parsed = NetconsoleTargetOptions.Parse(text);

            parsed.Extended.Should().Be(original.Extended, text);
            parsed.PrependRelease.Should().Be(original.PrependRelease, text);
            parsed.LocalPort.Should().Be(original.LocalPort, text);
            parsed.LocalAddress.Should().Be(original.LocalAddress, text);
            parsed.DeviceName.Should().Be(original.DeviceName, text);
            parsed.DeviceMac.Should().Be(original.DeviceMac, text);
            parsed.RemotePort.Should().Be(original.RemotePort, text);
            parsed.RemoteAddress.Should().Be(original.RemoteAddress, text);
            parsed.RemoteMac.Should().Be(original.RemoteMac, text);
            parsed.ToString().Should().Be(text);
        });
    }

    [Fact]
    public void Random_valid_options_pass_Validate()
    {
        ValidOptions.Sample(options => options.Validate());
    }
}
