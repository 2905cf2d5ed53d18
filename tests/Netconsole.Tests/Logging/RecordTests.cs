using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Logging;

/// <summary>What a logged record looks like on the wire: level, facility, text, dictionary.</summary>
public sealed class RecordTests : IDisposable
{
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private ReceivedRecord LogOne(Action<ILogger> log, string target = LoggingHarness.Extended, Action<NetconsoleLoggerOptions>? configure = null)
    {
        NetconsoleLoggerOptions options = _harness.Options(target);
        configure?.Invoke(options);
        // A provider added as an instance is the caller's to dispose (and disposing drains the queue).
        using (var provider = new NetconsoleLoggerProvider(options))
        using (ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace)))
        {
            log(factory.CreateLogger("Shop.Orders"));
        }

        return _harness.Records().Should().ContainSingle().Subject;
    }

    [Theory]
    [InlineData(LogLevel.Critical, 2)]
    [InlineData(LogLevel.Error, 3)]
    [InlineData(LogLevel.Warning, 4)]
    [InlineData(LogLevel.Information, 6)]
    [InlineData(LogLevel.Debug, 7)]
    [InlineData(LogLevel.Trace, 7)]
    public void Levels_map_to_syslog_levels_with_facility_user(LogLevel level, int expected)
    {
        ReceivedRecord record = LogOne(l => l.Log(level, "hello"));

        record.Level.Should().Be(expected);
        record.Facility.Should().Be(1);
        record.TextString.Should().Be("hello");
    }

    [Fact]
    public void The_facility_option_is_carried_by_every_record()
    {
        ReceivedRecord record = LogOne(l => l.LogInformation("hello"), configure: o => o.Facility = 16);

        record.Facility.Should().Be(16);
    }

    [Fact]
    public void The_minimum_level_of_the_logging_framework_filters_records()
    {
        using (ILoggerFactory factory = LoggerFactory.Create(b => b.AddNetconsole(o =>
        {
            o.ManagerOptions = _harness.ManagerOptions;
            o.Targets.Add(LoggingHarness.Extended);
        }).SetMinimumLevel(LogLevel.Warning)))
        {
            ILogger logger = factory.CreateLogger("Shop");
            logger.LogDebug("debug");
            logger.LogInformation("info");
            logger.LogWarning("warning");
            logger.LogError("error");
        }

        _harness.Texts().Should().Equal("warning", "error");
    }

    [Fact]
    public void Extended_targets_get_category_event_scopes_and_state_in_the_dictionary_in_order()
    {
        ReceivedRecord record = LogOne(l =>
        {
            using (l.BeginScope("request {RequestId}", 42))
            using (l.BeginScope("plain scope"))
            {
                l.LogInformation(new EventId(7, "Shipped"), "order {OrderId} shipped to {City}", 4711, "Köln");
            }
        });

        record.TextString.Should().Be("order 4711 shipped to Köln");
        record.Dictionary.Where(p => p.Key is not ("cpu" or "taskname")).Should().Equal(
            new("CATEGORY", "Shop.Orders"),
            new("EVENT_ID", "7"),
            new("EVENT_NAME", "Shipped"),
            new("SCOPE", "request 42"),
            new("RequestId", "42"),
            new("SCOPE", "plain scope"),
            new("OrderId", "4711"),
            new("City", "Köln"));
    }

    [Fact]
    public void A_key_value_scope_arrives_as_its_pairs_not_as_its_type_name()
    {
        ReceivedRecord record = LogOne(l =>
        {
            using (l.BeginScope(new Dictionary<string, object> { ["TenantId"] = "t-9", ["Attempt"] = 2 }))
            using (l.BeginScope(new Dictionary<string, string> { ["Region"] = "eu-1" }))
            using (l.BeginScope(new NamedPairs("batch 7", ("BatchId", 7))))
            {
                l.LogInformation("hello");
            }
        });

        record.Dictionary.Where(p => p.Key is not ("cpu" or "taskname")).Should().Equal(
            new("CATEGORY", "Shop.Orders"),
            new("TenantId", "t-9"),
            new("Attempt", "2"),
            new("Region", "eu-1"),
            new("SCOPE", "batch 7"),
            new("BatchId", "7"));
    }

    /// <summary>A key/value scope with a text of its own: the text stays a SCOPE line.</summary>
    private sealed class NamedPairs(string text, params (string Key, object? Value)[] pairs) : IEnumerable<KeyValuePair<string, object?>>
    {
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => text;
    }

    [Fact]
    public void Scopes_are_left_out_when_IncludeScopes_is_off()
    {
        ReceivedRecord record = LogOne(
            l =>
            {
                using (l.BeginScope("outer"))
                {
                    l.LogInformation("hello");
                }
            },
            configure: o => o.IncludeScopes = false);

        record.Dictionary.Select(p => p.Key).Should().NotContain("SCOPE");
    }

    [Fact]
    public void The_sysdata_carries_the_logging_threads_name_and_a_cpu()
    {
        string? name = null;
        NetconsoleTargetOptions target = NetconsoleTargetOptions.Parse(LoggingHarness.Extended);
        target.Sysdata = SysdataFields.Cpu | SysdataFields.TaskName;
        ReceivedRecord record = LogOne(
            l =>
        {
            var thread = new Thread(() => l.LogInformation("hello")) { Name = "order-worker" };
            thread.Start();
            thread.Join();
            name = thread.Name;
        },
            configure: o =>
            {
                o.Targets.Clear();
                o.TargetOptions.Add(target);
            });

        record.SysdataTaskName.Should().Be(name);
        record.SysdataCpu.Should().NotBeNull();
    }

    [Fact]
    public void An_exception_goes_inside_the_records_text_as_one_record()
    {
        Exception exception = Thrown(new InvalidOperationException("the disk is on fire"));

        ReceivedRecord record = LogOne(l => l.LogError(exception, "saving failed"));

        record.TextString.Should().Be("saving failed\n" + exception);
        record.TextString.Should().Contain("the disk is on fire").And.Contain(nameof(Thrown));
        record.PartCount.Should().Be(1);
    }

    [Fact]
    public void A_long_exception_becomes_a_continued_group_reassembled_whole()
    {
        Exception exception = Thrown(new InvalidOperationException(new string('x', 20_000)));

        ReceivedRecord record = LogOne(l => l.LogCritical(exception, "crash"));

        record.PartCount.Should().BeGreaterThan(1);
        record.TextString.Should().Be("crash\n" + exception);
        record.Level.Should().Be(2);
    }

    [Fact]
    public void Basic_targets_get_the_text_and_exception_only()
    {
        Exception exception = Thrown(new InvalidOperationException("boom"));

        ReceivedRecord record = LogOne(l => l.LogError(new EventId(3), exception, "failed {What}", "save"), LoggingHarness.Basic);

        record.IsExtended.Should().BeFalse();
        record.TextString.Should().Be("failed save\n" + exception);
    }

    [Fact]
    public void Sequence_numbers_are_consecutive_per_provider()
    {
        using (NetconsoleLoggerProvider provider = _harness.Provider())
        {
            ILogger logger = provider.CreateLogger("c");
            for (int i = 0; i < 5; i++)
            {
                logger.LogInformation("r{I}", i);
            }
        }

        _harness.Records().Select(r => r.Sequence).Should().Equal(1UL, 2UL, 3UL, 4UL, 5UL);
    }

    internal static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
