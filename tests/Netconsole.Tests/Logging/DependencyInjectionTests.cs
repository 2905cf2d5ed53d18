using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;

namespace Netconsole.Tests.Logging;

/// <summary>
/// AddNetconsole registers the provider as a singleton of its own that the ILoggerProvider
/// registration forwards to: injectable, added once, and disposed (its queue drained) once, by the container.
/// </summary>
public sealed class DependencyInjectionTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    /// <summary>The provider with one extended target, through AddNetconsole, and the application's own services.</summary>
    private ServiceProvider Services(Action<IServiceCollection>? services = null, Action<NetconsoleLoggerOptions>? options = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.AddNetconsole(o =>
        {
            o.ManagerOptions = _harness.ManagerOptions;
            o.Targets.Add(LoggingHarness.Extended);
            options?.Invoke(o);
        }));
        services?.Invoke(collection);

        // As a host builds its container in development: every registration checked on build.
        return collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void The_injected_provider_is_the_one_the_LoggerFactory_logs_through()
    {
        using ServiceProvider services = Services();

        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
        services.GetRequiredService<ILoggerFactory>().CreateLogger("c").LogInformation("through the factory");
        provider.Flush(Timeout).Should().BeTrue();

        services.GetServices<ILoggerProvider>().OfType<NetconsoleLoggerProvider>().Should().ContainSingle().Which.Should().BeSameAs(provider);
        provider.GetStatistics().RecordsDelivered.Should().Be(1);
        _harness.Texts().Should().Equal("through the factory");
    }

    [Fact]
    public void Calling_AddNetconsole_twice_registers_one_provider_the_injectable_one()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddLogging(b => b.AddNetconsole().AddNetconsole(o => o.ManagerOptions = _harness.ManagerOptions))
            .BuildServiceProvider();

        services.GetServices<ILoggerProvider>().OfType<NetconsoleLoggerProvider>().Should().ContainSingle()
            .Which.Should().BeSameAs(services.GetRequiredService<NetconsoleLoggerProvider>());
        services.GetServices<NetconsoleLoggerProvider>().Should().ContainSingle();
    }

    [Fact]
    public void A_class_of_the_application_gets_the_provider_through_its_constructor()
    {
        using ServiceProvider services = Services(s => s.AddSingleton<ShutdownReport>());

        ShutdownReport report = services.GetRequiredService<ShutdownReport>();
        services.GetRequiredService<ILogger<ShutdownReport>>().LogWarning("last words");

        report.Flushed().Should().StartWith("enqueued 1, delivered 1, undelivered 0, dropped 0");
        _harness.Texts().Should().Equal("last words");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Disposing_the_container_drains_the_queue_and_disposes_the_provider_once(bool disposeAsync)
    {
        ServiceProvider services = Services();
        NetconsoleLoggerProvider provider = services.GetRequiredService<NetconsoleLoggerProvider>();
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("c");
        _harness.Factory.Hold();
        logger.LogInformation("r0");
        _harness.Factory.SendBlocked.Wait(Timeout).Should().BeTrue("the sender starts sending r0");
        logger.LogInformation("r1");
        logger.LogInformation("r2");

        // The container disposes the provider through both registrations (the LoggerFactory disposes
        // no provider it was given): the first drains the queue, the second does nothing.
        Task disposal = disposeAsync ? services.DisposeAsync().AsTask() : Task.Run(services.Dispose);
        LoggingHarness.WaitUntil(() => !provider.Processor.IsAccepting).Should().BeTrue("the container's disposal stops the provider accepting records");
        _harness.Factory.Release();
        (await Task.WhenAny(disposal, Task.Delay(Timeout))).Should().BeSameAs(disposal, "the drain ends once the sender goes on");
        await disposal;

        _harness.Texts().Should().Equal("r0", "r1", "r2");
        logger.LogInformation("after the container");
        string after = provider.GetStatistics().ToString();
        after.Should().Be("enqueued 3, delivered 3, undelivered 0, dropped 1 (queue full 0, disposed 1), queued 0, errors 0, dictionary values truncated 0");
        ((Action)(() => provider.Manager.Enable("cmdline0"))).Should().Throw<ObjectDisposedException>("the provider disposed its targets' manager");
        provider.Dispose();
        await provider.DisposeAsync();
        provider.GetStatistics().ToString().Should().Be(after, "disposing again drains nothing and counts nothing");
    }

    private sealed class ShutdownReport(NetconsoleLoggerProvider netconsole)
    {
        public string Flushed()
        {
            netconsole.Flush(Timeout);
            return netconsole.GetStatistics().ToString();
        }
    }
}
