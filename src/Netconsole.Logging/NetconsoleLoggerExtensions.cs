using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Configuration;
using Microsoft.Extensions.Options;
using Netconsole.Logging;

namespace Microsoft.Extensions.Logging;

/// <summary>Adds the netconsole logger provider to a logging builder.</summary>
public static class NetconsoleLoggerExtensions
{
    /// <summary>
    /// Adds the netconsole provider (alias <c>Netconsole</c>), configured from the
    /// <c>Logging:Netconsole</c> section (targets, facility, queue, crash reporting) with live reload.
    /// The provider is a singleton service of its own: inject <see cref="NetconsoleLoggerProvider"/>
    /// to flush, send at once, read statistics or manage targets. Calling it again adds nothing more.
    /// </summary>
    /// <param name="builder">The logging builder.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// <para>
    /// The section is bound by hand (no reflection binder), at startup and on reload only. An
    /// invalid value makes creating the provider fail with a <see cref="Netconsole.Targets.NetconsoleConfigurationException"/>
    /// naming the key (for example <c>Logging:Netconsole:Targets:0</c>); an invalid reload is reported and ignored.
    /// </para>
    /// <para>
    /// What the provider cannot do is reported, not silent: a target that cannot send (and why),
    /// an unknown key, a duplicate target, a reload that cannot take effect go to the application's
    /// other providers under the category <c>Netconsole.Diagnostics</c> (never into netconsole), to
    /// standard error when no other provider shows them
    /// (<see cref="NetconsoleLoggerOptions.DiagnosticsToStandardError"/>), and to the EventSource
    /// <c>Netconsole-Logging</c>. <see cref="NetconsoleHealthCheck"/> reports the targets' states.
    /// </para>
    /// <para>
    /// The <see cref="ILoggerProvider"/> the <see cref="ILoggerFactory"/> uses is that same
    /// instance, owned by the container: disposing the container drains the queue and disposes
    /// the provider, once (the <see cref="ILoggerFactory"/> does not dispose it).
    /// </para>
    /// </remarks>
    /// <example>
    /// <code>
    /// services.AddLogging(logging => logging.AddNetconsole());
    /// // ...
    /// public sealed class Shutdown(NetconsoleLoggerProvider netconsole)
    /// {
    ///     public void Stopping()
    ///     {
    ///         netconsole.Flush(TimeSpan.FromSeconds(2));
    ///         Console.WriteLine(netconsole.GetStatistics());
    ///     }
    /// }
    /// </code>
    /// or, without a constructor: <c>serviceProvider.GetRequiredService&lt;NetconsoleLoggerProvider&gt;()</c>.
    /// </example>
    public static ILoggingBuilder AddNetconsole(this ILoggingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddConfiguration();

        // One instance, two service types: the ILoggerProvider registration forwards to the
        // singleton, so what the LoggerFactory logs through is what the application injects. A
        // factory, not type activation: the provider has two one-argument constructors.
        builder.Services.TryAddSingleton(static services => new NetconsoleLoggerProvider(
            services.GetRequiredService<IOptionsMonitor<NetconsoleLoggerOptions>>(),
            () => services.GetService<ILoggerFactory>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, NetconsoleLoggerProvider>(static services => services.GetRequiredService<NetconsoleLoggerProvider>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<NetconsoleLoggerOptions>, NetconsoleLoggerConfigureOptions>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<NetconsoleLoggerOptions>, LoggerProviderOptionsChangeTokenSource<NetconsoleLoggerOptions, NetconsoleLoggerProvider>>());
        return builder;
    }

    /// <summary>As <see cref="AddNetconsole(ILoggingBuilder)"/>, then applies <paramref name="configure"/> after the configuration section.</summary>
    /// <param name="builder">The logging builder.</param>
    /// <param name="configure">Sets options (targets, facility, queue, ...); runs on every reload too.</param>
    /// <returns>The builder.</returns>
    public static ILoggingBuilder AddNetconsole(this ILoggingBuilder builder, Action<NetconsoleLoggerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddNetconsole();
        builder.Services.Configure(configure);
        return builder;
    }
}
