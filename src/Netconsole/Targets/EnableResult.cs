namespace Netconsole.Targets;

/// <summary>The outcome of <see cref="TargetManager.Enable"/>: the target's state afterwards and why.</summary>
public sealed class EnableResult
{
    internal EnableResult(TargetState state, string reason)
    {
        State = state;
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

    /// <summary>Why, in words (for example <c>enabled on device veth0</c> or <c>setup failed: no device named veth0</c>).</summary>
    public string Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{State} ({Reason})";
}
