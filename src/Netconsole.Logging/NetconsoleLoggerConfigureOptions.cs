using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Configuration;
using Microsoft.Extensions.Options;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// Binds the provider's configuration section (<c>Logging:Netconsole</c>) to
/// <see cref="NetconsoleLoggerOptions"/> by hand: no reflection (trim-friendly), and every error
/// names its configuration key. Errors are stored in the options, not thrown, because a reload
/// runs on a configuration watcher's thread; the provider throws them at construction and
/// ignores an invalid reload. A key that is not an option is not an error: it becomes a warning
/// in <see cref="NetconsoleLoggerOptions.ConfigurationWarnings"/>, with the option it probably
/// meant.
/// </summary>
/// <remarks>
/// This file binds the section's own keys; NetconsoleLoggerConfigureOptions.Targets.cs binds
/// <c>Targets</c> (strings and objects); ConfigurationKeys.cs finds the option a misspelled key meant.
/// </remarks>
internal sealed partial class NetconsoleLoggerConfigureOptions : IConfigureOptions<NetconsoleLoggerOptions>
{
    // The provider's section as the logging configuration sees it; the path inside the merged
    // provider configuration is relative, so messages name the conventional place.
    internal const string SectionPath = "Logging:Netconsole";

    // Read by Microsoft.Extensions.Logging's filter rules from the same section, not by this binder.
    private const string LogLevelKey = "LogLevel";

    // The options of the section besides Targets, in the order of the README's table. Adding an
    // option here binds it and makes its key known (no warning).
    private static readonly (string Key, Action<NetconsoleLoggerOptions, string, string> Apply)[] Options =
    [
        (nameof(NetconsoleLoggerOptions.Facility), static (o, v, k) => o.Facility = Int(v, k)),
        (nameof(NetconsoleLoggerOptions.QueueFullMode), static (o, v, k) => o.QueueFullMode = Mode(v, k)),
        (nameof(NetconsoleLoggerOptions.MaxQueueLength), static (o, v, k) => o.MaxQueueLength = Int(v, k)),
        (nameof(NetconsoleLoggerOptions.DisposeTimeout), static (o, v, k) => o.DisposeTimeout = Time(v, k)),
        (nameof(NetconsoleLoggerOptions.IncludeScopes), static (o, v, k) => o.IncludeScopes = Bool(v, k)),
        (nameof(NetconsoleLoggerOptions.MaxDictionaryValueBytes), static (o, v, k) => o.MaxDictionaryValueBytes = Int(v, k)),
        (nameof(NetconsoleLoggerOptions.CaptureUnhandledExceptions), static (o, v, k) => o.CaptureUnhandledExceptions = Bool(v, k)),
        (nameof(NetconsoleLoggerOptions.CrashFlushTimeout), static (o, v, k) => o.CrashFlushTimeout = Time(v, k)),
        (nameof(NetconsoleLoggerOptions.CaptureProcessDeath), static (o, v, k) => o.CaptureProcessDeath = Bool(v, k)),
        (nameof(NetconsoleLoggerOptions.DiagnosticsToStandardError), static (o, v, k) => o.DiagnosticsToStandardError = StandardErrorMode(v, k)),
    ];

    /// <summary>Every key the section may hold: <c>Targets</c>, the options, and <c>LogLevel</c>.</summary>
    internal static readonly string[] SectionKeys =
        [TargetsKey, .. Options.Select(o => o.Key), LogLevelKey];

    private readonly IConfiguration _configuration;

    public NetconsoleLoggerConfigureOptions(ILoggerProviderConfiguration<NetconsoleLoggerProvider> providerConfiguration) =>
        _configuration = providerConfiguration.Configuration;

    internal NetconsoleLoggerConfigureOptions(IConfiguration section) => _configuration = section;

    public void Configure(NetconsoleLoggerOptions options)
    {
        try
        {
            Bind(_configuration, options);
        }
        catch (NetconsoleConfigurationException e)
        {
            options.ConfigurationError ??= e;
        }
    }

    /// <summary>
    /// Reads the section into <paramref name="options"/>: warnings for keys that are not options
    /// first (so a misspelled key is reported even when a value after it is invalid), then the
    /// targets, then the other options.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">A value is invalid; the message names its key.</exception>
    internal static void Bind(IConfiguration configuration, NetconsoleLoggerOptions options)
    {
        ReportUnknownKeys(configuration, options.ConfigurationWarnings);
        BindTargets(configuration.GetSection(TargetsKey), options);
        foreach ((string key, Action<NetconsoleLoggerOptions, string, string> apply) in Options)
        {
            Set(configuration, key, options, apply);
        }
    }

    internal static NetconsoleConfigurationException Error(string key, string reason, Exception? inner = null) =>
        new($"Invalid netconsole logging configuration at {SectionPath}:{key}: {reason}", inner);

    private static void ReportUnknownKeys(IConfiguration configuration, List<string> warnings)
    {
        foreach (IConfigurationSection child in configuration.GetChildren())
        {
            if (ConfigurationKeys.IsKnown(child.Key, SectionKeys))
            {
                continue;
            }

            string key = $"{SectionPath}:{child.Key}";
            warnings.Add(child.Key switch
            {
                _ when ConfigurationKeys.Same(child.Key, nameof(NetconsoleLoggerOptions.TargetOptions)) =>
                    $"{key} is not read from configuration and was ignored; give target objects in {SectionPath}:{TargetsKey}.",
                _ when ConfigurationKeys.Same(child.Key, nameof(NetconsoleLoggerOptions.ManagerOptions)) =>
                    $"{key} is set in code only (NetconsoleLoggerOptions.ManagerOptions) and was ignored.",
                _ => ConfigurationKeys.NotAnOption(key, child.Key, "a netconsole option", "the netconsole options", SectionKeys),
            });
        }
    }

    private static void Set(IConfiguration configuration, string key, NetconsoleLoggerOptions options, Action<NetconsoleLoggerOptions, string, string> apply)
    {
        if (configuration[key] is not { } value)
        {
            return;
        }

        try
        {
            apply(options, value, key);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw Error(key, $"\"{value}\" is out of range. {FirstLine(e.Message)}", e);
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    private static int Int(string value, string key) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int result)
            ? result
            : throw Error(key, $"\"{value}\" is not an integer.");

    private static bool Bool(string value, string key) =>
        bool.TryParse(value, out bool result) ? result : throw Error(key, $"\"{value}\" is not true or false.");

    private static TimeSpan Time(string value, string key) =>
        TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out TimeSpan result)
            ? result
            : throw Error(key, $"\"{value}\" is not a time span (for example \"00:00:05\").");

    private static NetconsoleQueueFullMode Mode(string value, string key) =>
        Enum.TryParse(value, ignoreCase: true, out NetconsoleQueueFullMode mode) && Enum.IsDefined(mode) && !char.IsAsciiDigit(value.TrimStart('-')[0])
            ? mode
            : throw Error(key, $"\"{value}\" is not a queue-full mode: use Wait or DropWrite.");

    private static NetconsoleStandardErrorMode StandardErrorMode(string value, string key) =>
        Enum.TryParse(value, ignoreCase: true, out NetconsoleStandardErrorMode mode) && Enum.IsDefined(mode) && !char.IsAsciiDigit(value.TrimStart('-')[0])
            ? mode
            : throw Error(key, $"\"{value}\" is not a standard error mode: use Auto, Always or Never.");
}
