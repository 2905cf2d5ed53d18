using System.Diagnostics.Metrics;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// Metrics, meter <c>Netconsole</c>: observable counters over the targets' statistics (tag
/// <c>target</c>) and the provider's own drops, and the queue length.
/// </summary>
public sealed partial class NetconsoleLoggerProvider
{
    /// <summary>The name of the meter the provider publishes its metrics on.</summary>
    public const string MeterName = "Netconsole";

    private readonly Meter _meter;

    /// <summary>This provider's meter (tests tell providers apart by it).</summary>
    internal Meter Meter => _meter;

    private Meter CreateMeter()
    {
        var meter = new Meter(MeterName);
        meter.CreateObservableCounter("netconsole.records.sent", () => PerTarget(static s => s.RecordsSent), "{record}", "Records sent, per target.");
        meter.CreateObservableCounter("netconsole.datagrams.sent", () => PerTarget(static s => s.DatagramsSent), "{datagram}", "Datagrams (fragments) sent, per target.");
        meter.CreateObservableCounter("netconsole.records.dropped", Dropped, "{record}", "Records dropped, by reason (queue_full and disposed by the provider; the targets' drop reasons per target).");
        meter.CreateObservableCounter("netconsole.transmit.errors", () => PerTarget(static s => s.TransmitErrors), "{error}", "Transmit errors, per target.");
        meter.CreateObservableCounter("netconsole.resumes", () => PerTarget(static s => s.Resumes), "{resume}", "Automatic target resumes, per target.");
        meter.CreateObservableGauge("netconsole.queue.length", () => QueueLength, "{record}", "Records waiting for the sender thread.");
        return meter;
    }

    private List<Measurement<long>> PerTarget(Func<TargetStatistics, long> value)
    {
        var measurements = new List<Measurement<long>>();
        foreach (NetconsoleTarget target in Manager.Targets)
        {
            measurements.Add(new(value(target.GetStatistics()), new KeyValuePair<string, object?>("target", target.Name)));
        }

        return measurements;
    }

    private List<Measurement<long>> Dropped()
    {
        NetconsoleLoggerStatistics statistics = GetStatistics();
        var measurements = new List<Measurement<long>>
        {
            new(statistics.DroppedQueueFull, new KeyValuePair<string, object?>("reason", "queue_full")),
            new(statistics.DroppedDisposed, new KeyValuePair<string, object?>("reason", "disposed")),
        };
        foreach (NetconsoleTarget target in Manager.Targets)
        {
            foreach (KeyValuePair<TargetDropReason, long> drop in target.GetStatistics().RecordsDroppedByReason)
            {
                measurements.Add(new(drop.Value, new("reason", drop.Key.ToString()), new("target", target.Name)));
            }
        }

        return measurements;
    }
}
