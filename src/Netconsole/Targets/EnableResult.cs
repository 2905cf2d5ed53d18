namespace Netconsole.Targets;

/// <summary>The outcome of <see cref="TargetManager.Enable"/>: the target's state afterwards and why.</summary>
public sealed class EnableResult
{
    internal EnableResult(TargetState state, TargetStateCause cause, string reason)
    {
        State = state;
        Cause = cause;
        Reason = reason;
    }

    /// <summary>
    /// <see cref="TargetState.Enabled"/> when the target is sending, or
    /// <see cref="TargetState.Deactivated"/> when setting it up failed; it then resumes by itself
    /// when a matching device appears.
    /// </summary>
    public TargetState State { get; }

    /// <summary>True when the target is enabled.</summary>
    public bool IsEnabled => State == TargetState.Enabled;

    /// <summary>Why, for code: <see cref="TargetStateCause.Enabled"/>, or what made the setup fail (<see cref="TargetStateCause.NoSuchDevice"/>, <see cref="TargetStateCause.PermissionDenied"/> ...).</summary>
    public TargetStateCause Cause { get; }

    /// <summary>Why, in words (for example <c>enabled on device veth0</c> or <c>setup failed: no device named veth0</c>).</summary>
    public string Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{State} ({Reason})";
}
