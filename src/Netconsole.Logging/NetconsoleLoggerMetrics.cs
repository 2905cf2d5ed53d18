using System.Diagnostics.Metrics;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// The provider's metrics, meter <see cref="NetconsoleLoggerProvider.MeterName"/>: observable
/// counters over the targets' statistics (tag <c>target</c>) and the provider's own drops, and
/// the records queued. Read only when a listener collects.
/// </summary>
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
        Meter.CreateObservableCounter("netconsole.records.dropped", Dropped, "{record}", "Records dropped, by reason (queue_full and disposed by the provider; the targets' drop reasons per target).");
        Meter.CreateObservableCounter("netconsole.transmit.errors", () => PerTarget(static s => s.TransmitErrors), "{error}", "Transmit errors, per target.");
        Meter.CreateObservableCounter("netconsole.resumes", () => PerTarget(static s => s.Resumes), "{resume}", "Automatic target resumes, per target.");
        Meter.CreateObservableGauge("netconsole.queue.length", () => _processor.RecordsQueued, "{record}", "Records waiting for the sender thread.");
    }

    /// <summary>The meter (tests tell providers apart by it).</summary>
    public Meter Meter { get; }

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
                measurements.Add(new(drop.Value, new("reason", drop.Key.ToString()), new("target", target.Name)));
            }
        }

        return measurements;
    }
}
