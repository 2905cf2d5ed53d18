using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Tests.Docs;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Logging;

/// <summary>
/// A key under Logging:Netconsole, or in a target object, that is not an option is reported as a
/// warning naming the full key and the option it probably meant; the provider still starts.
/// </summary>
public sealed class ConfigurationWarningTests : IDisposable
{
    private const string SectionOptions =
        "the netconsole options are Targets, Facility, QueueFullMode, MaxQueueLength, DisposeTimeout, IncludeScopes, MaxDictionaryValueBytes, CaptureUnhandledExceptions, CrashFlushTimeout, CaptureProcessDeath, DiagnosticsToStandardError, LogLevel.";

    private const string TargetOptions =
        "the target options are Name, DeviceName, DeviceMac, LocalAddress, LocalPort, RemoteAddress, RemotePort, RemoteMac, Extended, PrependRelease, Release, Userdata, Sysdata, Facility, PrintkTime, MaxDatagramsPerSecond, MaxDatagramBurst, ReplayBufferMaxRecords, ReplayBufferMaxBytes, ReplayBufferMaxAge, SpoolDirectory, SigningKey.";

    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static List<string> Warnings(string section)
    {
        NetconsoleLoggerOptions options = ConfigurationTargetObjectTests.Bind(section);
        options.ConfigurationError.Should().BeNull("an unknown key is not an error");
        return options.ConfigurationWarnings;
    }

    [Theory]
    [InlineData("""{ "Target": [ "@/eth1,@192.0.2.2/" ] }""", "Logging:Netconsole:Target is not a netconsole option and was ignored; did you mean Targets?")]
    [InlineData("""{ "Facilty": 16 }""", "Logging:Netconsole:Facilty is not a netconsole option and was ignored; did you mean Facility?")]
    [InlineData("""{ "QueueFullMdoe": "Wait" }""", "Logging:Netconsole:QueueFullMdoe is not a netconsole option and was ignored; did you mean QueueFullMode?")]
    [InlineData("""{ "LogLevels": { "Default": "Warning" } }""", "Logging:Netconsole:LogLevels is not a netconsole option and was ignored; did you mean LogLevel?")]
    [InlineData("""{ "Timeout": "00:00:01" }""", "Logging:Netconsole:Timeout is not a netconsole option and was ignored; did you mean DisposeTimeout or CrashFlushTimeout?")]
    [InlineData("""{ "Host": "192.0.2.2" }""", "Logging:Netconsole:Host is not a netconsole option and was ignored; " + SectionOptions)]
    [InlineData("""{ "TargetOptions": [ { "RemoteAddress": "192.0.2.2" } ] }""", "Logging:Netconsole:TargetOptions is not read from configuration and was ignored; give target objects in Logging:Netconsole:Targets.")]
    [InlineData("""{ "ManagerOptions": "x" }""", "Logging:Netconsole:ManagerOptions is set in code only (NetconsoleLoggerOptions.ManagerOptions) and was ignored.")]
    public void A_key_of_the_section_that_is_not_an_option_is_a_warning_naming_what_was_meant(string section, string warning)
    {
        Warnings(section).Should().Equal(warning);
    }

    [Theory]
    [InlineData("RemotPort", "Logging:Netconsole:Targets:0:RemotPort is not a target option and was ignored; did you mean RemotePort?")]
    [InlineData("Extnded", "Logging:Netconsole:Targets:0:Extnded is not a target option and was ignored; did you mean Extended?")]
    [InlineData("UserData2", "Logging:Netconsole:Targets:0:UserData2 is not a target option and was ignored; did you mean Userdata?")]
    [InlineData("Port", "Logging:Netconsole:Targets:0:Port is not a target option and was ignored; did you mean LocalPort or RemotePort?")]
    [InlineData("Mac", "Logging:Netconsole:Targets:0:Mac is not a target option and was ignored; did you mean DeviceMac or RemoteMac?")]
    [InlineData("Host", "Logging:Netconsole:Targets:0:Host is not a target option and was ignored; " + TargetOptions)]
    public void A_key_of_a_target_object_that_is_not_an_option_is_a_warning_naming_what_was_meant(string key, string warning)
    {
        Warnings($$"""{ "Targets": [ { "RemoteAddress": "192.0.2.2", "{{key}}": "1" } ] }""").Should().Equal(warning);
    }

    [Fact]
    public void A_key_of_a_single_target_object_is_named_under_Targets()
    {
        Warnings("""{ "Targets": { "RemoteAddress": "192.0.2.2", "RemotePrt": 7000 } }""").Should().Equal(
            "Logging:Netconsole:Targets:RemotePrt is not a target option and was ignored; did you mean RemotePort?");
    }

    [Fact]
    public void Every_option_LogLevel_and_every_target_key_in_any_case_give_no_warning()
    {
        Warnings("""
            { "LogLevel": { "Default": "Warning" }, "targets": [ "@/eth1,@192.0.2.2/", { "remoteaddress": "192.0.2.3", "EXTENDED": true, "userdata": { "anything": "x" } } ],
              "facility": 16, "QueueFullMode": "Wait", "MaxQueueLength": 50, "DisposeTimeout": "00:00:01", "IncludeScopes": false,
              "MaxDictionaryValueBytes": 0, "CaptureUnhandledExceptions": true, "CrashFlushTimeout": "00:00:01" }
            """).Should().BeEmpty();
    }

    [Fact]
    public void Each_unknown_key_is_one_warning_in_the_order_configuration_lists_them()
    {
        Warnings("""{ "Targets": [ { "RemoteAddress": "192.0.2.2", "Extnded": true } ], "Zzz": 1, "Facilty": 3 }""").Should().Equal(
            "Logging:Netconsole:Facilty is not a netconsole option and was ignored; did you mean Facility?",
            "Logging:Netconsole:Zzz is not a netconsole option and was ignored; " + SectionOptions,
            "Logging:Netconsole:Targets:0:Extnded is not a target option and was ignored; did you mean Extended?");
    }

    [Fact]
    public void A_misspelled_key_does_not_stop_the_provider_and_the_options_carry_the_warning()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""
            { "Logging": { "Netconsole": { "Targets": [ "+@/veth0,@192.0.2.2/" ], "Facilty": 16 } } }
            """))).Build();
        using ServiceProvider services = new ServiceCollection()
            .AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging")).AddNetconsole(o => o.ManagerOptions = _harness.ManagerOptions))
            .BuildServiceProvider();

        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
        services.GetRequiredService<ILoggerFactory>().CreateLogger("c").LogWarning("still sent");
        provider.Flush(LoggingHarness.Timeout).Should().BeTrue();

        provider.CurrentOptions.ConfigurationWarnings.Should().Equal("Logging:Netconsole:Facilty is not a netconsole option and was ignored; did you mean Facility?");
        provider.CurrentOptions.Facility.Should().Be(1, "the misspelled key set nothing");
        provider.Manager.Targets.Single().State.Should().Be(TargetState.Enabled);
        _harness.Records().Select(r => (r.TextString, r.Facility)).Should().Equal(("still sent", 1));
    }

    [Fact]
    public void Every_Logging_section_in_the_documents_binds_without_an_error_or_a_warning()
    {
        MarkdownCodeBlock[] sections = [.. DocsCodeBlocksTests.DocumentPaths()
            .SelectMany(MarkdownCodeBlock.Read)
            .Where(b => b.Language == "json" && b.Text.Contains("\"Netconsole\"", StringComparison.Ordinal))];
        sections.Should().NotBeEmpty("the README shows an appsettings.json");

        foreach (MarkdownCodeBlock block in sections)
        {
            IConfigurationRoot configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(block.Text))).Build();
            var options = new NetconsoleLoggerOptions();
            new NetconsoleLoggerConfigureOptions(configuration.GetSection("Logging:Netconsole")).Configure(options);

            options.ConfigurationError.Should().BeNull($"the example at {block} is valid");
            options.ConfigurationWarnings.Should().BeEmpty($"the example at {block} has no key that is not an option");
            options.ResolveTargets(new List<string>()).Should().NotBeEmpty($"the example at {block} configures targets");
        }
    }

    [Theory]
    [InlineData("Facilty", "Facility", 1)]
    [InlineData("facility", "Facility", 0)]
    [InlineData("Targte", "Targets", 2)]
    [InlineData("RemotePrt", "RemotePort", 1)]
    [InlineData("Port", "RemotePort", 6)]
    public void The_edit_distance_ignores_case_and_counts_a_swap_as_one_edit(string a, string b, int distance)
    {
        ConfigurationKeys.Distance(a, b).Should().Be(distance);
        ConfigurationKeys.Distance(b, a).Should().Be(distance);
    }
}
