// netconsole-aot-demo TARGET: the packages under Native AOT. It logs one record, with a
// structured value and a scope, through the ILogger provider to TARGET (the kernel's target
// syntax), disposes the logging (which sends what is still queued), prints the statistics to
// stderr and exits 0 when the target sent the record. As root (frames go out through libpcap):
//
//   dotnet publish samples/Netconsole.AotDemo -c Release -r linux-x64 -o /tmp/aot-demo
//   sudo /tmp/aot-demo/netconsole-aot-demo "+@/lo,@::1/"   (receive: netconsole-listen --address ::1)
//
// tests/Netconsole.Tests/Integration/NativeAotTests.cs publishes it and checks what arrives.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Targets;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: netconsole-aot-demo TARGET   (for example: netconsole-aot-demo \"+@/lo,@::1/\")");
    return 2;
}

// Logging set up as an application does it; the services are kept only to read the provider's
// statistics once it is disposed.
ServiceProvider services = new ServiceCollection()
    .AddLogging(logging => logging.AddNetconsole(options => options.Targets.Add(args[0])))
    .BuildServiceProvider();
NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
NetconsoleTarget target = provider.Manager.Targets[0];

ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Netconsole.AotDemo");
using (Log.Request(logger, 42))
{
    Log.OrderShipped(logger, 4711);
}

// Disposing the services disposes the logger factory and the provider, which drains its queue.
services.Dispose();
Console.Error.WriteLine($"netconsole-aot-demo: provider: {provider.GetStatistics()}");
Console.Error.WriteLine($"netconsole-aot-demo: target {target.Name}: {target.GetStatistics()}");
return target.GetStatistics().RecordsSent == 1 ? 0 : 1;

// Source-generated logging: no reflection, and the template is parsed at build time.
internal static partial class Log
{
    private static readonly Func<ILogger, int, IDisposable?> RequestScope = LoggerMessage.DefineScope<int>("request {RequestId}");

    public static IDisposable? Request(ILogger logger, int requestId) => RequestScope(logger, requestId);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "order {OrderId} shipped from a Native AOT build")]
    public static partial void OrderShipped(ILogger logger, int orderId);
}
