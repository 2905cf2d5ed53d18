namespace Netconsole.Targets;

/// <summary>Where a <see cref="NetconsoleTarget"/> stands, as the kernel's netconsole target states.</summary>
public enum TargetState
{
    /// <summary>Not sending: never enabled, or disabled by the operator. Only the operator enables it again.</summary>
    Disabled = 0,

    /// <summary>Sending: its device is open and every record sent through the manager goes out on it.</summary>
    Enabled = 1,

    /// <summary>
    /// Wants to send but cannot: its device went away, or setting it up failed (device missing,
    /// down, could not be opened). It resumes by itself when a matching device appears.
    /// </summary>
    Deactivated = 2,
}
