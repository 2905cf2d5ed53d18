using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;

namespace Netconsole.Demo;

/// <summary>
/// ILogger set up the way an application does it (services.AddLogging(b => b.AddNetconsole(...))),
/// keeping hold of the provider so the demo can flush it and read its targets' statistics.
/// </summary>
internal sealed class LoggingHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private LoggingHost(ServiceProvider services)
    {
        _services = services;
        Factory = services.GetRequiredService<ILoggerFactory>();
        Provider = services.GetRequiredService<NetconsoleLoggerProvider>();
    }

    public ILoggerFactory Factory { get; }

    public NetconsoleLoggerProvider Provider { get; }

    /// <summary>The provider's first (in the demo: only) target.</summary>
    public NetconsoleTarget Target => Provider.Manager.Targets[0];

    public static LoggingHost Create(Action<NetconsoleLoggerOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddNetconsole(configure));
        ServiceProvider provider = services.BuildServiceProvider();
        try
        {
            return new LoggingHost(provider);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the provider's sender has handed every queued record to the targets.</summary>
    public void Flush()
    {
        if (!Provider.Flush(TimeSpan.FromSeconds(5)))
        {
            throw new TimeoutException("The netconsole provider did not flush its queue within 5 s.");
        }
    }

    /// <summary>Waits for <paramref name="target"/> to reach <paramref name="state"/>.</summary>
    /// <returns>Whether it did within the timeout.</returns>
    public static bool WaitFor(NetconsoleTarget target, TargetState state, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (target.State != state)
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(5);
        }

        return true;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
