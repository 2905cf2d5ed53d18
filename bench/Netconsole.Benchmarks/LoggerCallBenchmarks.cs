using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Netconsole.Devices;
using Netconsole.Logging;
using Netconsole.Targets;
using NLog.Config;
using NLog.Extensions.Logging;
using NLog.Layouts;
using NLog.Targets;
using NLog.Targets.Wrappers;

namespace Netconsole.Benchmarks;

/// <summary>
/// Cost on the application's thread of one enabled ILogger call, the same call through three
/// providers: Microsoft.Extensions.Logging.Console (the baseline of each category),
/// Netconsole.Logging, and NLog (through NLog.Extensions.Logging) writing UDP datagrams. Each
/// has a bounded queue that drops rather than blocks when full, so no caller ever waits. Only
/// the calling thread is measured; each provider's own thread formats and writes in the background.
/// </summary>
/// <remarks>
/// <para>
/// The netconsole target is bound to a device that does not exist (a manual watcher with no
/// devices), so its sender thread counts the records as dropped instead of injecting them: the
/// benchmark needs no root and no network, and the application thread does the same work either way.
/// </para>
/// <para>
/// NLog (5.5.1: NLog 6 moved NetworkTarget into the NLog.Targets.Network package, which the
/// package source here does not serve) is set up as a user sending logs over the network would:
/// its NetworkTarget with a <c>udp4://</c> address, wrapped in an <see cref="AsyncTargetWrapper"/>
/// whose overflow action is Discard. It sends to the discard port on IPv4 loopback, where nothing
/// listens (loopback only: never any other address).
/// </para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[HideColumns("Error", "StdDev", "Median", "RatioSD")]
public class LoggerCallBenchmarks
{
    /// <summary>The discard port on IPv4 loopback: nothing listens there, and it is never another host.</summary>
    private static readonly IPEndPoint NowhereOnLoopback = new(IPAddress.Loopback, 9);

    private static readonly InvalidOperationException Failure = MakeException();

    private ILoggerFactory _netconsole = null!;
    private ILoggerFactory _watched = null!;
    private ILoggerFactory _console = null!;
    private ILoggerFactory _nlog = null!;
    private NLog.LogFactory _nlogFactory = null!;
    private ILogger _netconsoleLogger = null!;
    private ILogger _watchedLogger = null!;
    private ILogger _consoleLogger = null!;
    private ILogger _nlogLogger = null!;
    private ManualDeviceWatcher _watcher = null!;

    /// <summary>Creates the three logger factories.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _watcher = new ManualDeviceWatcher();
        _netconsole = LoggerFactory.Create(b => b.AddNetconsole(o =>
        {
            o.Targets.Add("+@/nodev0,@2001:db8::2/");
            o.QueueFullMode = NetconsoleQueueFullMode.DropWrite;
            o.ManagerOptions = () => new TargetManagerOptions { Watcher = _watcher };
        }));
        // The same provider with CaptureProcessDeath (issue 21): each record is also written into
        // the watchdog's shared ring on the calling thread. Its watchdog must really run.
        NetconsoleLoggerProvider? watchedProvider = null;
        _watched = LoggerFactory.Create(b => b.AddProvider(watchedProvider = new NetconsoleLoggerProvider(new NetconsoleLoggerOptions
        {
            Targets = { "+@/nodev0,@2001:db8::2/" },
            QueueFullMode = NetconsoleQueueFullMode.DropWrite,
            ManagerOptions = () => new TargetManagerOptions { Watcher = _watcher },
            CaptureProcessDeath = true,
        })));
        if (watchedProvider?.DeathWatch is null)
        {
            throw new InvalidOperationException("CaptureProcessDeath is on but the watchdog did not start: the Watched rows would measure nothing");
        }

        _console = LoggerFactory.Create(b => b.AddConsole(o => o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite)
            .AddSimpleConsole(o => o.SingleLine = true));

        var udp = new NetworkTarget("udp")
        {
            Address = $"udp4://{NowhereOnLoopback}",
            Name = "udp",
            Layout = Layout.FromString("${level:uppercase=true} ${logger} ${message}${onexception:${newline}${exception:format=tostring}}"),
        };
        var async = new AsyncTargetWrapper("async", udp) { OverflowAction = AsyncTargetWrapperOverflowAction.Discard };
        _nlogFactory = new NLog.LogFactory();
        var configuration = new LoggingConfiguration(_nlogFactory);
        configuration.AddRuleForAllLevels(async);
        _nlogFactory.Configuration = configuration;
        _nlog = LoggerFactory.Create(b => b.AddNLog(new NLogProviderOptions(), _ => _nlogFactory));

        _netconsoleLogger = _netconsole.CreateLogger("Shop.Orders");
        _watchedLogger = _watched.CreateLogger("Shop.Orders");
        _consoleLogger = _console.CreateLogger("Shop.Orders");
        _nlogLogger = _nlog.CreateLogger("Shop.Orders");
    }

    /// <summary>Disposes the factories.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _netconsole.Dispose();
        _watched.Dispose();
        _console.Dispose();
        _nlog.Dispose();
        _nlogFactory.Dispose();
        _watcher.Dispose();
    }

    /// <summary>Console: a message with two arguments (baseline).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("TwoArguments")]
    public void Console_TwoArguments() => _consoleLogger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");

    /// <summary>Netconsole: a message with two arguments.</summary>
    [Benchmark]
    [BenchmarkCategory("TwoArguments")]
    public void Netconsole_TwoArguments() => _netconsoleLogger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");

    /// <summary>Netconsole with CaptureProcessDeath: a message with two arguments.</summary>
    [Benchmark]
    [BenchmarkCategory("TwoArguments")]
    public void NetconsoleWatched_TwoArguments() => _watchedLogger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");

    /// <summary>NLog (UDP, asynchronous, discarding): a message with two arguments.</summary>
    [Benchmark]
    [BenchmarkCategory("TwoArguments")]
    public void NLog_TwoArguments() => _nlogLogger.LogInformation("order {OrderId} shipped to {Warehouse}", 4711, "north");

    /// <summary>Console: a message with an exception (baseline of its category).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Exception")]
    public void Console_Exception() => _consoleLogger.LogError(Failure, "payment failed for order {OrderId}", 4711);

    /// <summary>Netconsole: a message with an exception.</summary>
    [Benchmark]
    [BenchmarkCategory("Exception")]
    public void Netconsole_Exception() => _netconsoleLogger.LogError(Failure, "payment failed for order {OrderId}", 4711);

    /// <summary>Netconsole with CaptureProcessDeath: a message with an exception.</summary>
    [Benchmark]
    [BenchmarkCategory("Exception")]
    public void NetconsoleWatched_Exception() => _watchedLogger.LogError(Failure, "payment failed for order {OrderId}", 4711);

    /// <summary>NLog (UDP, asynchronous, discarding): a message with an exception.</summary>
    [Benchmark]
    [BenchmarkCategory("Exception")]
    public void NLog_Exception() => _nlogLogger.LogError(Failure, "payment failed for order {OrderId}", 4711);

    private static InvalidOperationException MakeException()
    {
        try
        {
            throw new InvalidOperationException("the card was declined");
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }
}
