using System.Globalization;

namespace Netconsole.Targets;

/// <summary>
/// A netconsole target string or option value breaks a rule of the configuration. The message
/// names the offending text, where it is, the rule it breaks and a valid example.
/// </summary>
/// <remarks>
/// Thrown by <see cref="NetconsoleTargetOptions.Parse"/>, <see cref="NetconsoleTargetOptions.ParseMany"/>,
/// <see cref="NetconsoleTargetOptions.Validate"/>, the validating setters of
/// <see cref="NetconsoleTargetOptions"/> and the writes of <see cref="UserdataCollection"/>.
/// It derives from <see cref="ArgumentException"/> because the cause is always a value handed in
/// by the caller.
/// </remarks>
public sealed class NetconsoleConfigurationException : ArgumentException
{
    private const string GenericRule = "the netconsole configuration is invalid";

    /// <summary>Creates an exception with a generic message, no input and no position.</summary>
    public NetconsoleConfigurationException()
        : this(GenericRule + ".")
    {
    }

    /// <summary>Creates an exception with the given message, used as <see cref="Rule"/> too.</summary>
    /// <param name="message">The message.</param>
    public NetconsoleConfigurationException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates an exception with the given message (used as <see cref="Rule"/> too) and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one, or <see langword="null"/>.</param>
    public NetconsoleConfigurationException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Rule = message ?? GenericRule;
        Example = string.Empty;
        Position = -1;
    }

    internal NetconsoleConfigurationException(string message, string? input, int position, string rule, string example, string? paramName)
        : base(message, paramName)
    {
        Input = input;
        Position = position;
        Rule = rule;
        Example = example;
    }

    /// <summary>
    /// The offending text: the whole target string for a parse error, the rejected value for an
    /// option or userdata write, the options written in the kernel syntax for a
    /// <see cref="NetconsoleTargetOptions.Validate"/> error; <see langword="null"/> when there is none.
    /// </summary>
    public string? Input { get; }

    /// <summary>
    /// The 0-based character index into <see cref="Input"/> where the problem is (for a parse
    /// error), or -1 when not applicable.
    /// </summary>
    public int Position { get; }

    /// <summary>The rule that was broken, as a short sentence (for example "release requires extended format").</summary>
    public string Rule { get; }

    /// <summary>A valid example of what was expected, or an empty string when there is none.</summary>
    public string Example { get; }

    /// <summary>A parse error in a target string: <paramref name="position"/> indexes <paramref name="input"/>.</summary>
    internal static NetconsoleConfigurationException ForTarget(string input, int position, string rule, string example) =>
        new(
            string.Format(CultureInfo.InvariantCulture, "Invalid netconsole target \"{0}\" at position {1}: {2}. Example: \"{3}\".", input, position, rule, example),
            input,
            position,
            rule,
            example,
            paramName: null);

    /// <summary>A single value rejected by a setter or a userdata write.</summary>
    internal static NetconsoleConfigurationException ForValue(string? value, string rule, string example, string paramName) =>
        new(
            value is null
                ? string.Format(CultureInfo.InvariantCulture, "Invalid netconsole configuration value: {0}. Example: \"{1}\".", rule, example)
                : string.Format(CultureInfo.InvariantCulture, "Invalid netconsole configuration value \"{0}\": {1}. Example: \"{2}\".", value, rule, example),
            value,
            -1,
            rule,
            example,
            paramName);

    /// <summary>A cross-field rule broken by a whole set of options, shown in the kernel syntax.</summary>
    internal static NetconsoleConfigurationException ForOptions(string options, string rule, string example) =>
        new(
            string.Format(CultureInfo.InvariantCulture, "Invalid netconsole target options \"{0}\": {1}. Example: \"{2}\".", options, rule, example),
            options,
            -1,
            rule,
            example,
            paramName: null);
}
