namespace Netconsole.Targets;

/// <summary>A target could not be set up; the message says why.</summary>
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

    /// <summary>
    /// True when no device event may announce the fix (a route or an address that appears later):
    /// the manager's worker then tries again every <see cref="TargetManager.SetupRetryInterval"/>.
    /// </summary>
    public bool RetryLater { get; init; }
}
