using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Logging;

// Logging:Netconsole:Targets: a string (the kernel syntax, several separated by ';'), a list of
// strings and objects, or one object. Strings go to NetconsoleLoggerOptions.Targets as they are;
// objects become NetconsoleTargetOptions in NetconsoleLoggerOptions.TargetOptions, validated
// here so that an error names the configuration key rather than the list index.
internal sealed partial class NetconsoleLoggerConfigureOptions
{
    internal const string TargetsKey = nameof(NetconsoleLoggerOptions.Targets);

    private const string TargetStringExample = "+@/eth0,@192.0.2.2/";
    private const string UserdataKey = nameof(NetconsoleTargetOptions.Userdata);
    private const string SysdataKey = nameof(NetconsoleTargetOptions.Sysdata);
    private const string SigningKeyKey = nameof(NetconsoleTargetOptions.SigningKey);

    // The keys of a SigningKey object: its id, and where its secret (base64) comes from, exactly one.
    private static readonly string[] SigningKeyKeys = ["KeyId", "Secret", "SecretFile", "SecretEnvironmentVariable"];

    // The keys of a target object, one per settable property of NetconsoleTargetOptions, in the
    // order of the README's table. Userdata and Sysdata are read from their sections (an object,
    // a list), the others from a single value.
    private static readonly (string Key, Action<NetconsoleTargetOptions, string, string>? Apply)[] TargetOptionKeys =
    [
        (nameof(NetconsoleTargetOptions.Name), static (t, v, k) => t.Name = v.Length == 0 ? null : v),
        (nameof(NetconsoleTargetOptions.DeviceName), static (t, v, k) => t.DeviceName = v),
        (nameof(NetconsoleTargetOptions.DeviceMac), static (t, v, k) => t.DeviceMac = Mac(v, k)),
        (nameof(NetconsoleTargetOptions.LocalAddress), static (t, v, k) => t.LocalAddress = Address(v, k)),
        (nameof(NetconsoleTargetOptions.LocalPort), static (t, v, k) => t.LocalPort = Int(v, k)),
        (nameof(NetconsoleTargetOptions.RemoteAddress), static (t, v, k) => t.RemoteAddress = Address(v, k)),
        (nameof(NetconsoleTargetOptions.RemotePort), static (t, v, k) => t.RemotePort = Int(v, k)),
        (nameof(NetconsoleTargetOptions.RemoteMac), static (t, v, k) => t.RemoteMac = Mac(v, k)),
        (nameof(NetconsoleTargetOptions.Extended), static (t, v, k) => t.Extended = Bool(v, k)),
        (nameof(NetconsoleTargetOptions.PrependRelease), static (t, v, k) => t.PrependRelease = Bool(v, k)),
        (nameof(NetconsoleTargetOptions.Release), static (t, v, k) => t.Release = v.Length == 0 ? null : v),
        (UserdataKey, null),
        (SysdataKey, null),
        (nameof(NetconsoleTargetOptions.Facility), static (t, v, k) => t.Facility = Int(v, k)),
        (nameof(NetconsoleTargetOptions.PrintkTime), static (t, v, k) => t.PrintkTime = Bool(v, k)),
        (nameof(NetconsoleTargetOptions.MaxDatagramsPerSecond), static (t, v, k) => t.MaxDatagramsPerSecond = Int(v, k)),
        (nameof(NetconsoleTargetOptions.MaxDatagramBurst), static (t, v, k) => t.MaxDatagramBurst = Int(v, k)),
        (nameof(NetconsoleTargetOptions.ReplayBufferMaxRecords), static (t, v, k) => t.ReplayBufferMaxRecords = Int(v, k)),
        (nameof(NetconsoleTargetOptions.ReplayBufferMaxBytes), static (t, v, k) => t.ReplayBufferMaxBytes = Int(v, k)),
        (nameof(NetconsoleTargetOptions.ReplayBufferMaxAge), static (t, v, k) => t.ReplayBufferMaxAge = Time(v, k)),
        (nameof(NetconsoleTargetOptions.SpoolDirectory), static (t, v, k) => t.SpoolDirectory = v),
        (SigningKeyKey, null),
    ];

    /// <summary>Every key a target object may hold.</summary>
    internal static readonly string[] TargetKeys = [.. TargetOptionKeys.Select(o => o.Key)];

    // The sysdata fields by the names configuration gives them (SysdataFields' own names).
    private static readonly SysdataFields[] SysdataNames =
        [SysdataFields.None, SysdataFields.Cpu, SysdataFields.TaskName, SysdataFields.Release, SysdataFields.MessageId, SysdataFields.All];

    /// <summary>
    /// Reads <c>Targets</c>: its own value (one string), then its children. The children are a
    /// list when a key among them is an index (0, 1, ...: a JSON array), each entry a string or an
    /// object; otherwise <c>Targets</c> is one target object (its keys are target options).
    /// </summary>
    private static void BindTargets(IConfigurationSection targets, NetconsoleLoggerOptions options)
    {
        if (targets.Value is { Length: > 0 } single)
        {
            AddTargetString(options, single, TargetsKey);
        }

        List<IConfigurationSection> entries = [.. targets.GetChildren()];
        if (entries.Count == 0)
        {
            return;
        }

        if (!entries.Exists(entry => IsIndex(entry.Key)))
        {
            AddTargetObject(options, targets, TargetsKey);
            return;
        }

        foreach (IConfigurationSection entry in entries)
        {
            string key = $"{TargetsKey}:{entry.Key}";
            bool isObject = entry.GetChildren().Any();
            if (isObject && !string.IsNullOrEmpty(entry.Value))
            {
                // Two configuration sources, one giving a string and one an object, at one place.
                throw Error(key, $"the entry is both a target string (\"{entry.Value}\") and a target object; give one of them.");
            }

            if (isObject)
            {
                AddTargetObject(options, entry, key);
            }
            else if (entry.Value is { } value)
            {
                AddTargetString(options, value, key);
            }
            else
            {
                throw Error(key, $"the entry is empty: give a target string, for example \"{TargetStringExample}\", or an object with at least {nameof(NetconsoleTargetOptions.RemoteAddress)}.");
            }
        }
    }

    private static bool IsIndex(string key) => int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static void AddTargetString(NetconsoleLoggerOptions options, string value, string key)
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

    /// <summary>
    /// Reads a target object: warnings for its keys that are not target options, then each
    /// option, then the rules between options (<see cref="NetconsoleTargetOptions.Validate"/>).
    /// </summary>
    private static void AddTargetObject(NetconsoleLoggerOptions options, IConfigurationSection section, string key)
    {
        var unknown = new List<string>();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!ConfigurationKeys.IsKnown(child.Key, TargetKeys))
            {
                unknown.Add(ConfigurationKeys.NotAnOption($"{SectionPath}:{key}:{child.Key}", child.Key, "a target option", "the target options", TargetKeys));
            }
        }

        options.ConfigurationWarnings.AddRange(unknown);
        var target = new NetconsoleTargetOptions();
        foreach ((string name, Action<NetconsoleTargetOptions, string, string>? apply) in TargetOptionKeys)
        {
            IConfigurationSection value = section.GetSection(name);
            string valueKey = $"{key}:{name}";
            if (apply is not null)
            {
                SetTargetOption(target, value, valueKey, apply);
            }
            else if (ConfigurationKeys.Same(name, UserdataKey))
            {
                SetUserdata(target, value, valueKey);
            }
            else if (ConfigurationKeys.Same(name, SigningKeyKey))
            {
                SetSigningKey(target, value, valueKey);
            }
            else
            {
                SetSysdata(target, value, valueKey);
            }
        }

        try
        {
            target.Validate();
        }
        catch (NetconsoleConfigurationException e)
        {
            // A misspelled key is often why a rule fails (RemoteAdress: no remote address).
            string ignored = unknown.Count == 0 ? string.Empty : " Also: " + string.Join(" ", unknown);
            throw Error(key, e.Message + ignored, e);
        }

        options.TargetOptions.Add(target);
    }

    // SigningKey: { "KeyId": "...", and one of "Secret" (base64), "SecretFile" (a file holding it
    // in base64), "SecretEnvironmentVariable" (a variable holding it) }. Strict: a mistake here
    // leaves records unsigned, so every problem is an error, and no message shows the secret.
    private static void SetSigningKey(NetconsoleTargetOptions target, IConfigurationSection section, string key)
    {
        if (!section.Exists())
        {
            return;
        }

        const string Shape = "give an object with KeyId and one of Secret (base64), SecretFile (a file holding the secret in base64) or SecretEnvironmentVariable (a variable holding it)";
        if (section.Value is not null)
        {
            throw Error(key, $"the value is a single value: {Shape}.");
        }

        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!ConfigurationKeys.IsKnown(child.Key, SigningKeyKeys))
            {
                throw Error($"{key}:{child.Key}", $"not a signing key option: {Shape}.");
            }
        }

        string keyId = section["KeyId"] ?? throw Error(key, $"KeyId is missing: {Shape}.");
        string?[] sources = [section["Secret"], section["SecretFile"], section["SecretEnvironmentVariable"]];
        if (sources.Count(s => s is not null) != 1)
        {
            throw Error(key, $"give exactly one of Secret, SecretFile and SecretEnvironmentVariable ({sources.Count(s => s is not null)} given).");
        }

        string secret;
        if (sources[0] is { } inline)
        {
            secret = inline;
        }
        else if (sources[1] is { } file)
        {
            try
            {
                secret = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw Error($"{key}:SecretFile", $"the file \"{file}\" cannot be read: {e.Message}", e);
            }
        }
        else
        {
            string variable = sources[2]!;
            secret = Environment.GetEnvironmentVariable(variable)
                ?? throw Error($"{key}:SecretEnvironmentVariable", $"the environment variable {variable} is not set.");
        }

        try
        {
            target.SigningKey = RecordSigningKey.FromBase64(keyId, secret);
        }
        catch (ArgumentException e)
        {
            throw Error(key, e.Message.Split(" (Parameter", 2)[0], e);
        }
    }

    private static void SetTargetOption(NetconsoleTargetOptions target, IConfigurationSection section, string key, Action<NetconsoleTargetOptions, string, string> apply)
    {
        if (section.GetChildren().Any())
        {
            throw Error(key, "the value is an object or a list: give a single value.");
        }

        if (section.Value is not { } value)
        {
            return;
        }

        try
        {
            apply(target, value, key);
        }
        catch (NetconsoleConfigurationException e) when (e.ParamName is not null)
        {
            // A setter's rule (the binder's own errors name no parameter): say it against the key.
            throw Error(key, Rejected(value, e), e);
        }
    }

    private static string Rejected(string value, NetconsoleConfigurationException e) =>
        e.Example.Length == 0 ? $"\"{value}\" is not valid: {e.Rule}." : $"\"{value}\" is not valid: {e.Rule}. Example: \"{e.Example}\".";

    /// <summary>Userdata: an object whose keys are the userdata keys and whose values are their values.</summary>
    private static void SetUserdata(NetconsoleTargetOptions target, IConfigurationSection section, string key)
    {
        List<IConfigurationSection> entries = [.. section.GetChildren()];
        if (entries.Count == 0)
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                throw Error(key, $"\"{section.Value}\" is not an object of key/value pairs: give an object, for example {{ \"region\": \"eu-west-1\" }}.");
            }

            return;
        }

        foreach (IConfigurationSection entry in entries)
        {
            string entryKey = $"{key}:{entry.Key}";
            if (entry.GetChildren().Any())
            {
                throw Error(entryKey, "a userdata value is a text, not an object or a list.");
            }

            // null (JSON null, or an empty object) is an empty value: the key is kept and, as in
            // the kernel, left out on the wire.
            string value = entry.Value ?? string.Empty;
            try
            {
                target.Userdata[entry.Key] = value;
            }
            catch (NetconsoleConfigurationException e)
            {
                throw Error(entryKey, Rejected(e.Input ?? value, e), e);
            }
        }
    }

    /// <summary>Sysdata: field names separated by <c>,</c> (<c>"Cpu, TaskName"</c>), or a list of them.</summary>
    private static void SetSysdata(NetconsoleTargetOptions target, IConfigurationSection section, string key)
    {
        List<IConfigurationSection> entries = [.. section.GetChildren()];
        if (entries.Count == 0)
        {
            if (section.Value is { } value)
            {
                target.Sysdata = Sysdata(value, key);
            }

            return;
        }

        SysdataFields fields = SysdataFields.None;
        foreach (IConfigurationSection entry in entries)
        {
            string entryKey = $"{key}:{entry.Key}";
            fields |= entry.GetChildren().Any()
                ? throw Error(entryKey, "a sysdata field is a name, not an object or a list.")
                : Sysdata(entry.Value ?? string.Empty, entryKey);
        }

        target.Sysdata = fields;
    }

    private static SysdataFields Sysdata(string value, string key)
    {
        SysdataFields fields = SysdataFields.None;
        foreach (string part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0 && value.Trim().Length == 0)
            {
                continue;
            }

            SysdataFields? field = null;
            foreach (SysdataFields candidate in SysdataNames)
            {
                if (ConfigurationKeys.Same(part, candidate.ToString()))
                {
                    field = candidate;
                }
            }

            fields |= field ?? throw Error(
                key,
                $"\"{part}\" is not a sysdata field: use {string.Join(", ", SysdataNames)}, several separated by ',' (for example \"Cpu, TaskName\") or as a list.");
        }

        return fields;
    }

    private static PhysicalAddress? Mac(string value, string key)
    {
        if (value.Length == 0)
        {
            return null;
        }

        // Six hex octets separated by ':' (the kernel's way) or '-' (the Windows way), either case.
        const int Octets = 6;
        bool valid = value.Length == (Octets * 3) - 1 && value[2] is ':' or '-';
        var bytes = new byte[Octets];
        for (int i = 0; valid && i < Octets; i++)
        {
            valid = byte.TryParse(value.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i])
                && (i == Octets - 1 || value[(i * 3) + 2] == value[2]);
        }

        return valid
            ? new PhysicalAddress(bytes)
            : throw Error(key, $"\"{value}\" is not a MAC address: give six hex octets separated by ':' or '-', for example \"12:34:56:78:9a:bc\".");
    }

    /// <summary>
    /// An IP address as the kernel syntax writes it: an IPv4 dotted quad of decimal numbers, or
    /// an IPv6 address without brackets, port or scope id. Names are not resolved.
    /// </summary>
    private static IPAddress? Address(string value, string key)
    {
        if (value.Length == 0)
        {
            return null;
        }

        return ParseAddress(value) ?? throw Error(
            key,
            $"\"{value}\" is not an IP address: give an IPv4 address as four decimal numbers (192.0.2.2) or an IPv6 address without brackets, port or scope id (2001:db8::2); host names are not resolved.");
    }

    private static IPAddress? ParseAddress(string value)
    {
        if (value.Contains(':', StringComparison.Ordinal))
        {
            foreach (char c in value)
            {
                if (!char.IsAsciiHexDigit(c) && c is not ':' and not '.')
                {
                    return null;
                }
            }

            return IPAddress.TryParse(value, out IPAddress? v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : null;
        }

        // IPAddress.TryParse takes 10.1 and 0x0a000001 for IPv4 addresses: the kernel does not.
        string[] parts = value.Split('.');
        var octets = new byte[4];
        if (parts.Length != 4)
        {
            return null;
        }

        for (int i = 0; i < 4; i++)
        {
            if (parts[i].Length is 0 or > 3 || !parts[i].All(char.IsAsciiDigit) || !byte.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out octets[i]))
            {
                return null;
            }
        }

        return new IPAddress(octets);
    }
}
