using System.Diagnostics.Metrics;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// The provider's metrics, meter <see cref="NetconsoleLoggerProvider.MeterName"/>: observable
/// counters over the targets' statistics (tag <c>target</c>) and the provider's own drops, and
/// the records queued. Read only when a listener collects.
/// </summary>
/// <remarks>
/// Tag values follow the OpenTelemetry semantic conventions: <c>reason</c> values are snake_case
/// (<see cref="ReasonTagValue"/>); <c>target</c> is the target's name as the user gave it.
/// </remarks>
internal sealed class NetconsoleLoggerMetrics : IDisposable
{
    private readonly TargetManager _manager;
    private readonly NetconsoleLoggerProcessor _processor;

    public NetconsoleLoggerMetrics(TargetManager manager, NetconsoleLoggerProcessor processor)
    {
        _manager = manager;
        _processor = processor;
        Meter = new Meter(NetconsoleLoggerProvider.MeterName);
        Meter.CreateObservableCounter("netconsole.records.sent", () => PerTarget(static s => s.RecordsSent), "{record}", "Records sent, per target.");
        Meter.CreateObservableCounter("netconsole.datagrams.sent", () => PerTarget(static s => s.DatagramsSent), "{datagram}", "Datagrams (fragments) sent, per target.");
        Meter.CreateObservableCounter(
            "netconsole.records.dropped",
            Dropped,
            "{record}",
            "Records dropped, by reason: queue_full and disposed by the provider (no target tag); disabled, deactivated, device_down, device_gone, transmit_error, internal_error, no_carrier, replay_buffer_full and replay_expired per target.");
        Meter.CreateObservableCounter("netconsole.records.replayed", () => PerTarget(static s => s.RecordsReplayed), "{record}", "Records sent from the replay buffer after an outage, per target.");
        Meter.CreateObservableUpDownCounter("netconsole.records.buffered", () => PerTarget(static s => s.RecordsBuffered), "{record}", "Records waiting in the replay buffer, per target.");
        Meter.CreateObservableCounter("netconsole.transmit.errors", () => PerTarget(static s => s.TransmitErrors), "{error}", "Transmit errors, per target.");
        Meter.CreateObservableCounter("netconsole.resumes", () => PerTarget(static s => s.Resumes), "{resume}", "Automatic target resumes, per target.");
        Meter.CreateObservableCounter(
            "netconsole.dictionary_values.truncated",
            () => _processor.GetStatistics().DictionaryValuesTruncated,
            "{value}",
            "Dictionary values cut to the provider's MaxDictionaryValueBytes.");
        Meter.CreateObservableGauge("netconsole.queue.length", () => _processor.RecordsQueued, "{record}", "Records waiting for the sender thread.");
        Meter.CreateObservableCounter(
            "netconsole.records.undelivered",
            () => _processor.GetStatistics().RecordsUndelivered,
            "{record}",
            "Records handed to the targets that no target sent (none enabled, or each dropped it).");
        Meter.CreateObservableUpDownCounter(
            "netconsole.targets",
            TargetsByState,
            "{target}",
            "Targets by state: enabled (sending), deactivated (waiting for its device, or its setup failed) and disabled.");
    }

    /// <summary>The meter (tests tell providers apart by it).</summary>
    public Meter Meter { get; }

    /// <summary>
    /// The <c>reason</c> tag value of a target's drop reason: snake_case, as the provider's own
    /// <c>queue_full</c> and <c>disposed</c>. String literals, so an observation allocates nothing
    /// for it (the enum's ToString boxes the value, and its names are PascalCase).
    /// </summary>
    // A test maps every TargetDropReason and compares with its name in snake_case, so a new
    // reason cannot reach "unknown" (kept only so that collecting metrics never throws).
    internal static string ReasonTagValue(TargetDropReason reason) => reason switch
    {
        TargetDropReason.Disabled => "disabled",
        TargetDropReason.Deactivated => "deactivated",
        TargetDropReason.DeviceDown => "device_down",
        TargetDropReason.DeviceGone => "device_gone",
        TargetDropReason.TransmitError => "transmit_error",
        TargetDropReason.InternalError => "internal_error",
        TargetDropReason.NoCarrier => "no_carrier",
        TargetDropReason.ReplayBufferFull => "replay_buffer_full",
        TargetDropReason.ReplayExpired => "replay_expired",
        _ => "unknown",
    };

    public void Dispose() => Meter.Dispose();

    private List<Measurement<long>> PerTarget(Func<TargetStatistics, long> value)
    {
        var measurements = new List<Measurement<long>>();
        foreach (NetconsoleTarget target in _manager.Targets)
        {
            measurements.Add(new(value(target.GetStatistics()), new KeyValuePair<string, object?>("target", target.Name)));
        }

        return measurements;
    }

    // Every state, 0 included, so a dashboard sees "0 enabled" rather than no series.
    private Measurement<int>[] TargetsByState()
    {
        int enabled = 0;
        int deactivated = 0;
        int disabled = 0;
        foreach (NetconsoleTarget target in _manager.Targets)
        {
            switch (target.State)
            {
                case TargetState.Enabled: enabled++; break;
                case TargetState.Deactivated: deactivated++; break;
                default: disabled++; break;
            }
        }

        return
        [
            new(enabled, new KeyValuePair<string, object?>("state", "enabled")),
            new(deactivated, new KeyValuePair<string, object?>("state", "deactivated")),
            new(disabled, new KeyValuePair<string, object?>("state", "disabled")),
        ];
    }

    private List<Measurement<long>> Dropped()
    {
        NetconsoleLoggerStatistics statistics = _processor.GetStatistics();
        var measurements = new List<Measurement<long>>
        {
            new(statistics.RecordsDroppedQueueFull, new KeyValuePair<string, object?>("reason", "queue_full")),
            new(statistics.RecordsDroppedDisposed, new KeyValuePair<string, object?>("reason", "disposed")),
        };
        foreach (NetconsoleTarget target in _manager.Targets)
        {
            foreach (KeyValuePair<TargetDropReason, long> drop in target.GetStatistics().RecordsDroppedByReason)
            {
                measurements.Add(new(drop.Value, new("reason", ReasonTagValue(drop.Key)), new("target", target.Name)));
            }
        }

        return measurements;
    }
}
