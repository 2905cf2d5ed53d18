namespace Netconsole.Targets;

/// <summary>A target changed state: what it was, what it is, and why.</summary>
public sealed class TargetStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="target">The target.</param>
    /// <param name="oldState">The state before the change.</param>
    /// <param name="newState">The state after the change.</param>
    /// <param name="reason">Why, in words (for example <c>device veth0 unregistered</c>).</param>
    public TargetStateChangedEventArgs(NetconsoleTarget target, TargetState oldState, TargetState newState, string reason)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(reason);
        Target = target;
        OldState = oldState;
        NewState = newState;
        Reason = reason;
    }

    /// <summary>The target.</summary>
    public NetconsoleTarget Target { get; }

    /// <summary>The state before the change.</summary>
    public TargetState OldState { get; }

    /// <summary>The state after the change.</summary>
    public TargetState NewState { get; }

    /// <summary>Why, in words (for example <c>device veth0 unregistered</c> or <c>resumed on device veth0</c>).</summary>
    public string Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Target.Name}: {OldState} -> {NewState} ({Reason})";
}
