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
/// ignores an invalid reload.
/// </summary>
internal sealed class NetconsoleLoggerConfigureOptions : IConfigureOptions<NetconsoleLoggerOptions>
{
    // The provider's section as the logging configuration sees it; the path inside the merged
    // provider configuration is relative, so error messages name the conventional place.
    internal const string SectionPath = "Logging:Netconsole";

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

    internal static void Bind(IConfiguration configuration, NetconsoleLoggerOptions options)
    {
        IConfigurationSection targets = configuration.GetSection(nameof(NetconsoleLoggerOptions.Targets));
        if (targets.Value is { Length: > 0 } single)
        {
            AddTarget(options, single, nameof(NetconsoleLoggerOptions.Targets));
        }

        foreach (IConfigurationSection entry in targets.GetChildren())
        {
            AddTarget(options, entry.Value ?? string.Empty, nameof(NetconsoleLoggerOptions.Targets) + ":" + entry.Key);
        }

        Set(configuration, nameof(NetconsoleLoggerOptions.Facility), options, static (o, v, k) => o.Facility = Int(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.QueueFullMode), options, static (o, v, k) => o.QueueFullMode = Mode(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.MaxQueueLength), options, static (o, v, k) => o.MaxQueueLength = Int(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.DisposeTimeout), options, static (o, v, k) => o.DisposeTimeout = Time(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.IncludeScopes), options, static (o, v, k) => o.IncludeScopes = Bool(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.MaxDictionaryValueBytes), options, static (o, v, k) => o.MaxDictionaryValueBytes = Int(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.CaptureUnhandledExceptions), options, static (o, v, k) => o.CaptureUnhandledExceptions = Bool(v, k));
        Set(configuration, nameof(NetconsoleLoggerOptions.CrashFlushTimeout), options, static (o, v, k) => o.CrashFlushTimeout = Time(v, k));
    }

    internal static NetconsoleConfigurationException Error(string key, string reason, Exception? inner = null) =>
        new($"Invalid netconsole logging configuration at {SectionPath}:{key}: {reason}", inner);

    private static void AddTarget(NetconsoleLoggerOptions options, string value, string key)
    {
        try
        {
            NetconsoleTargetOptions.ParseMany(value);
        }
        catch (NetconsoleConfigurationException e)
        {
            throw Error(key, e.Message, e);
        }

        options.Targets.Add(value);
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
}
