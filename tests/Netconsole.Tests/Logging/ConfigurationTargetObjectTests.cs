using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Logging;

/// <summary>
/// Logging:Netconsole:Targets takes target objects as well as strings: every settable property of
/// NetconsoleTargetOptions is a key (case-insensitive), and every error names the full key.
/// </summary>
public sealed class ConfigurationTargetObjectTests : IDisposable
{
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static IConfigurationRoot Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    /// <summary>The options the binder makes of <paramref name="section"/>, the body of Logging:Netconsole.</summary>
    internal static NetconsoleLoggerOptions Bind(string section)
    {
        IConfigurationRoot configuration = Json($$"""{ "Logging": { "Netconsole": {{section}} } }""");
        var options = new NetconsoleLoggerOptions();
        new NetconsoleLoggerConfigureOptions(configuration.GetSection("Logging:Netconsole")).Configure(options);
        return options;
    }

    private static NetconsoleLoggerOptions BindValid(string section)
    {
        NetconsoleLoggerOptions options = Bind(section);
        options.ConfigurationError.Should().BeNull();
        return options;
    }

    [Fact]
    public void The_replay_buffer_limits_of_a_target_object_bind_to_their_options()
    {
        NetconsoleTargetOptions target = BindValid("""
            { "Targets": { "RemoteAddress": "192.0.2.2", "ReplayBufferMaxRecords": 500, "ReplayBufferMaxBytes": 65536, "ReplayBufferMaxAge": "00:00:30" } }
            """).TargetOptions.Should().ContainSingle().Subject;

        (target.ReplayBufferMaxRecords, target.ReplayBufferMaxBytes, target.ReplayBufferMaxAge).Should().Be((500, 65536, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Every_key_of_an_extended_target_object_binds_to_its_option()
    {
        NetconsoleLoggerOptions options = BindValid("""
            { "Targets": [ {
                "Name": "central",
                "DeviceName": "eth1",
                "LocalAddress": "192.0.2.1",
                "LocalPort": 6000,
                "RemoteAddress": "192.0.2.2",
                "RemotePort": "7000",
                "RemoteMac": "02:00:00:00:00:07",
                "Extended": true,
                "PrependRelease": true,
                "Release": "6.4.0-app",
                "Userdata": { "region": "eu-west-1", "rack": "12" },
                "Sysdata": "Cpu, TaskName",
                "Facility": 16,
                "MaxDatagramsPerSecond": 1000,
                "MaxDatagramBurst": 100
            } ] }
            """);

        options.Targets.Should().BeEmpty("an object is not a target string");
        NetconsoleTargetOptions target = options.TargetOptions.Should().ContainSingle().Subject;
        target.Name.Should().Be("central");
        target.DeviceName.Should().Be("eth1");
        target.DeviceMac.Should().BeNull();
        target.LocalAddress.Should().Be(IPAddress.Parse("192.0.2.1"));
        target.LocalPort.Should().Be(6000);
        target.RemoteAddress.Should().Be(IPAddress.Parse("192.0.2.2"));
        target.RemotePort.Should().Be(7000);
        target.RemoteMac.Should().Be(PhysicalAddress.Parse("02-00-00-00-00-07"));
        target.Extended.Should().BeTrue();
        target.PrependRelease.Should().BeTrue();
        target.Release.Should().Be("6.4.0-app");
        target.Userdata.Should().Equal(
            new KeyValuePair<string, string>("rack", "12"),
            new KeyValuePair<string, string>("region", "eu-west-1"));
        target.Sysdata.Should().Be(SysdataFields.Cpu | SysdataFields.TaskName);
        target.Facility.Should().Be(16);
        target.PrintkTime.Should().BeFalse();
        target.MaxDatagramsPerSecond.Should().Be(1000);
        target.MaxDatagramBurst.Should().Be(100);
    }

    [Fact]
    public void Every_key_of_a_basic_target_object_binds_to_its_option_whatever_its_case()
    {
        NetconsoleLoggerOptions options = BindValid("""
            { "targets": [ {
                "name": "lab", "devicemac": "02-00-00-00-00-0A", "remoteaddress": "2001:db8::2",
                "LOCALADDRESS": "2001:db8::1", "PrintkTime": "True", "extended": "false", "sysdata": "None",
                "maxdatagramburst": 1
            } ] }
            """);

        NetconsoleTargetOptions target = options.TargetOptions.Should().ContainSingle().Subject;
        target.Name.Should().Be("lab");
        target.DeviceName.Should().BeNull();
        target.DeviceMac.Should().Be(PhysicalAddress.Parse("02-00-00-00-00-0A"));
        target.RemoteAddress.Should().Be(IPAddress.Parse("2001:db8::2"));
        target.LocalAddress.Should().Be(IPAddress.Parse("2001:db8::1"));
        target.LocalPort.Should().Be(NetconsoleTargetOptions.DefaultLocalPort);
        target.RemotePort.Should().Be(NetconsoleTargetOptions.DefaultRemotePort);
        target.PrintkTime.Should().BeTrue();
        target.Extended.Should().BeFalse();
        target.Sysdata.Should().Be(SysdataFields.None);
        target.Facility.Should().Be(NetconsoleTargetOptions.DefaultFacility);
        target.MaxDatagramsPerSecond.Should().Be(0);
        target.MaxDatagramBurst.Should().Be(1);
        options.ConfigurationWarnings.Should().BeEmpty("every key is an option, in any case");
    }

    [Fact]
    public void An_object_with_only_a_remote_address_has_the_defaults_of_NetconsoleTargetOptions()
    {
        NetconsoleTargetOptions target = BindValid("""{ "Targets": [ { "RemoteAddress": "192.0.2.2" } ] }""").TargetOptions.Single();

        target.ToString().Should().Be(new NetconsoleTargetOptions { RemoteAddress = IPAddress.Parse("192.0.2.2") }.ToString());
        NetconsoleLoggerOptions.Describe(target).Should().Be("6665@/,6666@192.0.2.2/", "no name, and no option outside the kernel syntax differs from its default");
    }

    [Theory]
    [InlineData("\"Cpu, TaskName, Release, MessageId\"", SysdataFields.All)]
    [InlineData("\"all\"", SysdataFields.All)]
    [InlineData("\"msgid, cpu\"", null)]
    [InlineData("[ \"MessageId\", \"cpu\" ]", SysdataFields.MessageId | SysdataFields.Cpu)]
    [InlineData("\"\"", SysdataFields.None)]
    public void Sysdata_is_field_names_separated_by_commas_or_a_list_of_them(string sysdata, SysdataFields? expected)
    {
        NetconsoleLoggerOptions options = Bind($$"""{ "Targets": [ { "RemoteAddress": "192.0.2.2", "Extended": true, "Sysdata": {{sysdata}} } ] }""");

        if (expected is { } fields)
        {
            options.ConfigurationError.Should().BeNull();
            options.TargetOptions.Single().Sysdata.Should().Be(fields);
        }
        else
        {
            options.ConfigurationError!.Message.Should().Be(
                "Invalid netconsole logging configuration at Logging:Netconsole:Targets:0:Sysdata: \"msgid\" is not a sysdata field: use None, Cpu, TaskName, Release, MessageId, All, several separated by ',' (for example \"Cpu, TaskName\") or as a list.");
        }
    }

    [Fact]
    public void Userdata_from_configuration_is_in_key_order_with_its_keys_spelled_as_written()
    {
        // Configuration lists a section's keys sorted (ignoring case), whatever the order in the file.
        NetconsoleTargetOptions target = BindValid("""
            { "Targets": [ { "RemoteAddress": "192.0.2.2", "Extended": true,
                "Userdata": { "Zone": "b", "Region": "eu-west-1", "empty": null, "az": "" } } ] }
            """).TargetOptions.Single();

        target.Userdata.Select(e => $"{e.Key}={e.Value}").Should().Equal("az=", "empty=", "Region=eu-west-1", "Zone=b");
    }

    [Fact]
    public void A_list_mixes_target_strings_and_objects_strings_first_named_cmdline_then_objects()
    {
        IConfigurationRoot configuration = Json("""
            { "Logging": { "Netconsole": { "Targets": [
                "+@/veth0,@192.0.2.2/",
                { "Name": "central", "DeviceName": "veth0", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu-west-1" } },
                "@/veth0,@192.0.2.4/;@/veth0,@192.0.2.5/",
                { "DeviceName": "veth0", "RemoteAddress": "192.0.2.6" }
            ] } } }
            """);
        using ServiceProvider services = new ServiceCollection()
            .AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging")).AddNetconsole(o => o.ManagerOptions = _harness.ManagerOptions))
            .BuildServiceProvider();

        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();

        provider.Manager.Targets.Select(t => $"{t.Name} {t.Options}").Should().Equal(
            "cmdline0 +6665@/veth0,6666@192.0.2.2/",
            "cmdline1 6665@/veth0,6666@192.0.2.4/",
            "cmdline2 6665@/veth0,6666@192.0.2.5/",
            "central +6665@/veth0,6666@192.0.2.3/",
            "target0 6665@/veth0,6666@192.0.2.6/");
        provider.Manager.Targets.Select(t => t.State).Should().AllBeEquivalentTo(TargetState.Enabled);
        provider.Manager.Targets[3].Options.Userdata["region"].Should().Be("eu-west-1");
        provider.CurrentOptions.ConfigurationWarnings.Should().BeEmpty();
    }

    [Fact]
    public void Targets_given_as_one_object_is_one_target()
    {
        // A section none of whose keys is an index (0, 1, ...) is not a list: its keys are the target's.
        NetconsoleLoggerOptions options = BindValid("""{ "Targets": { "Name": "only", "DeviceName": "eth1", "RemoteAddress": "192.0.2.2", "RemotePort": 6667 } }""");

        options.TargetOptions.Select(NetconsoleLoggerOptions.Describe).Should().Equal("only 6665@/eth1,6667@192.0.2.2/");
        options.Targets.Should().BeEmpty();
    }

    [Fact]
    public void Targets_given_as_environment_variables_bind_as_a_list_of_objects()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // What Logging__Netconsole__Targets__0__RemoteAddress=... and the like give.
            ["Logging:Netconsole:Targets:0:RemoteAddress"] = "192.0.2.2",
            ["Logging:Netconsole:Targets:0:DeviceName"] = "eth1",
            ["Logging:Netconsole:Targets:0:Userdata:host"] = "web-1",
            ["Logging:Netconsole:Targets:0:Extended"] = "true",
            ["Logging:Netconsole:Targets:1"] = "@/eth1,@192.0.2.3/",
        }).Build();
        var options = new NetconsoleLoggerOptions();

        new NetconsoleLoggerConfigureOptions(configuration.GetSection("Logging:Netconsole")).Configure(options);

        options.ConfigurationError.Should().BeNull();
        options.TargetOptions.Select(NetconsoleLoggerOptions.Describe).Should().Equal("+6665@/eth1,6666@192.0.2.2/ userdata=host=web-1");
        options.Targets.Should().Equal("@/eth1,@192.0.2.3/");
    }

    [Theory]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "RemotePort": 70000 }""", "Targets:1:RemotePort", "\"70000\" is not valid: a UDP port is 1 to 65535. Example: \"6666\".")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "LocalPort": "six" }""", "Targets:1:LocalPort", "\"six\" is not an integer.")]
    [InlineData("""{ "RemoteAddress": "receiver.example" }""", "Targets:1:RemoteAddress", "\"receiver.example\" is not an IP address: give an IPv4 address as four decimal numbers (192.0.2.2) or an IPv6 address without brackets, port or scope id (2001:db8::2); host names are not resolved.")]
    [InlineData("""{ "RemoteAddress": "10.1" }""", "Targets:1:RemoteAddress", "\"10.1\" is not an IP address")]
    [InlineData("""{ "RemoteAddress": "[2001:db8::2]" }""", "Targets:1:RemoteAddress", "\"[2001:db8::2]\" is not an IP address")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "DeviceMac": "12:34:56" }""", "Targets:1:DeviceMac", "\"12:34:56\" is not a MAC address: give six hex octets separated by ':' or '-', for example \"12:34:56:78:9a:bc\".")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "RemoteMac": "12:34:56-78:9a:bc" }""", "Targets:1:RemoteMac", "is not a MAC address")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "DeviceName": "eth0:1" }""", "Targets:1:DeviceName", "\"eth0:1\" is not valid: a device name cannot contain ':'")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Extended": "yes" }""", "Targets:1:Extended", "\"yes\" is not true or false.")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Extended": true, "Release": "6" }""", "Targets:1:Release", "\"6\" is not valid: a release contains a '.'")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Facility": 24 }""", "Targets:1:Facility", "\"24\" is not valid: a facility is 0 (kern) to 23 (local7). Example: \"1\".")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "MaxDatagramsPerSecond": -1 }""", "Targets:1:MaxDatagramsPerSecond", "a pacing rate is 0 (no limit) to 1000000 datagrams a second")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "MaxDatagramBurst": 0 }""", "Targets:1:MaxDatagramBurst", "a pacing burst is 1 to 1000000 datagrams")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "ReplayBufferMaxRecords": -1 }""", "Targets:1:ReplayBufferMaxRecords", "a replay buffer holds 0 (off) to 10000000 records")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "ReplayBufferMaxBytes": 2147483647 }""", "Targets:1:ReplayBufferMaxBytes", "a replay buffer holds 0 (off) to 1073741824 bytes")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "ReplayBufferMaxAge": "2.00:00:00" }""", "Targets:1:ReplayBufferMaxAge", "a replay buffer's age limit is 00:00:00 (off) to 1.00:00:00 (a day)")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "RemotePort": { "value": 1 } }""", "Targets:1:RemotePort", "the value is an object or a list: give a single value.")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Extended": true, "Userdata": "region=eu" }""", "Targets:1:Userdata", "\"region=eu\" is not an object of key/value pairs: give an object, for example { \"region\": \"eu-west-1\" }.")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Extended": true, "Userdata": { "data center": "x" } }""", "Targets:1:Userdata:data center", "\"data center\" is not valid: a userdata key must not contain '=', '/', whitespace or control characters.")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Extended": true, "Userdata": { "region": { "a": "b" } } }""", "Targets:1:Userdata:region", "a userdata value is a text, not an object or a list.")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Extended": true, "Sysdata": [ "Cpu", "Memory" ] }""", "Targets:1:Sysdata:1", "\"Memory\" is not a sysdata field")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Sysdata": "7" }""", "Targets:1:Sysdata", "\"7\" is not a sysdata field")]
    [InlineData("""{ "DeviceName": "eth1" }""", "Targets:1", "Invalid netconsole target options \"6665@/eth1,6666@/\": a target needs a remote address (RemoteAddress).")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "Userdata": { "region": "eu-west-1" } }""", "Targets:1", "userdata is only sent in extended format (set Extended, or clear Userdata)")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "DeviceName": "eth1", "DeviceMac": "02:00:00:00:00:01" }""", "Targets:1", "either by name or by MAC, not both")]
    [InlineData("""{ "RemoteAddress": "192.0.2.2", "LocalAddress": "2001:db8::1" }""", "Targets:1", "must be of the same family as the remote address")]
    [InlineData("{}", "Targets:1", "the entry is empty: give a target string, for example \"+@/eth0,@192.0.2.2/\", or an object with at least RemoteAddress.")]
    [InlineData("null", "Targets:1", "the entry is empty")]
    [InlineData("\"\"", "Targets:1", "there is no target")]
    public void An_invalid_target_object_fails_naming_the_full_key_and_what_to_do(string entry, string key, string reason)
    {
        NetconsoleLoggerOptions options = Bind($$"""{ "Targets": [ "+@/eth1,@192.0.2.9/", {{entry}} ] }""");

        options.ConfigurationError.Should().NotBeNull()
            .And.Subject.As<NetconsoleConfigurationException>().Message.Should()
            .StartWith($"Invalid netconsole logging configuration at Logging:Netconsole:{key}: ").And.Contain(reason);
    }

    [Fact]
    public void An_invalid_target_object_fails_creating_the_provider()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddLogging(b => b
                .AddConfiguration(Json("""{ "Logging": { "Netconsole": { "Targets": [ { "RemoteAddress": "192.0.2.2", "RemotePort": 0 } ] } } }""").GetSection("Logging"))
                .AddNetconsole(o => o.ManagerOptions = _harness.ManagerOptions))
            .BuildServiceProvider();

        Action create = () => services.GetRequiredService<NetconsoleLoggerProvider>();

        create.Should().Throw<NetconsoleConfigurationException>().WithMessage("Invalid netconsole logging configuration at Logging:Netconsole:Targets:0:RemotePort: \"0\" is not valid: a UDP port is 1 to 65535.*");
    }

    [Fact]
    public void A_misspelled_key_is_named_in_the_error_it_causes()
    {
        NetconsoleLoggerOptions options = Bind("""{ "Targets": [ { "RemoteAdress": "192.0.2.2" } ] }""");

        options.ConfigurationError!.Message.Should().Be(
            "Invalid netconsole logging configuration at Logging:Netconsole:Targets:0: Invalid netconsole target options \"6665@/,6666@/\": "
            + "a target needs a remote address (RemoteAddress). Example: \"@/,@192.0.2.2/\". "
            + "Also: Logging:Netconsole:Targets:0:RemoteAdress is not a target option and was ignored; did you mean RemoteAddress?");
        options.ConfigurationWarnings.Should().Equal("Logging:Netconsole:Targets:0:RemoteAdress is not a target option and was ignored; did you mean RemoteAddress?");
    }

    [Fact]
    public void A_place_given_a_string_by_one_source_and_an_object_by_another_is_an_error()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Netconsole:Targets:0"] = "@/eth1,@192.0.2.2/" })
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Netconsole:Targets:0:RemotePort"] = "7000" })
            .Build();
        var options = new NetconsoleLoggerOptions();

        new NetconsoleLoggerConfigureOptions(configuration.GetSection("Logging:Netconsole")).Configure(options);

        options.ConfigurationError!.Message.Should().Be(
            "Invalid netconsole logging configuration at Logging:Netconsole:Targets:0: the entry is both a target string (\"@/eth1,@192.0.2.2/\") and a target object; give one of them.");
    }
}
