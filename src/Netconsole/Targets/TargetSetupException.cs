using Netconsole.Transport;

namespace Netconsole.Targets;

/// <summary>A target could not be set up; the message says why, <see cref="Cause"/> says it for code.</summary>
internal sealed class TargetSetupException : Exception
{
    public TargetSetupException()
    {
    }

    public TargetSetupException(string message)
        : base(message)
    {
    }

    public TargetSetupException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public TargetSetupException(TargetStateCause cause, string message)
        : base(message)
    {
        Cause = cause;
    }

    /// <summary>Why, for code (<see cref="NetconsoleTarget.StateCause"/>).</summary>
    public TargetStateCause Cause { get; } = TargetStateCause.TransportError;

    /// <summary>
    /// True when no device event may announce the fix (a route or an address that appears later):
    /// the manager's worker then tries again every <see cref="TargetManager.SetupRetryInterval"/>.
    /// </summary>
    public bool RetryLater { get; init; }

    /// <summary>The cause of a failed setup: the setup's own, or the transport error's.</summary>
    public static TargetStateCause CauseOf(Exception e) => e switch
    {
        TargetSetupException setup => setup.Cause,
        FrameTransportException { Error: FrameTransportError.LibpcapMissing } => TargetStateCause.LibpcapMissing,
        FrameTransportException { Error: FrameTransportError.PermissionDenied } => TargetStateCause.PermissionDenied,
        FrameTransportException { Error: FrameTransportError.NoSuchDevice } => TargetStateCause.NoSuchDevice,
        FrameTransportException { Error: FrameTransportError.DeviceDown } => TargetStateCause.DeviceDown,
        FrameTransportException { Error: FrameTransportError.NotEthernet } => TargetStateCause.NotEthernet,
        _ => TargetStateCause.TransportError,
    };
}
