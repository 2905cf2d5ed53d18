using System.Net;
using Microsoft.Extensions.Logging;
using NLog;
using NLog.Config;
using NLog.Extensions.Logging;
using NLog.Targets;
using NLog.Targets.Wrappers;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// NLog as an application would set it up behind ILogger to log over UDP: NLog.Extensions.Logging's
/// provider (default options) on its own LogFactory, one rule for every level to an
/// AsyncTargetWrapper (default queue limit 10 000, batch 200) around NLog's own NetworkTarget
/// with a <c>udp4://</c> address and its default layout (in Block mode its own send queue blocks
/// too; in Discard mode it keeps its default, discarding silently). Drops of the wrapper (Discard mode)
/// are counted through its LogEventDropped event; NetworkTarget itself reports send errors only
/// to NLog's internal log, so what it lost shows as loss at the receiver.
/// </summary>
internal sealed class NLogPipeline : IDisposable
{
    private readonly LogFactory _factory;
    private readonly NLogLoggerProvider _provider;
    private readonly ILoggerFactory _loggers;
    private long _dropped;

    public NLogPipeline(IPEndPoint remote, AsyncTargetWrapperOverflowAction overflow)
    {
        _factory = new LogFactory();
        // NetworkTarget queues datagrams for its own asynchronous sends and by default discards
        // silently when that queue is full (measured: ~70% lost at the receiver at full speed):
        // in Block mode it blocks there too, as a user wanting every record would set it.
        var udp = new NetworkTarget("udp") { Address = $"udp4://{remote}" };
        if (overflow == AsyncTargetWrapperOverflowAction.Block)
        {
            udp.OnQueueOverflow = NetworkTargetQueueOverflowAction.Block;
        }

        var async = new AsyncTargetWrapper("async", udp) { OverflowAction = overflow };
        async.LogEventDropped += (_, _) => Interlocked.Increment(ref _dropped);
        var configuration = new LoggingConfiguration(_factory);
        configuration.AddRuleForAllLevels(async);
        _factory.Configuration = configuration;
        _provider = new NLogLoggerProvider(new NLogProviderOptions(), _factory);
        _loggers = LoggerFactory.Create(builder => builder.AddProvider(_provider));
        Logger = _loggers.CreateLogger("Shop.Orders");
    }

    public Microsoft.Extensions.Logging.ILogger Logger { get; }

    /// <summary>Events the async wrapper discarded because its queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Waits until the async wrapper and the network target have written everything logged so far.</summary>
    public void Flush(TimeSpan limit) => _factory.Flush(limit);

    public void Dispose()
    {
        _loggers.Dispose();
        _provider.Dispose();
        _factory.Dispose();
    }
}
