using Microsoft.Extensions.Configuration;
using Netconsole.Logging;

namespace Netconsole.Tests.Logging;

/// <summary>
/// A reload whose target list differs from the one in force cannot take effect (targets are read
/// when the provider is created): TargetsChangeNotApplied says so, comparing targets by what they
/// are, not by reference.
/// </summary>
public sealed class ConfigurationReloadTests
{
    private const string Advice =
        "the target list is read when the provider is created: restart the application, or change targets at run time through NetconsoleLoggerProvider.Manager.";

    private static NetconsoleLoggerOptions Bind(IConfiguration configuration)
    {
        var options = new NetconsoleLoggerOptions();
        new NetconsoleLoggerConfigureOptions(configuration.GetSection("Logging:Netconsole")).Configure(options);
        return options;
    }

    private static NetconsoleLoggerOptions Bind(string section) => ConfigurationTargetObjectTests.Bind(section);

    [Fact]
    public void The_same_configuration_bound_again_is_no_change()
    {
        const string Section = """
            { "Targets": [ "+@/eth1,@192.0.2.2/", { "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" } } ] }
            """;

        NetconsoleLoggerOptions.TargetsChangeNotApplied(Bind(Section), Bind(Section)).Should().BeNull();
    }

    [Fact]
    public void The_same_targets_written_differently_are_no_change()
    {
        NetconsoleLoggerOptions current = Bind("""{ "Targets": [ "+@/eth1,@192.0.2.2/" ], "Facility": 3 }""");
        NetconsoleLoggerOptions reloaded = Bind("""{ "Targets": "+6665@/eth1,6666@192.0.2.2/", "Facility": 16 }""");

        NetconsoleLoggerOptions.TargetsChangeNotApplied(current, reloaded).Should().BeNull("a live option changed, the targets did not");
    }

    [Fact]
    public void A_changed_target_list_is_reported_with_the_targets_in_force_and_those_configured_now()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:Netconsole:Targets:0"] = "+@/eth1,@192.0.2.2/",
        }).Build();
        NetconsoleLoggerOptions current = Bind(configuration);

        configuration["Logging:Netconsole:Targets:0"] = "+@/eth1,@192.0.2.3/";
        configuration["Logging:Netconsole:Targets:1:RemoteAddress"] = "192.0.2.4";
        configuration.Reload();

        NetconsoleLoggerOptions.TargetsChangeNotApplied(current, Bind(configuration)).Should().Be(
            "Logging:Netconsole:Targets changed (was: cmdline0 +6665@/eth1,6666@192.0.2.2/; now: cmdline0 +6665@/eth1,6666@192.0.2.3/, target0 6665@/,6666@192.0.2.4/); " + Advice);
    }

    [Theory]
    [InlineData("""{ "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "us" } }""", "central +6665@/,6666@192.0.2.3/ userdata=region=us")]
    [InlineData("""{ "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" }, "Sysdata": "Cpu" }""", "central +6665@/,6666@192.0.2.3/ userdata=region=eu sysdata=Cpu")]
    [InlineData("""{ "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" }, "Release": "6.4.0" }""", "central +6665@/,6666@192.0.2.3/ release=6.4.0 userdata=region=eu")]
    [InlineData("""{ "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" }, "MaxDatagramsPerSecond": 100 }""", "central +6665@/,6666@192.0.2.3/ userdata=region=eu pacing=100/s burst 50")]
    [InlineData("""{ "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" }, "Facility": 4 }""", "central +6665@/,6666@192.0.2.3/ userdata=region=eu facility=4")]
    [InlineData("""{ "Name": "main", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" } }""", "main +6665@/,6666@192.0.2.3/ userdata=region=eu")]
    public void A_change_the_kernel_syntax_does_not_show_is_a_change_too(string reloadedTarget, string now)
    {
        NetconsoleLoggerOptions current = Bind("""{ "Targets": [ { "Name": "central", "RemoteAddress": "192.0.2.3", "Extended": true, "Userdata": { "region": "eu" } } ] }""");
        NetconsoleLoggerOptions reloaded = Bind($$"""{ "Targets": [ {{reloadedTarget}} ] }""");

        NetconsoleLoggerOptions.TargetsChangeNotApplied(current, reloaded).Should().Be(
            $"Logging:Netconsole:Targets changed (was: central +6665@/,6666@192.0.2.3/ userdata=region=eu; now: {now}); " + Advice);
    }

    [Fact]
    public void Targets_in_another_order_are_a_change()
    {
        NetconsoleLoggerOptions current = Bind("""{ "Targets": [ "@/eth1,@192.0.2.2/", "@/eth1,@192.0.2.3/" ] }""");
        NetconsoleLoggerOptions reloaded = Bind("""{ "Targets": [ "@/eth1,@192.0.2.3/", "@/eth1,@192.0.2.2/" ] }""");

        NetconsoleLoggerOptions.TargetsChangeNotApplied(current, reloaded).Should().StartWith("Logging:Netconsole:Targets changed (was: cmdline0 6665@/eth1,6666@192.0.2.2/, cmdline1 6665@/eth1,6666@192.0.2.3/; now: cmdline0 6665@/eth1,6666@192.0.2.3/, cmdline1 6665@/eth1,6666@192.0.2.2/); ");
    }

    [Fact]
    public void Removing_every_target_is_a_change_to_none()
    {
        NetconsoleLoggerOptions.TargetsChangeNotApplied(Bind("""{ "Targets": [ "@/eth1,@192.0.2.2/" ] }"""), Bind("{}")).Should().Be(
            "Logging:Netconsole:Targets changed (was: cmdline0 6665@/eth1,6666@192.0.2.2/; now: none); " + Advice);
    }

    [Fact]
    public void A_duplicate_added_on_reload_is_no_change_since_it_would_be_left_out()
    {
        NetconsoleLoggerOptions.TargetsChangeNotApplied(
            Bind("""{ "Targets": [ "@/eth1,@192.0.2.2/" ] }"""),
            Bind("""{ "Targets": [ "@/eth1,@192.0.2.2/", "+@/eth1,@192.0.2.2/" ] }""")).Should().BeNull();
    }

    [Fact]
    public void An_invalid_reload_is_not_reported_here_since_it_is_refused_as_a_whole()
    {
        NetconsoleLoggerOptions reloaded = Bind("""{ "Targets": [ "@/eth1,@192.0.2.3/", "@/eth1,@not-an-address/" ] }""");
        reloaded.ConfigurationError.Should().NotBeNull();

        NetconsoleLoggerOptions.TargetsChangeNotApplied(Bind("""{ "Targets": [ "@/eth1,@192.0.2.2/" ] }"""), reloaded).Should().BeNull();
    }
}
