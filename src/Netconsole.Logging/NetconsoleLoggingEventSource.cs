using System.Diagnostics.Tracing;

namespace Netconsole.Logging;

/// <summary>
/// The provider's diagnostics as an EventSource named <c>Netconsole-Logging</c>, for
/// <c>dotnet-trace collect --providers Netconsole-Logging</c>, <c>dotnet-monitor</c> or an
/// in-process <see cref="EventListener"/>: the same reports as the <c>Netconsole.Diagnostics</c>
/// logging category, with the same event ids, written whether or not any logger shows them.
/// </summary>
[EventSource(Name = SourceName)]
internal sealed class NetconsoleLoggingEventSource : EventSource
{
    internal const string SourceName = "Netconsole-Logging";

    public static readonly NetconsoleLoggingEventSource Log = new();

    private NetconsoleLoggingEventSource()
    {
    }

    /// <summary>A target started or resumed sending.</summary>
    [Event(NetconsoleDiagnostics.TargetEnabledId, Level = EventLevel.Informational, Message = "Target {0} ({1}) is sending: {3}")]
    public void TargetEnabled(string target, string spec, string cause, string reason) => WriteEvent(NetconsoleDiagnostics.TargetEnabledId, target, spec, cause, reason);

    /// <summary>A target stopped sending and resumes by itself when the cause goes away (its device comes back or up, a route appears).</summary>
    [Event(NetconsoleDiagnostics.TargetDeactivatedId, Level = EventLevel.Warning, Message = "Target {0} ({1}) is not sending: {3}")]
    public void TargetDeactivated(string target, string spec, string cause, string reason) => WriteEvent(NetconsoleDiagnostics.TargetDeactivatedId, target, spec, cause, reason);

    /// <summary>A target could not be set up for a cause that does not go away by itself (permission, libpcap missing, not Ethernet, transport refused).</summary>
    [Event(NetconsoleDiagnostics.TargetSetupFailedId, Level = EventLevel.Error, Message = "Target {0} ({1}) is not sending: {3}")]
    public void TargetSetupFailed(string target, string spec, string cause, string reason) => WriteEvent(NetconsoleDiagnostics.TargetSetupFailedId, target, spec, cause, reason);

    /// <summary>A target was disabled (by the operator, or removed).</summary>
    [Event(NetconsoleDiagnostics.TargetDisabledId, Level = EventLevel.Informational, Message = "Target {0} ({1}) is disabled: {3}")]
    public void TargetDisabled(string target, string spec, string cause, string reason) => WriteEvent(NetconsoleDiagnostics.TargetDisabledId, target, spec, cause, reason);

    /// <summary>A configuration problem that did not stop the provider (an unknown key, a duplicate target, no target, a reload that cannot take effect).</summary>
    [Event(NetconsoleDiagnostics.ConfigurationWarningId, Level = EventLevel.Warning, Message = "{0}")]
    public void ConfigurationWarning(string message) => WriteEvent(NetconsoleDiagnostics.ConfigurationWarningId, message);

    /// <summary>A reloaded configuration was invalid and was not applied.</summary>
    [Event(NetconsoleDiagnostics.ConfigurationRejectedId, Level = EventLevel.Error, Message = "{0}")]
    public void ConfigurationRejected(string message) => WriteEvent(NetconsoleDiagnostics.ConfigurationRejectedId, message);

    /// <summary>Disposal stopped waiting at its time limit for targets whose transport was still open or being opened; they are closed when the call holding them up returns.</summary>
    [Event(NetconsoleDiagnostics.DisposalIncompleteId, Level = EventLevel.Warning, Message = "{0}")]
    public void DisposalIncomplete(string message) => WriteEvent(NetconsoleDiagnostics.DisposalIncompleteId, message);

    /// <summary><see cref="NetconsoleLoggerOptions.CaptureProcessDeath"/> is on and its watchdog could not be started.</summary>
    /// <param name="message">Why, in the operator's words.</param>
    [Event(NetconsoleDiagnostics.WatchdogNotStartedId, Level = EventLevel.Warning, Message = "{0}")]
    public void WatchdogNotStarted(string message) => WriteEvent(NetconsoleDiagnostics.WatchdogNotStartedId, message);
}
