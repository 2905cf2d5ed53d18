using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The provider is never silent: a target that cannot send, and why, reaches the operator through
/// the application's other logger providers (category <c>Netconsole.Diagnostics</c>), standard
/// error when nothing else shows it, the <c>Netconsole-Logging</c> EventSource and the health check.
/// </summary>
public sealed class DiagnosticsTests : IDisposable
{
    private const string Missing = "+@/veth9,@192.0.2.2/";
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void A_plain_provider_writes_a_target_that_cannot_send_and_why_to_standard_error()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider(Missing);

        _harness.StandardErrorLines().Should().Equal(
            "netconsole: Target cmdline0 (+6665@/veth9,6666@192.0.2.2/) is not sending: setup failed: no device named veth9. "
            + "Records to it wait in its replay buffer (at most 10000 records, 4 MiB and 10 minutes; beyond, the oldest are dropped and counted) until its device appears; it then resumes by itself and sends them first.");
    }

    [Fact]
    public void Without_a_replay_buffer_the_report_says_records_are_dropped()
    {
        NetconsoleLoggerOptions options = _harness.Options([]);
        options.Targets.Clear();
        NetconsoleTargetOptions target = NetconsoleTargetOptions.Parse(Missing);
        target.ReplayBufferMaxRecords = 0;
        options.TargetOptions.Add(target);
        using var provider = new NetconsoleLoggerProvider(options);

        _harness.StandardErrorLines().Should().ContainSingle().Which.Should().EndWith(
            "is not sending: setup failed: no device named veth9. Records to it are dropped (and counted) until its device appears; it then resumes by itself.");
    }

    [Theory]
    [InlineData(100, 65536, 30, "at most 100 records, 64 KiB and 30 s")]
    [InlineData(1, 1000, 90, "at most 1 record, 1000 bytes and 90 s")]
    [InlineData(10000, 8388608, 60, "at most 10000 records, 8 MiB and 1 minute")]
    public void The_report_names_the_replay_buffers_own_limits(int records, int bytes, int seconds, string limits)
    {
        NetconsoleLoggerOptions options = _harness.Options([]);
        options.Targets.Clear();
        NetconsoleTargetOptions target = NetconsoleTargetOptions.Parse(Missing);
        target.ReplayBufferMaxRecords = records;
        target.ReplayBufferMaxBytes = bytes;
        target.ReplayBufferMaxAge = TimeSpan.FromSeconds(seconds);
        options.TargetOptions.Add(target);
        using var provider = new NetconsoleLoggerProvider(options);

        _harness.StandardErrorLines().Should().ContainSingle().Which.Should().EndWith(
            $"Records to it wait in its replay buffer ({limits}; beyond, the oldest are dropped and counted) until its device appears; it then resumes by itself and sends them first.");
    }

    [Fact]
    public void A_healthy_start_writes_nothing_to_standard_error()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider();

        provider.Manager.Targets.Single().State.Should().Be(TargetState.Enabled);
        _harness.StandardErrorLines().Should().BeEmpty("standard error is for problems (Auto)");
    }

    [Theory]
    [InlineData(FrameTransportError.PermissionDenied, "no permission")]
    [InlineData(FrameTransportError.LibpcapMissing, "libpcap is not installed")]
    public void A_setup_failure_that_needs_a_person_is_an_error_with_the_transports_reason(FrameTransportError error, string why)
    {
        _harness.Factory.OpenFailure = new FrameTransportException(error, "veth0", why);
        var seen = new CapturingLoggerProvider();
        using ServiceProvider services = Services(seen, LoggingHarness.Extended);

        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
        provider.Diagnostics.Drain(Timeout);

        seen.Records.Should().ContainSingle().Which.Should().Be(new CapturedRecord(
            "Netconsole.Diagnostics",
            LogLevel.Error,
            new EventId(3, "TargetSetupFailed"),
            $"Target cmdline0 (+6665@/veth0,6666@192.0.2.2/) is not sending: setup failed: {why}. "
            + "Records to it wait in its replay buffer (at most 10000 records, 4 MiB and 10 minutes; beyond, the oldest are dropped and counted); it is set up again when its device changes, but the cause above needs fixing first."));
        _harness.StandardErrorLines().Should().BeEmpty("another provider showed it");
    }

    [Fact]
    public void In_an_application_with_another_provider_the_reports_go_there_with_their_parts_as_pairs()
    {
        _harness.Watcher.Register("veth1", System.Net.NetworkInformation.PhysicalAddress.Parse("02-00-00-00-00-0B"), [System.Net.IPAddress.Parse("192.0.2.1")], up: false);
        var seen = new CapturingLoggerProvider();
        using ServiceProvider services = Services(seen, LoggingHarness.Extended, "@/veth1,6667@192.0.2.2/");

        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
        provider.Diagnostics.Drain(Timeout);

        seen.Records.Select(r => (r.Level, r.EventId.Id)).Should().Equal((LogLevel.Information, 1), (LogLevel.Warning, 2));
        seen.Records[0].Message.Should().StartWith("Target cmdline0 (+6665@/veth0,6666@192.0.2.2/) is sending: enabled on device veth0;");
        seen.Records[1].Message.Should().Be(
            "Target cmdline1 (6665@/veth1,6667@192.0.2.2/) is not sending: setup failed: device veth1 is down. "
            + "Records to it wait in its replay buffer (at most 10000 records, 4 MiB and 10 minutes; beyond, the oldest are dropped and counted) until the device comes up; it then resumes by itself and sends them first.");
        seen.Records[1].Pairs.Should().Equal(
            new KeyValuePair<string, string?>("Target", "cmdline1"),
            new KeyValuePair<string, string?>("State", "Deactivated"),
            new KeyValuePair<string, string?>("Cause", "DeviceDown"),
            new KeyValuePair<string, string?>("Reason", "setup failed: device veth1 is down"));
        _harness.StandardErrorLines().Should().BeEmpty();
    }

    [Fact]
    public void With_netconsole_as_the_only_provider_the_reports_go_to_standard_error()
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddNetconsole(o => Configure(o, Missing)));
        using ServiceProvider container = services.BuildServiceProvider();
        NetconsoleLoggerProvider provider = container.GetRequiredService<NetconsoleLoggerProvider>();
        container.GetRequiredService<ILoggerFactory>().CreateLogger("app").LogInformation("logged, and lost");

        provider.Diagnostics.Drain(Timeout);

        _harness.StandardErrorLines().Should().ContainSingle().Which.Should().StartWith("netconsole: Target cmdline0 (+6665@/veth9,6666@192.0.2.2/) is not sending: setup failed: no device named veth9.");
    }

    [Fact]
    public void A_report_is_never_sent_back_into_netconsole()
    {
        var seen = new CapturingLoggerProvider();
        using ServiceProvider services = Services(seen, LoggingHarness.Extended, Missing);
        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
        provider.Diagnostics.Drain(Timeout);
        provider.Manager.Disable("cmdline1");
        provider.Diagnostics.Drain(Timeout);
        services.GetRequiredService<ILoggerFactory>().CreateLogger("app").LogInformation("the application's record");
        provider.Flush(Timeout).Should().BeTrue();

        seen.Records.Select(r => r.EventId.Name).Should().Equal("TargetEnabled", "TargetDeactivated", "TargetDisabled");
        _harness.Texts().Should().Equal(["the application's record"], "cmdline0 sends, but not what the provider says about cmdline1");
        provider.CreateLogger("Netconsole.Diagnostics").IsEnabled(LogLevel.Critical).Should().BeFalse();
    }

    [Fact]
    public void A_target_whose_problem_went_to_standard_error_has_its_recovery_written_there_too()
    {
        using var harness = new LoggingHarness(registerDevice: false);
        using var provider = new NetconsoleLoggerProvider(harness.Options(LoggingHarness.Extended));

        harness.RegisterDevice();
        LoggingHarness.WaitUntil(() => provider.Manager.Targets[0].State == TargetState.Enabled).Should().BeTrue();
        provider.Diagnostics.Drain(Timeout);

        harness.StandardErrorLines().Should().Equal(
            "netconsole: Target cmdline0 (+6665@/veth0,6666@192.0.2.2/) is not sending: setup failed: no device named veth0. "
            + "Records to it wait in its replay buffer (at most 10000 records, 4 MiB and 10 minutes; beyond, the oldest are dropped and counted) until its device appears; it then resumes by itself and sends them first.",
            "netconsole: Target cmdline0 (+6665@/veth0,6666@192.0.2.2/) is sending: resumed on device veth0; warning: next hop 192.0.2.2 is not in the neighbour table, "
            + "and ARP is not possible with Transport, which cannot receive frames: sending to broadcast, which switches may drop; give the remote MAC in the target.");
    }

    [Theory]
    [InlineData(NetconsoleStandardErrorMode.Never, 0)]
    [InlineData(NetconsoleStandardErrorMode.Always, 2)]
    public void Standard_error_can_be_turned_off_or_given_everything(NetconsoleStandardErrorMode mode, int lines)
    {
        NetconsoleLoggerOptions options = _harness.Options(LoggingHarness.Extended, Missing);
        options.DiagnosticsToStandardError = mode;
        using var provider = new NetconsoleLoggerProvider(options);

        _harness.StandardErrorLines().Should().HaveCount(lines);
    }

    [Fact]
    public void No_target_at_all_is_reported()
    {
        using var provider = new NetconsoleLoggerProvider(new NetconsoleLoggerOptions
        {
            ManagerOptions = _harness.ManagerOptions,
            StandardError = () => _harness.StandardError,
        });

        _harness.StandardErrorLines().Should().Equal(
            "netconsole: No netconsole targets are configured (Logging:Netconsole:Targets and NetconsoleLoggerOptions.Targets are empty): "
            + "no record is sent. Add one, for example \"Targets\": [ \"+@eth1,6666@192.0.2.1/\" ].");
    }

    [Fact]
    public void An_invalid_reload_is_reported_and_the_options_in_force_stay()
    {
        var monitor = new ReloadingMonitor(_harness.Options());
        using var provider = new NetconsoleLoggerProvider(monitor);

        var reloaded = new NetconsoleLoggerOptions();
        new NetconsoleLoggerConfigureOptions(
            new Microsoft.Extensions.Configuration.ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Facility"] = "24" })
                .Build())
            .Configure(reloaded);
        monitor.Reload(reloaded);
        provider.Diagnostics.Drain(Timeout);

        _harness.StandardErrorLines().Should().ContainSingle().Which.Should().StartWith(
            "netconsole: The reloaded configuration was not applied: Invalid netconsole logging configuration at Logging:Netconsole:Facility:");
        provider.CurrentOptions.Facility.Should().Be(1);
    }

    [Fact]
    public void The_event_source_carries_each_report_for_dotnet_trace()
    {
        using var listener = new ReportListener();
        using NetconsoleLoggerProvider provider = _harness.Provider(LoggingHarness.Extended, Missing);

        listener.Events.Should().ContainEquivalentOf(new
        {
            EventName = "TargetDeactivated",
            Level = EventLevel.Warning,
            Payload = new object[] { "cmdline1", "+6665@/veth9,6666@192.0.2.2/", "NoSuchDevice", "setup failed: no device named veth9" },
        });
        listener.Queue.Should().Contain(e => e.EventName == "TargetEnabled" && e.Level == EventLevel.Informational
            && (string)e.Payload![0]! == "cmdline0" && ((string)e.Payload[3]!).StartsWith("enabled on device veth0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_health_check_is_healthy_when_every_target_sends_degraded_when_some_do_and_failing_when_none_does()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider(LoggingHarness.Extended, Missing);
        var check = new NetconsoleHealthCheck(provider);
        var context = new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("netconsole", check, HealthStatus.Unhealthy, null),
        };

        HealthCheckResult some = await check.CheckHealthAsync(context);
        provider.Manager.Disable("cmdline0");
        HealthCheckResult none = await check.CheckHealthAsync(context);
        provider.Manager.Remove("cmdline1").Should().BeTrue();
        provider.Manager.Enable("cmdline0");
        HealthCheckResult all = await check.CheckHealthAsync(context);

        some.Status.Should().Be(HealthStatus.Degraded);
        some.Description.Should().Be("1 of 2 netconsole targets sending. cmdline1 is deactivated: setup failed: no device named veth9.");
        some.Data["cmdline1"].Should().Be("Deactivated: setup failed: no device named veth9");
        none.Status.Should().Be(HealthStatus.Unhealthy);
        none.Description.Should().StartWith("0 of 2 netconsole targets sending. cmdline0 is disabled: disabled by the operator; cmdline1 is deactivated");
        all.Status.Should().Be(HealthStatus.Healthy);
        all.Description.Should().Be("1 of 1 netconsole targets sending.");
    }

    [Fact]
    public async Task The_health_check_registered_with_one_call_reports_no_target_with_the_registrations_failure_status()
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddNetconsole(o =>
        {
            o.ManagerOptions = _harness.ManagerOptions;
            o.StandardError = () => _harness.StandardError;
        }));
        services.AddHealthChecks().AddCheck<NetconsoleHealthCheck>("netconsole", failureStatus: HealthStatus.Degraded);
        await using ServiceProvider container = services.BuildServiceProvider();

        HealthReport report = await container.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        report.Entries["netconsole"].Status.Should().Be(HealthStatus.Degraded);
        report.Entries["netconsole"].Description.Should().Be("No netconsole target is configured: no record is sent.");
    }

    private static NetconsoleLoggerOptions Configure(NetconsoleLoggerOptions options, LoggingHarness harness, params string[] targets)
    {
        options.ManagerOptions = harness.ManagerOptions;
        options.SequenceBase = 0;
        options.StandardError = () => harness.StandardError;
        foreach (string target in targets)
        {
            options.Targets.Add(target);
        }

        return options;
    }

    private void Configure(NetconsoleLoggerOptions options, params string[] targets) => Configure(options, _harness, targets);

    private ServiceProvider Services(CapturingLoggerProvider other, params string[] targets)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(other).AddNetconsole(o => Configure(o, targets)));
        return services.BuildServiceProvider();
    }

    /// <summary>One record a <see cref="CapturingLoggerProvider"/> saw.</summary>
    internal sealed record CapturedRecord(string Category, LogLevel Level, EventId EventId, string Message)
    {
        public IReadOnlyList<KeyValuePair<string, string?>> Pairs { get; init; } = [];

        public bool Equals(CapturedRecord? other) => other is not null
            && (Category, Level, EventId, Message) == (other.Category, other.Level, other.EventId, other.Message);

        public override int GetHashCode() => HashCode.Combine(Category, Level, EventId, Message);
    }

    /// <summary>Another provider of the application (as the console's would be): keeps what it is given.</summary>
    internal sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<CapturedRecord> _records = new();

        public IReadOnlyList<CapturedRecord> Records => _records.Where(r => r.Category.StartsWith("Netconsole", StringComparison.Ordinal)).ToList();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _records);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<CapturedRecord> records) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var pairs = state is IReadOnlyList<KeyValuePair<string, object?>> list
                    ? list.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value?.ToString())).ToList()
                    : [];
                records.Enqueue(new CapturedRecord(category, logLevel, eventId, formatter(state, exception)) { Pairs = pairs });
            }
        }
    }

    /// <summary>An options monitor whose value the test replaces, as a configuration reload does.</summary>
    private sealed class ReloadingMonitor(NetconsoleLoggerOptions initial) : IOptionsMonitor<NetconsoleLoggerOptions>
    {
        private Action<NetconsoleLoggerOptions, string?>? _listener;

        public NetconsoleLoggerOptions CurrentValue { get; private set; } = initial;

        public NetconsoleLoggerOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<NetconsoleLoggerOptions, string?> listener)
        {
            _listener = listener;
            return null;
        }

        public void Reload(NetconsoleLoggerOptions options)
        {
            CurrentValue = options;
            _listener?.Invoke(options, null);
        }
    }

    /// <summary>Listens to the <c>Netconsole-Logging</c> EventSource, as dotnet-trace would.</summary>
    private sealed class ReportListener : EventListener
    {
        public ConcurrentQueue<EventWrittenEventArgs> Queue { get; } = new();

        public List<object> Events => Queue.Select(e => (object)new { e.EventName, e.Level, Payload = e.Payload!.ToArray() }).ToList();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Netconsole-Logging")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData) => Queue.Enqueue(eventData);
    }
}
