using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// A health check over the provider's targets: <see cref="HealthStatus.Healthy"/> when every
/// target is enabled (sending), <see cref="HealthStatus.Degraded"/> when some are,
/// the registration's failure status (<see cref="HealthStatus.Unhealthy"/> by default) when none
/// is or there is no target. The description names each target that is not sending and why; the
/// data holds every target's state and reason, and the provider's statistics.
/// </summary>
/// <example>
/// With <c>AddNetconsole()</c> in the logging builder, one call registers it:
/// <code>
/// builder.Services.AddHealthChecks().AddCheck&lt;NetconsoleHealthCheck&gt;("netconsole");
/// </code>
/// </example>
public sealed class NetconsoleHealthCheck : IHealthCheck
{
    private readonly NetconsoleLoggerProvider _provider;

    /// <summary>Creates the check over <paramref name="provider"/> (dependency injection gives the provider <c>AddNetconsole()</c> registered).</summary>
    /// <param name="provider">The provider whose targets are checked.</param>
    public NetconsoleHealthCheck(NetconsoleLoggerProvider provider) =>
        _provider = provider ?? throw new ArgumentNullException(nameof(provider));

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        HealthStatus failure = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        IReadOnlyList<NetconsoleTarget> targets = _provider.Manager.Targets;
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var notSending = new List<string>();
        int enabled = 0;
        foreach (NetconsoleTarget target in targets)
        {
            TargetState state = target.State;
            string reason = target.StateReason;
            data[target.Name] = string.Create(CultureInfo.InvariantCulture, $"{state}: {reason}");
            if (state == TargetState.Enabled)
            {
                enabled++;
            }
            else
            {
                notSending.Add(string.Create(CultureInfo.InvariantCulture, $"{target.Name} is {state.ToString().ToLowerInvariant()}: {reason}"));
            }
        }

        data["statistics"] = _provider.GetStatistics().ToString();
        string summary = targets.Count == 0
            ? "No netconsole target is configured: no record is sent."
            : string.Create(CultureInfo.InvariantCulture, $"{enabled} of {targets.Count} netconsole targets sending.");
        string description = notSending.Count == 0 ? summary : summary + " " + string.Join("; ", notSending) + ".";
        HealthStatus status = targets.Count > 0 && enabled == targets.Count
            ? HealthStatus.Healthy
            : enabled > 0 ? HealthStatus.Degraded : failure;
        return Task.FromResult(new HealthCheckResult(status, description, null, data));
    }
}
