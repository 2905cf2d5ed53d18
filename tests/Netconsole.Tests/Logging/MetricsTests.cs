using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The provider's instruments on the <c>Netconsole</c> meter: names, units, tags, and tag values in
/// one style (snake_case, as OpenTelemetry's semantic conventions).
/// </summary>
public sealed partial class MetricsTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private static readonly string[] TargetReasons = ["disabled", "deactivated", "device_down", "device_gone", "transmit_error", "internal_error", "no_carrier", "replay_buffer_full", "replay_expired"];
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Theory]
    [InlineData(TargetDropReason.Disabled, "disabled")]
    [InlineData(TargetDropReason.Deactivated, "deactivated")]
    [InlineData(TargetDropReason.DeviceDown, "device_down")]
    [InlineData(TargetDropReason.DeviceGone, "device_gone")]
    [InlineData(TargetDropReason.TransmitError, "transmit_error")]
    [InlineData(TargetDropReason.InternalError, "internal_error")]
    [InlineData(TargetDropReason.NoCarrier, "no_carrier")]
    public void A_targets_drop_reason_is_tagged_in_snake_case(TargetDropReason reason, string tag) =>
        NetconsoleLoggerMetrics.ReasonTagValue(reason).Should().Be(tag);

    [Fact]
    public void Every_drop_reason_has_its_own_tag_value_its_name_in_snake_case()
    {
        TargetDropReason[] reasons = Enum.GetValues<TargetDropReason>();

        reasons.Select(NetconsoleLoggerMetrics.ReasonTagValue).Should().Equal(
            reasons.Select(r => UpperLetterInsideAWord().Replace(r.ToString(), "_$1").ToLowerInvariant()),
            "a reason added to TargetDropReason needs its literal in NetconsoleLoggerMetrics.ReasonTagValue");
        reasons.Select(NetconsoleLoggerMetrics.ReasonTagValue).Should().OnlyHaveUniqueItems()
            .And.NotContain(["unknown", "queue_full", "disposed"], "the provider's own reasons and the fallback are not a target's");
        TargetReasons.Should().BeEquivalentTo(reasons.Select(NetconsoleLoggerMetrics.ReasonTagValue), "this file's list is the README's");
    }

    [Fact]
    public void Each_instrument_has_its_unit_and_its_tags_and_counts_per_target()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider();
        provider.CreateLogger("c").LogInformation("one");
        provider.CreateLogger("c").LogInformation("two {Value}", new string('v', 300)); // its value is cut
        provider.Flush(Timeout).Should().BeTrue();

        List<Observed> observed = Collect(provider);

        provider.Meter.Name.Should().Be("Netconsole");
        observed.Select(o => (o.Instrument, o.Unit)).Distinct().Should().BeEquivalentTo(new[]
        {
            ("netconsole.records.sent", "{record}"),
            ("netconsole.datagrams.sent", "{datagram}"),
            ("netconsole.records.dropped", "{record}"),
            ("netconsole.records.replayed", "{record}"),
            ("netconsole.records.buffered", "{record}"),
            ("netconsole.transmit.errors", "{error}"),
            ("netconsole.resumes", "{resume}"),
            ("netconsole.dictionary_values.truncated", "{value}"),
            ("netconsole.queue.length", "{record}"),
            ("netconsole.records.undelivered", "{record}"),
            ("netconsole.targets", "{target}"),
        });
        observed.Where(o => o.Instrument != "netconsole.records.dropped").Should().BeEquivalentTo(new[]
        {
            new Observed("netconsole.records.sent", "{record}", 2, "target=cmdline0"),
            new Observed("netconsole.datagrams.sent", "{datagram}", 2, "target=cmdline0"),
            new Observed("netconsole.records.replayed", "{record}", 0, "target=cmdline0"),
            new Observed("netconsole.records.buffered", "{record}", 0, "target=cmdline0"),
            new Observed("netconsole.transmit.errors", "{error}", 0, "target=cmdline0"),
            new Observed("netconsole.resumes", "{resume}", 0, "target=cmdline0"),
            new Observed("netconsole.dictionary_values.truncated", "{value}", 1, ""),
            new Observed("netconsole.queue.length", "{record}", 0, ""),
            new Observed("netconsole.records.undelivered", "{record}", 0, ""),
            new Observed("netconsole.targets", "{target}", 1, "state=enabled"),
            new Observed("netconsole.targets", "{target}", 0, "state=deactivated"),
            new Observed("netconsole.targets", "{target}", 0, "state=disabled"),
        });
    }

    [Fact]
    public void Targets_are_counted_by_state_and_records_no_target_sent_nor_kept_as_undelivered()
    {
        // cmdline0 on veth0 (sending), cmdline1 disabled by the operator, "missing" on a device
        // that does not exist (deactivated, without a replay buffer: it drops, as the kernel).
        NetconsoleLoggerOptions options = _harness.Options(LoggingHarness.Extended, "@/veth0,6667@192.0.2.2/");
        NetconsoleTargetOptions missing = NetconsoleTargetOptions.Parse("@/veth9,@192.0.2.2/");
        missing.Name = "missing";
        missing.ReplayBufferMaxRecords = 0;
        options.TargetOptions.Add(missing);
        using var provider = new NetconsoleLoggerProvider(options);
        provider.Manager.Disable("cmdline1");
        provider.CreateLogger("c").LogInformation("sent by cmdline0 only");
        provider.Flush(Timeout).Should().BeTrue();
        provider.Manager.Disable("cmdline0");
        provider.CreateLogger("c").LogInformation("sent by none");
        provider.CreateLogger("c").LogInformation("sent by none either");
        provider.Flush(Timeout).Should().BeTrue();

        List<Observed> observed = Collect(provider);

        observed.Where(o => o.Instrument is "netconsole.targets" or "netconsole.records.undelivered").Should().BeEquivalentTo(new[]
        {
            new Observed("netconsole.targets", "{target}", 0, "state=enabled"),
            new Observed("netconsole.targets", "{target}", 1, "state=deactivated"),
            new Observed("netconsole.targets", "{target}", 2, "state=disabled"),
            new Observed("netconsole.records.undelivered", "{record}", 2, ""),
        });
        (provider.GetStatistics().RecordsDelivered, provider.GetStatistics().RecordsUndelivered).Should().Be((1L, 2L));
    }

    [Fact]
    public void Records_a_deactivated_target_keeps_for_replay_are_delivered_and_counted_as_buffered()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider("@/veth9,@192.0.2.2/");
        provider.CreateLogger("c").LogInformation("kept");
        provider.CreateLogger("c").LogInformation("kept too");
        provider.Flush(Timeout).Should().BeTrue();

        Collect(provider).Where(o => o.Instrument is "netconsole.records.buffered" or "netconsole.records.replayed" or "netconsole.records.undelivered").Should().BeEquivalentTo(new[]
        {
            new Observed("netconsole.records.buffered", "{record}", 2, "target=cmdline0"),
            new Observed("netconsole.records.replayed", "{record}", 0, "target=cmdline0"),
            new Observed("netconsole.records.undelivered", "{record}", 0, ""),
        });
    }

    [Fact]
    public void Records_dropped_are_tagged_by_reason_in_snake_case_the_providers_without_a_target_the_targets_with_theirs()
    {
        NetconsoleLoggerOptions options = _harness.Options(LoggingHarness.Extended, "@/veth0,6667@192.0.2.2/"); // two receivers: the same one twice would be left out
        options.MaxQueueLength = 1;
        using var provider = new NetconsoleLoggerProvider(options);
        provider.Manager.Disable("cmdline1");
        ILogger logger = provider.CreateLogger("c");
        _harness.Factory.Hold();
        logger.LogInformation("r0");
        _harness.Factory.SendBlocked.Wait(Timeout).Should().BeTrue("the sender starts sending r0");
        logger.LogInformation("r1");
        logger.LogInformation("r2 finds the queue full");
        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        List<Observed> dropped = Collect(provider).Where(o => o.Instrument == "netconsole.records.dropped").ToList();

        dropped.Should().BeEquivalentTo(
            new[]
            {
                new Observed("netconsole.records.dropped", "{record}", 1, "reason=queue_full"),
                new Observed("netconsole.records.dropped", "{record}", 0, "reason=disposed"),
            }
            .Concat(TargetReasons.Select(r => new Observed("netconsole.records.dropped", "{record}", 0, $"reason={r},target=cmdline0")))
            .Concat(TargetReasons.Select(r => new Observed(
                "netconsole.records.dropped",
                "{record}",
                r == "disabled" ? 3 : 0, // r0, r1 and the drop notice, offered to the disabled target too
                $"reason={r},target=cmdline1"))));
        provider.Manager.Targets[1].GetStatistics().RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(3);
    }

    /// <summary>One collection of the provider's instruments; tags as <c>key=value</c> sorted by key, every value a string.</summary>
    private static List<Observed> Collect(NetconsoleLoggerProvider provider)
    {
        var observed = new List<Observed>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, provider.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => observed.Add(Observe(instrument, value, tags)));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => observed.Add(Observe(instrument, value, tags)));
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }

    private static Observed Observe(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var texts = new List<string>();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            tag.Value.Should().BeOfType<string>("tag {0} of {1} is a string value, not an enum", tag.Key, instrument.Name);
            texts.Add($"{tag.Key}={tag.Value}");
        }

        texts.Sort(StringComparer.Ordinal);
        return new Observed(instrument.Name, instrument.Unit, value, string.Join(',', texts));
    }

    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex UpperLetterInsideAWord();

    private sealed record Observed(string Instrument, string? Unit, long Value, string Tags);
}
