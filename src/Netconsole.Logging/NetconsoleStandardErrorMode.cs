namespace Netconsole.Logging;

/// <summary>
/// When the provider writes its diagnostics (a target that cannot send, a configuration problem)
/// to the process's standard error: <see cref="NetconsoleLoggerOptions.DiagnosticsToStandardError"/>.
/// </summary>
public enum NetconsoleStandardErrorMode
{
    /// <summary>
    /// Problems (warnings and errors, and the recovery of a target whose problem was written) go
    /// to standard error when no other logger provider of the application shows them: a plain app
    /// with only this provider, or a provider created without dependency injection. An app with a
    /// console (or any other) provider sees them there instead, under the category <c>Netconsole.Diagnostics</c>.
    /// </summary>
    Auto = 0,

    /// <summary>Every diagnostic of level Information and above goes to standard error, whatever other providers show.</summary>
    Always = 1,

    /// <summary>Nothing goes to standard error (the other channels still carry the diagnostics).</summary>
    Never = 2,
}
