using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Netconsole.Devices;

namespace Netconsole.Targets;

public sealed partial class NetconsoleTargetOptions
{
    /// <summary>
    /// The longest target string, 255 characters: the kernel copies <c>netconsole=</c> into a
    /// MAX_PARAM_LENGTH (256) byte buffer that includes the terminating NUL.
    /// </summary>
    public const int MaxTargetStringLength = 255;

    /// <summary>The prefix of the names <see cref="ParseMany"/> gives, followed by 0, 1, ... as in the kernel.</summary>
    public const string CommandLineNamePrefix = "cmdline";

    private const string FullExample = "6665@10.0.0.1/eth0,6666@10.0.0.2/12:34:56:78:9a:bc";
    private const string ManyExample = "@/,@10.0.0.2/;@/eth1,6892@10.0.0.3/";
    private const string MacExample = "@/22:33:44:55:66:77,@192.0.2.2/";

    /// <summary>
    /// Reads one target in the kernel's <c>netconsole=</c> syntax
    /// <c>[+][r][src-port]@[src-ip]/[dev],[tgt-port]@tgt-ip/[tgt-macaddr]</c>.
    /// </summary>
    /// <param name="value">
    /// The target, for example <c>+6665@192.0.2.1/eth0,6666@192.0.2.2/12:34:56:78:9a:bc</c> or
    /// <c>@/,@fd00:1:2:3::1/</c>. At most <see cref="MaxTargetStringLength"/> characters, without
    /// whitespace anywhere (it is rejected, not trimmed, so that a position always points into
    /// the text as given).
    /// </param>
    /// <returns>The options; <see cref="Name"/> is <see langword="null"/>.</returns>
    /// <remarks>
    /// <para>
    /// <c>+</c> sets <see cref="Extended"/>; <c>r</c> sets <see cref="PrependRelease"/> and is only
    /// valid right after <c>+</c>. Every delimiter is mandatory; every field is optional except
    /// the remote address. Ports are decimal, 1-65535 (defaults 6665 and 6666). Addresses are IPv4
    /// dotted quads or bare IPv6 (no brackets, no scope id); the source address, when given, must
    /// be of the remote address's family. A device containing <c>:</c> is a MAC address
    /// (<see cref="DeviceMac"/>, the target is bound by MAC), otherwise an interface name
    /// (<see cref="DeviceName"/>, at most 15 bytes). MAC addresses are six hex octets separated by
    /// <c>:</c>, in either case.
    /// </para>
    /// <para>
    /// The device name follows the kernel's rule on every system, because this is the kernel's
    /// syntax: a Windows name such as <c>Ethernet 2</c> or <c>\Device\NPF_{GUID}</c> cannot be
    /// written in it. Set such a name through <see cref="DeviceName"/>, or bind the target by MAC
    /// (a MAC in place of the device), which is the same on every system.
    /// </para>
    /// <para>
    /// Where the kernel has defaults this library does not: no device leaves
    /// <see cref="DeviceName"/> and <see cref="DeviceMac"/> <see langword="null"/> (the kernel
    /// uses eth0), and no remote MAC leaves <see cref="RemoteMac"/> <see langword="null"/> (the
    /// kernel uses ff:ff:ff:ff:ff:ff).
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is <see langword="null"/>.</exception>
    /// <exception cref="NetconsoleConfigurationException">
    /// The text breaks a rule; <see cref="NetconsoleConfigurationException.Position"/> is the
    /// index in <paramref name="value"/>. A <c>;</c> is an error here: use <see cref="ParseMany"/>.
    /// </exception>
    public static NetconsoleTargetOptions Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        NetconsoleConfigurationException? error = TryParseOne(value, out NetconsoleTargetOptions? result);
        return error is null ? result! : throw error;
    }

    /// <summary>Reads one target like <see cref="Parse"/>, without throwing.</summary>
    /// <param name="value">The target, or <see langword="null"/>.</param>
    /// <param name="result">The options when the text is valid, otherwise <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is a valid target.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out NetconsoleTargetOptions? result)
    {
        if (value is null)
        {
            result = null;
            return false;
        }

        return TryParseOne(value, out result) is null;
    }

    /// <summary>
    /// Reads several targets separated by <c>;</c>, as the kernel's <c>netconsole=</c> boot
    /// parameter, and names them <c>cmdline0</c>, <c>cmdline1</c>, ... in order.
    /// </summary>
    /// <param name="value">
    /// The targets, for example <c>@/,@10.0.0.2/;@/eth1,6892@10.0.0.3/</c>: at most
    /// <see cref="MaxTargetStringLength"/> characters in all, without whitespace.
    /// </param>
    /// <returns>The targets in order; at least one.</returns>
    /// <remarks>
    /// Empty segments (a trailing <c>;</c>, or <c>;;</c>) are skipped and take no name, so the
    /// names stay consecutive, like the kernel's count of targets that parsed. Unlike the kernel,
    /// which skips a target it cannot parse when dynamic configuration is built in, any invalid
    /// target is an error here: a configuration mistake should not silently lose a target.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is <see langword="null"/>.</exception>
    /// <exception cref="NetconsoleConfigurationException">
    /// A target breaks a rule of <see cref="Parse"/> (the position is an index into the whole
    /// <paramref name="value"/>), or there is no target at all.
    /// </exception>
    public static IReadOnlyList<NetconsoleTargetOptions> ParseMany(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        NetconsoleConfigurationException? error = CheckWhole(value);
        if (error is not null)
        {
            throw error;
        }

        var targets = new List<NetconsoleTargetOptions>();
        int start = 0;
        while (start <= value.Length)
        {
            int end = value.IndexOf(';', start);
            if (end < 0)
            {
                end = value.Length;
            }

            if (end > start)
            {
                error = ParseTarget(value, start, end, out NetconsoleTargetOptions? target);
                if (error is not null)
                {
                    throw error;
                }

                target!.Name = CommandLineNamePrefix + targets.Count.ToString(CultureInfo.InvariantCulture);
                targets.Add(target);
            }

            start = end + 1;
        }

        return targets.Count > 0
            ? targets.ToArray()
            : throw NetconsoleConfigurationException.ForTarget(value, 0, "there is no target: the text is empty or holds only ';'", ManyExample);
    }

    /// <summary>
    /// Writes the options in the kernel syntax, for example
    /// <c>+r6665@192.0.2.1/veth0,6666@192.0.2.2/12:34:56:78:9a:bc</c>, so that <see cref="Parse"/>
    /// gives back every field the syntax carries.
    /// </summary>
    /// <returns>The target string.</returns>
    /// <remarks>
    /// <para>
    /// Ports are always written, MAC addresses in lowercase with colons. The syntax has no place
    /// for <see cref="Name"/>, <see cref="Userdata"/>, <see cref="Sysdata"/>,
    /// <see cref="Facility"/> and <see cref="Release"/>: they are not written. The result parses
    /// back only for options that pass <see cref="Validate"/>: without a remote address the
    /// remote address is left empty, and when both <see cref="DeviceName"/> and
    /// <see cref="DeviceMac"/> are set only the name is written.
    /// </para>
    /// <para>
    /// Not round-trippable on Windows and macOS for a <see cref="DeviceName"/> the kernel syntax
    /// cannot carry (longer than 15 bytes, or with spaces: <c>\Device\NPF_{GUID}</c>,
    /// <c>Ethernet 2</c>): the name is written as it is, so the text still says which device is
    /// meant, and <see cref="Parse"/> rejects that text with an error that says to set
    /// <see cref="DeviceName"/> through the options API or to bind the target by MAC. The name is
    /// never left out: that would turn the text into a target without a device.
    /// </para>
    /// </remarks>
    public override string ToString()
    {
        var text = new StringBuilder(64);
        if (Extended)
        {
            text.Append('+');
        }

        if (PrependRelease)
        {
            text.Append('r');
        }

        text.Append(CultureInfo.InvariantCulture, $"{LocalPort}@{LocalAddress}/");
        if (DeviceName is not null)
        {
            text.Append(DeviceName);
        }
        else if (DeviceMac is not null)
        {
            text.Append(MacAddressText.Format(DeviceMac));
        }

        text.Append(CultureInfo.InvariantCulture, $",{RemotePort}@{RemoteAddress}/");
        if (RemoteMac is not null)
        {
            text.Append(MacAddressText.Format(RemoteMac));
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads an address the way the kernel tells the families apart: with a <c>:</c> it is IPv6
    /// (bare: hex digits, <c>:</c> and an optional dotted IPv4 tail), otherwise a dotted-quad IPv4
    /// address with decimal octets (no shorthand such as <c>10.1</c>, no octal or hex).
    /// </summary>
    internal static IPAddress? ParseAddress(ReadOnlySpan<char> text)
    {
        if (text.Contains(':'))
        {
            foreach (char c in text)
            {
                if (!char.IsAsciiHexDigit(c) && c is not ':' and not '.')
                {
                    return null;
                }
            }

            return IPAddress.TryParse(text, out IPAddress? v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : null;
        }

        Span<byte> octets = stackalloc byte[4];
        int count = 0;
        int value = -1;
        foreach (char c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                if (value > 255)
                {
                    return null;
                }
            }
            else if (c == '.' && value >= 0 && count < 3)
            {
                octets[count++] = (byte)value;
                value = -1;
            }
            else
            {
                return null;
            }
        }

        if (value < 0 || count != 3)
        {
            return null;
        }

        octets[3] = (byte)value;
        return new IPAddress(octets);
    }

    private static NetconsoleConfigurationException? TryParseOne(string value, out NetconsoleTargetOptions? result)
    {
        result = null;
        NetconsoleConfigurationException? error = CheckWhole(value);
        if (error is not null)
        {
            return error;
        }

        int semicolon = value.IndexOf(';', StringComparison.Ordinal);
        return semicolon >= 0
            ? NetconsoleConfigurationException.ForTarget(value, semicolon, "Parse reads one target; use ParseMany for several targets separated by ';'", ManyExample)
            : ParseTarget(value, 0, value.Length, out result);
    }

    /// <summary>The rules on the text as a whole: its length and no whitespace.</summary>
    private static NetconsoleConfigurationException? CheckWhole(string value)
    {
        if (value.Length > MaxTargetStringLength)
        {
            return NetconsoleConfigurationException.ForTarget(
                value,
                MaxTargetStringLength,
                string.Format(CultureInfo.InvariantCulture, "the text is {0} characters long; the kernel takes at most {1} (MAX_PARAM_LENGTH 256 with the terminating NUL)", value.Length, MaxTargetStringLength),
                FullExample);
        }

        for (int i = 0; i < value.Length; i++)
        {
            if (char.IsWhiteSpace(value[i]))
            {
                const string Rule = "whitespace is not allowed anywhere in a target (it is not trimmed either)";
                return DeviceFieldAround(value, i) is { } device && FitsOnlyTheOptions(device)
                    ? NetconsoleConfigurationException.ForTarget(value, i, $"{Rule}; the device \"{device}\" has some: {KernelSyntaxNameHint}", MacExample)
                    : NetconsoleConfigurationException.ForTarget(value, i, Rule, ManyExample);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="device"/>, which the kernel syntax rejects, is a name this system
    /// takes through <see cref="DeviceName"/> (off Linux only: on Linux both rules are the kernel's).
    /// </summary>
    private static bool FitsOnlyTheOptions(ReadOnlySpan<char> device) =>
        HostPlatform.Current != HostKind.Linux && !device.IsEmpty && PlatformDeviceNameRule(device) is null;

    /// <summary>
    /// The device field of the target holding <paramref name="index"/>, when the index lies in
    /// it: from the first <c>/</c> of that target (addresses hold none) to the next <c>,</c>.
    /// </summary>
    private static string? DeviceFieldAround(string value, int index)
    {
        int start = value.LastIndexOf(';', index) + 1;
        int end = value.IndexOf(';', index);
        ReadOnlySpan<char> target = value.AsSpan(start, (end < 0 ? value.Length : end) - start);
        int slash = target.IndexOf('/');
        if (slash < 0 || start + slash >= index)
        {
            return null;
        }

        int comma = target[(slash + 1)..].IndexOf(',');
        int fieldEnd = comma < 0 ? target.Length : slash + 1 + comma;
        return start + fieldEnd > index ? target[(slash + 1)..fieldEnd].ToString() : null;
    }

    /// <summary>Reads the target in <c>s[start..end)</c>; positions in the error index <paramref name="s"/> as a whole.</summary>
    private static NetconsoleConfigurationException? ParseTarget(string s, int start, int end, out NetconsoleTargetOptions? result)
    {
        result = null;
        if (start == end)
        {
            return NetconsoleConfigurationException.ForTarget(s, start, "a target is empty; it needs at least a remote address", "@/,@192.0.2.2/");
        }

        var options = new NetconsoleTargetOptions();
        int i = start;
        if (s[i] == '+')
        {
            options.Extended = true;
            i++;
        }

        if (i < end && s[i] == 'r')
        {
            if (!options.Extended)
            {
                return NetconsoleConfigurationException.ForTarget(s, i, "release requires extended format: 'r' is only valid right after '+'", "+r@/,@192.0.2.2/");
            }

            options.PrependRelease = true;
            i++;
        }

        // [src-port]@
        int fieldEnd = FieldEnd(s, i, end);
        NetconsoleConfigurationException? error = ReadPortField(
            s, i, fieldEnd, end, "local", "(write '@' even when the local port and source address are omitted)", "6665@/,@192.0.2.2/", ref options._localPort);
        if (error is not null)
        {
            return error;
        }

        // [src-ip]/
        i = fieldEnd + 1;
        fieldEnd = FieldEnd(s, i, end);
        if (fieldEnd == end || s[fieldEnd] != '/')
        {
            return NetconsoleConfigurationException.ForTarget(s, AddressPrefixEnd(s, i, fieldEnd), "the source address must be followed by '/' before the device", FullExample);
        }

        if (fieldEnd > i)
        {
            options._localAddress = ParseAddress(s.AsSpan(i, fieldEnd - i));
            if (options._localAddress is null)
            {
                return NetconsoleConfigurationException.ForTarget(s, i, $"the source address \"{s[i..fieldEnd]}\" is not an IPv4 or IPv6 address{BracketHint(s, i)}", FullExample);
            }
        }

        // [dev],
        i = fieldEnd + 1;
        fieldEnd = FieldEnd(s, i, end);
        if (fieldEnd == end || s[fieldEnd] != ',')
        {
            return NetconsoleConfigurationException.ForTarget(s, fieldEnd, "the device must be followed by ',' before the remote port", FullExample);
        }

        if (fieldEnd > i)
        {
            ReadOnlySpan<char> device = s.AsSpan(i, fieldEnd - i);
            if (device.Contains(':'))
            {
                if (!MacAddressText.TryParse(device, out options._deviceMac))
                {
                    return NetconsoleConfigurationException.ForTarget(s, i, $"the device \"{device}\" contains ':', so it is a MAC address and must be written xx:xx:xx:xx:xx:xx", "@/22:33:44:55:66:77,@192.0.2.2/");
                }
            }
            else
            {
                string? rule = KernelDeviceNameRule(device);
                if (rule is not null)
                {
                    return FitsOnlyTheOptions(device)
                        ? NetconsoleConfigurationException.ForTarget(s, i, $"the device \"{device}\" is not a valid interface name: {rule}; {KernelSyntaxNameHint}", MacExample)
                        : NetconsoleConfigurationException.ForTarget(s, i, $"the device \"{device}\" is not a valid interface name: {rule}", "@/eth0,@192.0.2.2/");
                }

                options._deviceName = device.ToString();
            }
        }

        // [tgt-port]@
        i = fieldEnd + 1;
        fieldEnd = FieldEnd(s, i, end);
        error = ReadPortField(s, i, fieldEnd, end, "remote", "before the remote address", "@/,6666@192.0.2.2/", ref options._remotePort);
        if (error is not null)
        {
            return error;
        }

        // <tgt-ip>/
        i = fieldEnd + 1;
        fieldEnd = FieldEnd(s, i, end);
        if (fieldEnd == i)
        {
            return NetconsoleConfigurationException.ForTarget(s, i, "the remote address is required", "@/,@192.0.2.2/");
        }

        if (fieldEnd == end || s[fieldEnd] != '/')
        {
            return NetconsoleConfigurationException.ForTarget(s, AddressPrefixEnd(s, i, fieldEnd), "the remote address must be followed by '/' (even when the remote MAC is omitted)", "@/,@192.0.2.2/");
        }

        options._remoteAddress = ParseAddress(s.AsSpan(i, fieldEnd - i));
        if (options._remoteAddress is null)
        {
            return NetconsoleConfigurationException.ForTarget(s, i, $"the remote address \"{s[i..fieldEnd]}\" is not an IPv4 or IPv6 address{BracketHint(s, i)}", "@/,@192.0.2.2/");
        }

        if (options._localAddress is not null && options._localAddress.AddressFamily != options._remoteAddress.AddressFamily)
        {
            return NetconsoleConfigurationException.ForTarget(
                s,
                i,
                $"the remote address \"{s[i..fieldEnd]}\" ({FamilyName(options._remoteAddress)}) must be of the same family as the source address {options._localAddress} ({FamilyName(options._localAddress)})",
                "@192.0.2.1/,@192.0.2.2/");
        }

        // [tgt-macaddr]: the rest of the target
        i = fieldEnd + 1;
        if (i < end && !MacAddressText.TryParse(s.AsSpan(i, end - i), out options._remoteMac))
        {
            return NetconsoleConfigurationException.ForTarget(s, i, $"the remote MAC \"{s[i..end]}\" must be written xx:xx:xx:xx:xx:xx (six hex octets separated by ':')", "@/,@192.0.2.2/12:34:56:78:9a:bc");
        }

        result = options;
        return null;
    }

    /// <summary>The index of the next delimiter of the syntax (<c>@</c>, <c>/</c> or <c>,</c>) from <paramref name="i"/>, or <paramref name="end"/>.</summary>
    // A port field and the '@' after it; an empty field keeps the default in `port`.
    private static NetconsoleConfigurationException? ReadPortField(string s, int i, int fieldEnd, int end, string which, string hint, string example, ref int port)
    {
        if (fieldEnd == end || s[fieldEnd] != '@')
        {
            return MissingAfterPort(s, i, fieldEnd, $"the {which} port must be followed by '@' {hint}");
        }

        if (fieldEnd > i)
        {
            int parsed = ParsePort(s.AsSpan(i, fieldEnd - i));
            if (parsed < 0)
            {
                return NetconsoleConfigurationException.ForTarget(s, i, $"the {which} port \"{s[i..fieldEnd]}\" must be a decimal number from 1 to 65535", example);
            }

            port = parsed;
        }

        return null;
    }

    private static int FieldEnd(string s, int i, int end)
    {
        while (i < end && s[i] is not '@' and not '/' and not ',')
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// A port field not followed by <c>@</c>: when it is all digits the <c>@</c> belongs right after
    /// them; otherwise the text is probably an address written without its <c>@</c>, which
    /// belongs where the field starts.
    /// </summary>
    private static NetconsoleConfigurationException MissingAfterPort(string s, int start, int fieldEnd, string rule)
    {
        int digits = start;
        while (digits < fieldEnd && char.IsAsciiDigit(s[digits]))
        {
            digits++;
        }

        return NetconsoleConfigurationException.ForTarget(s, digits == fieldEnd ? fieldEnd : start, rule, FullExample);
    }

    /// <summary>
    /// Where an address that is not followed by its <c>/</c> ends: after the longest run of IPv6
    /// characters when that run holds a <c>:</c>, else after the longest run of IPv4 characters.
    /// </summary>
    private static int AddressPrefixEnd(string s, int start, int end)
    {
        int i = start;
        bool colon = false;
        while (i < end && (char.IsAsciiHexDigit(s[i]) || s[i] is ':' or '.'))
        {
            colon |= s[i] == ':';
            i++;
        }

        if (colon)
        {
            return i;
        }

        i = start;
        while (i < end && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
        {
            i++;
        }

        return i;
    }

    private static string BracketHint(string s, int start) =>
        s[start] == '[' ? " (IPv6 addresses are written bare, without brackets)" : string.Empty;

    /// <summary>A decimal port 1-65535 (leading zeros allowed, as the kernel does), or -1.</summary>
    private static int ParsePort(ReadOnlySpan<char> text)
    {
        int value = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return -1;
            }

            value = (value * 10) + (c - '0');
            if (value > 65535)
            {
                return -1;
            }
        }

        return value == 0 ? -1 : value;
    }
}
