using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The same target configured twice (in code and in appsettings, or twice in one place) is sent
/// once: a target that sends to the same device, address and port as an earlier one is left out
/// with a warning naming both; names are given before, so every target keeps its place's name.
/// </summary>
public sealed class ConfigurationDuplicateTests : IDisposable
{
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static (List<string> Targets, List<string> Warnings) Resolve(NetconsoleLoggerOptions options)
    {
        var warnings = new List<string>();
        List<string> targets = options.ResolveTargets(warnings).ConvertAll(NetconsoleLoggerOptions.Describe);
        return (targets, warnings);
    }

    private static NetconsoleLoggerOptions Options(params string[] targets)
    {
        var options = new NetconsoleLoggerOptions();
        foreach (string target in targets)
        {
            options.Targets.Add(target);
        }

        return options;
    }

    [Fact]
    public void A_target_in_code_and_in_appsettings_is_added_once_and_its_records_are_sent_once()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""
            { "Logging": { "Netconsole": { "Targets": [ "+@/veth0,@192.0.2.2/" ] } } }
            """))).Build();
        using ServiceProvider services = new ServiceCollection()
            .AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging")).AddNetconsole(o =>
            {
                o.ManagerOptions = _harness.ManagerOptions;
                o.Targets.Add("+@/veth0,@192.0.2.2/");
            }))
            .BuildServiceProvider();
        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();

        services.GetRequiredService<ILoggerFactory>().CreateLogger("c").LogWarning("once");
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();

        provider.Manager.Targets.Select(t => t.Name).Should().Equal("cmdline0");
        _harness.Factory.Frames.Should().ContainSingle("the duplicate sends nothing");
        _harness.Texts().Should().Equal("once");
        Resolve(provider.CurrentOptions).Warnings.Should().Equal(
            "cmdline1 (+6665@/veth0,6666@192.0.2.2/) sends to the same device, address and port as cmdline0 (+6665@/veth0,6666@192.0.2.2/) and was left out.");
    }

    [Fact]
    public void A_target_object_in_code_and_in_appsettings_is_added_once()
    {
        NetconsoleLoggerOptions options = ConfigurationTargetObjectTests.Bind("""
            { "Targets": [ { "Name": "central", "DeviceName": "veth0", "RemoteAddress": "192.0.2.2", "Extended": true } ] }
            """);
        options.TargetOptions.Add(new NetconsoleTargetOptions { Name = "central", DeviceName = "veth0", RemoteAddress = IPAddress.Parse("192.0.2.2"), Extended = true });

        (List<string> targets, List<string> warnings) = Resolve(options);

        targets.Should().Equal("central +6665@/veth0,6666@192.0.2.2/");
        warnings.Should().Equal(
            "central (+6665@/veth0,6666@192.0.2.2/) sends to the same device, address and port as central (+6665@/veth0,6666@192.0.2.2/) and was left out.");
    }

    [Fact]
    public void The_later_target_is_left_out_even_when_its_format_or_source_differ()
    {
        // Same device, remote address and port: the receiver would get every record twice.
        (List<string> targets, List<string> warnings) = Resolve(Options("+@/eth1,@192.0.2.2/", "7000@192.0.2.1/eth1,6666@192.0.2.2/02:00:00:00:00:02"));

        targets.Should().Equal("cmdline0 +6665@/eth1,6666@192.0.2.2/");
        warnings.Should().Equal(
            "cmdline1 (7000@192.0.2.1/eth1,6666@192.0.2.2/02:00:00:00:00:02) sends to the same device, address and port as cmdline0 (+6665@/eth1,6666@192.0.2.2/) and was left out.");
    }

    [Theory]
    [InlineData("@/eth1,@192.0.2.2/", "@/eth1,6667@192.0.2.2/")]
    [InlineData("@/eth1,@192.0.2.2/", "@/eth1,@192.0.2.3/")]
    [InlineData("@/eth1,@192.0.2.2/", "@/eth2,@192.0.2.2/")]
    [InlineData("@/eth1,@192.0.2.2/", "@/,@192.0.2.2/")]
    [InlineData("@/eth1,@192.0.2.2/", "@/02:00:00:00:00:01,@192.0.2.2/")]
    [InlineData("@/02:00:00:00:00:01,@192.0.2.2/", "@/02:00:00:00:00:02,@192.0.2.2/")]
    public void Targets_that_differ_in_device_binding_remote_address_or_port_are_all_kept(string first, string second)
    {
        (List<string> targets, List<string> warnings) = Resolve(Options(first, second));

        targets.Should().HaveCount(2);
        warnings.Should().BeEmpty();
    }

    [Theory]
    [InlineData("@/,@192.0.2.2/", "@/,@192.0.2.2/")]
    [InlineData("@/02:00:00:00:00:01,@192.0.2.2/", "+@/02:00:00:00:00:01,@192.0.2.2/")]
    [InlineData("@/eth1,@2001:db8::2/", "@/eth1,6666@2001:0db8:0:0:0:0:0:2/")]
    public void Targets_with_the_same_device_binding_remote_address_and_port_are_duplicates(string first, string second)
    {
        (List<string> targets, List<string> warnings) = Resolve(Options(first, second));

        targets.Should().ContainSingle();
        warnings.Should().ContainSingle().Which.Should().StartWith("cmdline1 (").And.EndWith(" and was left out.");
    }

    [Fact]
    public void Names_are_given_before_duplicates_are_left_out_so_later_targets_keep_their_names()
    {
        NetconsoleLoggerOptions options = Options("@/eth1,@192.0.2.2/;@/eth1,@192.0.2.2/", "@/eth1,@192.0.2.3/");
        options.TargetOptions.Add(new NetconsoleTargetOptions { DeviceName = "eth1", RemoteAddress = IPAddress.Parse("192.0.2.3") });
        options.TargetOptions.Add(new NetconsoleTargetOptions { DeviceName = "eth1", RemoteAddress = IPAddress.Parse("192.0.2.4") });

        (List<string> targets, List<string> warnings) = Resolve(options);

        targets.Should().Equal("cmdline0 6665@/eth1,6666@192.0.2.2/", "cmdline2 6665@/eth1,6666@192.0.2.3/", "target1 6665@/eth1,6666@192.0.2.4/");
        warnings.Should().Equal(
            "cmdline1 (6665@/eth1,6666@192.0.2.2/) sends to the same device, address and port as cmdline0 (6665@/eth1,6666@192.0.2.2/) and was left out.",
            "target0 (6665@/eth1,6666@192.0.2.3/) sends to the same device, address and port as cmdline2 (6665@/eth1,6666@192.0.2.3/) and was left out.");
        options.TargetOptions.Select(t => t.Name).Should().Equal([null, null], "the caller's options are not renamed");
    }

    [Fact]
    public void An_unnamed_target_skips_the_names_other_targets_have()
    {
        var options = new NetconsoleLoggerOptions();
        options.TargetOptions.Add(new NetconsoleTargetOptions { RemoteAddress = IPAddress.Parse("192.0.2.2") });
        options.TargetOptions.Add(new NetconsoleTargetOptions { Name = "target0", RemoteAddress = IPAddress.Parse("192.0.2.3") });

        Resolve(options).Targets.Should().Equal("target1 6665@/,6666@192.0.2.2/", "target0 6665@/,6666@192.0.2.3/");
    }

    [Fact]
    public void Two_targets_of_one_name_sending_to_different_places_are_an_error()
    {
        NetconsoleLoggerOptions options = Options("@/eth1,@192.0.2.2/");
        options.TargetOptions.Add(new NetconsoleTargetOptions { Name = "cmdline0", DeviceName = "eth1", RemoteAddress = IPAddress.Parse("192.0.2.3") });

        Action resolve = () => options.ResolveTargets(new List<string>());

        resolve.Should().Throw<NetconsoleConfigurationException>().WithMessage(
            "Invalid netconsole logging option NetconsoleLoggerOptions.TargetOptions[0]: the name cmdline0 is taken by another target (6665@/eth1,6666@192.0.2.2/) that sends elsewhere (6665@/eth1,6666@192.0.2.3/): target names are unique.");
    }
}
