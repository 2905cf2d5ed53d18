using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;

namespace Netconsole.Tests.Logging;

/// <summary>AddNetconsole binds Logging:Netconsole, fails loudly on bad values, and reloads live options.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static IConfigurationRoot Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    private ServiceProvider Services(IConfiguration configuration) =>
        new ServiceCollection()
            .AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging")).AddNetconsole(o => o.ManagerOptions = _harness.ManagerOptions))
            .BuildServiceProvider();

    private static NetconsoleLoggerProvider ProviderOf(IServiceProvider services) =>
        services.GetRequiredService<NetconsoleLoggerProvider>();

    [Fact]
    public void The_Logging_Netconsole_section_binds_targets_and_options()
    {
        IConfigurationRoot configuration = Json("""
            { "Logging": { "Netconsole": {
                "Targets": [ "+@/veth0,@192.0.2.2/", "6000@/veth0,7000@192.0.2.3/" ],
                "Facility": 16, "QueueFullMode": "Wait", "MaxQueueLength": 50, "IncludeScopes": false,
                "DisposeTimeout": "00:00:01", "CaptureUnhandledExceptions": true, "CrashFlushTimeout": "00:00:00.500",
                "MaxDictionaryValueBytes": 1024 } } }
            """);
        using ServiceProvider services = Services(configuration);

        NetconsoleLoggerProvider provider = ProviderOf(services);

        NetconsoleLoggerOptions options = provider.CurrentOptions;
        options.Targets.Should().Equal("+@/veth0,@192.0.2.2/", "6000@/veth0,7000@192.0.2.3/");
        options.Facility.Should().Be(16);
        options.QueueFullMode.Should().Be(NetconsoleQueueFullMode.Wait);
        options.MaxQueueLength.Should().Be(50);
        options.IncludeScopes.Should().BeFalse();
        options.DisposeTimeout.Should().Be(TimeSpan.FromSeconds(1));
        options.CaptureUnhandledExceptions.Should().BeTrue();
        options.CrashFlushTimeout.Should().Be(TimeSpan.FromMilliseconds(500));
        options.MaxDictionaryValueBytes.Should().Be(1024);
        provider.Manager.Targets.Select(t => t.State).Should().Equal(TargetState.Enabled, TargetState.Enabled);
        provider.Manager.Targets.Select(t => t.Name).Should().Equal("cmdline0", "cmdline1");
        provider.Manager.Targets[1].Options.RemotePort.Should().Be(7000);
    }

    [Fact]
    public void The_defaults_are_DropWrite_10000_records_facility_user_and_scopes_on()
    {
        var options = new NetconsoleLoggerOptions();

        options.QueueFullMode.Should().Be(NetconsoleQueueFullMode.DropWrite);
        options.MaxQueueLength.Should().Be(10_000);
        options.Facility.Should().Be(1);
        options.IncludeScopes.Should().BeTrue();
        options.CaptureUnhandledExceptions.Should().BeFalse();
        options.CaptureProcessDeath.Should().BeFalse();
        options.DisposeTimeout.Should().Be(TimeSpan.FromSeconds(5));
        options.CrashFlushTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.MaxDictionaryValueBytes.Should().Be(256);
    }

    [Theory]
    [InlineData("""{ "Targets": [ "+@/veth0,@192.0.2.2/", "@/veth0,@not-an-address/" ] }""", "Logging:Netconsole:Targets:1", "not-an-address")]
    [InlineData("""{ "QueueFullMode": "Block" }""", "Logging:Netconsole:QueueFullMode", "Wait or DropWrite")]
    [InlineData("""{ "QueueFullMode": "7" }""", "Logging:Netconsole:QueueFullMode", "Wait or DropWrite")]
    [InlineData("""{ "Facility": "99" }""", "Logging:Netconsole:Facility", "0 (kern) to 23 (local7)")]
    [InlineData("""{ "MaxQueueLength": "lots" }""", "Logging:Netconsole:MaxQueueLength", "not an integer")]
    [InlineData("""{ "DisposeTimeout": "soon" }""", "Logging:Netconsole:DisposeTimeout", "not a time span")]
    [InlineData("""{ "MaxDictionaryValueBytes": "10" }""", "Logging:Netconsole:MaxDictionaryValueBytes", "\"10\" is out of range. A dictionary value cap is 0 (no cap) or 64 to 8191 bytes.")]
    public void Invalid_configuration_fails_creating_the_provider_naming_the_key_and_the_reason(string section, string key, string reason)
    {
        using ServiceProvider services = Services(Json($$"""{ "Logging": { "Netconsole": {{section}} } }"""));

        Action create = () => ProviderOf(services);

        create.Should().Throw<NetconsoleConfigurationException>()
            .Which.Message.Should().Contain(key).And.Contain(reason);
    }

    [Fact]
    public void A_bad_target_string_given_in_code_names_its_index()
    {
        NetconsoleLoggerOptions options = _harness.Options();
        options.Targets.Add("@/veth0,@/");

        Action create = () => new NetconsoleLoggerProvider(options).Dispose();

        create.Should().Throw<NetconsoleConfigurationException>().WithMessage("*NetconsoleLoggerOptions.Targets[1]*");
    }

    [Fact]
    public void Option_setters_reject_bad_values()
    {
        var options = new NetconsoleLoggerOptions();

        ((Action)(() => options.Facility = 24)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.MaxQueueLength = 0)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.QueueFullMode = (NetconsoleQueueFullMode)5)).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => options.DisposeTimeout = TimeSpan.FromSeconds(-1))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Reloading_the_facility_applies_to_the_next_record_and_an_invalid_reload_is_ignored()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:Netconsole:Targets:0"] = LoggingHarness.Extended,
            ["Logging:Netconsole:Facility"] = "1",
        }).Build();
        using ServiceProvider services = Services(configuration);
        NetconsoleLoggerProvider provider = ProviderOf(services);
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("c");
        logger.LogWarning("before");
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();

        configuration["Logging:Netconsole:Facility"] = "20";
        configuration.Reload();
        logger.LogWarning("after");
        configuration["Logging:Netconsole:Facility"] = "99";
        configuration.Reload();
        logger.LogWarning("after a bad reload");
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();

        _harness.Records().Select(r => (r.TextString, r.Facility)).Should().Equal(("before", 1), ("after", 20), ("after a bad reload", 20));
        provider.ReloadFailures.Should().BePositive("the reload with facility 99 was refused");
        provider.Manager.Targets.Should().ContainSingle("targets are read once: a reload does not add them again");
    }
}
