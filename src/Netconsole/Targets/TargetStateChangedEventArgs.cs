namespace Netconsole.Targets;

/// <summary>A target changed state: what it was, what it is, and why.</summary>
public sealed class TargetStateChangedEventArgs : EventArgs
{
    internal TargetStateChangedEventArgs(NetconsoleTarget target, TargetState oldState, TargetState newState, TargetStateCause cause, string reason)
    {
        Target = target;
        OldState = oldState;
        NewState = newState;
        Cause = cause;
        Reason = reason;
    }

    /// <summary>The target.</summary>
    public NetconsoleTarget Target { get; }

    /// <summary>The state before the change.</summary>
    public TargetState OldState { get; }

    /// <summary>The state after the change.</summary>
    public TargetState NewState { get; }

    /// <summary>Why, for code (the target's <see cref="NetconsoleTarget.StateCause"/> after the change).</summary>
    public TargetStateCause Cause { get; }

    /// <summary>Why, in words (for example <c>device veth0 unregistered</c> or <c>resumed on device veth0</c>).</summary>
    public string Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Target.Name}: {OldState} -> {NewState} ({Reason})";
}
