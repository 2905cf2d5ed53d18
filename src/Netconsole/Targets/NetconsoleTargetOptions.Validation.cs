using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using System.Text;
using Netconsole.Devices;
using Netconsole.Wire;

namespace Netconsole.Targets;

public sealed partial class NetconsoleTargetOptions
{
    /// <summary>The longest device name, 15 bytes: the kernel's IFNAMSIZ (16) includes the terminating NUL.</summary>
    internal const int MaxDeviceNameBytes = 15;

    /// <summary>The longest device name off Linux, 256 characters: Windows' longest interface alias (IF_MAX_STRING_SIZE); Npcap and BSD names are far shorter.</summary>
    internal const int MaxPlatformDeviceNameLength = 256;

    private const string ExtendedExample = "+@/eth0,@192.0.2.2/";

    /// <summary>
    /// Checks the rules that involve several properties: <see cref="RemoteAddress"/> is set;
    /// <see cref="LocalAddress"/>, when set, has the same family; <see cref="PrependRelease"/>,
    /// <see cref="Sysdata"/> and <see cref="Userdata"/> are only used with <see cref="Extended"/>
    /// (the basic format carries none of them) and <see cref="PrintkTime"/> only without it; and the
    /// device is given by name or by MAC, not both.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">A rule is broken; the message shows the options in the kernel syntax and a valid example.</exception>
    public void Validate()
    {
        if (RemoteAddress is null)
        {
            throw NetconsoleConfigurationException.ForOptions(ToString(), "a target needs a remote address (RemoteAddress)", "@/,@192.0.2.2/");
        }

        if (LocalAddress is not null && LocalAddress.AddressFamily != RemoteAddress.AddressFamily)
        {
            throw NetconsoleConfigurationException.ForOptions(
                ToString(),
                $"the local address {LocalAddress} ({FamilyName(LocalAddress)}) must be of the same family as the remote address {RemoteAddress} ({FamilyName(RemoteAddress)})",
                "6665@192.0.2.1/eth0,6666@192.0.2.2/");
        }

        ValidateFormat();
        if (DeviceName is not null && DeviceMac is not null)
        {
            throw NetconsoleConfigurationException.ForOptions(
                ToString(),
                $"a target is bound to its device either by name or by MAC, not both (DeviceName is \"{DeviceName}\" and DeviceMac is {MacAddressText.Format(DeviceMac)})",
                "@/eth0,@192.0.2.2/");
        }

        if (Sysdata != SysdataFields.None && !Extended)
        {
            throw NetconsoleConfigurationException.ForOptions(ToString(), "sysdata is only sent in extended format (set Extended, or set Sysdata to None)", ExtendedExample);
        }

        if (Userdata.Count > 0 && !Extended)
        {
            throw NetconsoleConfigurationException.ForOptions(ToString(), "userdata is only sent in extended format (set Extended, or clear Userdata)", ExtendedExample);
        }

        if (SpoolDirectory is not null && !ReplayBufferEnabled)
        {
            throw NetconsoleConfigurationException.ForOptions(ToString(), $"a spool (SpoolDirectory \"{SpoolDirectory}\") keeps what waits in the replay buffer, which is off: set ReplayBufferMaxRecords, ReplayBufferMaxBytes and ReplayBufferMaxAge above 0, or clear SpoolDirectory", "@/eth0,@192.0.2.2/");
        }
    }

    // The rules a record format needs checked (RecordFormatter ignores sysdata and userdata in the basic format).
    private void ValidateFormat()
    {
        if (PrependRelease && !Extended)
        {
            throw NetconsoleConfigurationException.ForOptions(ToString(), "release requires extended format (set Extended with PrependRelease)", "+r@/eth0,@192.0.2.2/");
        }

        if (SigningKey is not null && !Extended)
        {
            throw NetconsoleConfigurationException.ForOptions(
                ToString(),
                "signing needs the extended format: the signature is a dictionary line (set Extended with SigningKey)",
                "+@/eth0,@192.0.2.2/");
        }

        if (PrintkTime && Extended)
        {
            throw NetconsoleConfigurationException.ForOptions(
                ToString(),
                "the printk time is only written in basic format, the extended format carries the timestamp in its header (clear PrintkTime or Extended)",
                "@/eth0,@192.0.2.2/");
        }
    }

    /// <summary>
    /// Why <paramref name="name"/> (not empty) is not a usable <see cref="DeviceName"/> on this
    /// system (<see cref="HostPlatform.Current"/>), or <see langword="null"/> when it is.
    /// </summary>
    internal static string? DeviceNameRule(ReadOnlySpan<char> name) => DeviceNameRule(name, HostPlatform.Current);

    /// <summary>
    /// Why <paramref name="name"/> (not empty) is not a usable <see cref="DeviceName"/> on
    /// <paramref name="platform"/>, or <see langword="null"/> when it is: the kernel's rule on
    /// Linux, the platform's (<see cref="PlatformDeviceNameRule"/>) elsewhere.
    /// </summary>
    internal static string? DeviceNameRule(ReadOnlySpan<char> name, HostKind platform) =>
        platform == HostKind.Linux ? KernelDeviceNameRule(name) : PlatformDeviceNameRule(name);

    /// <summary>
    /// Why <paramref name="name"/> (not empty) is not a Linux interface name the kernel syntax can
    /// carry, or <see langword="null"/> when it is. <see cref="Parse"/> applies it on every system.
    /// </summary>
    internal static string? KernelDeviceNameRule(ReadOnlySpan<char> name)
    {
        foreach (char c in name)
        {
            if (c == ':')
            {
                return MacInNameRule;
            }

            // '/' is what Linux forbids; ',' and '@' are delimiters of the target syntax, so a
            // name holding them could not be written back.
            if (c is '/' or ',' or '@' or ';' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return "a device name cannot contain '/', ',', '@', ';', whitespace or control characters";
            }
        }

        if (name is "." or "..")
        {
            return "a device name cannot be \".\" or \"..\"";
        }

        int bytes = Encoding.UTF8.GetByteCount(name);
        return bytes > MaxDeviceNameBytes
            ? string.Format(CultureInfo.InvariantCulture, "a device name is at most {0} bytes (the kernel's IFNAMSIZ of 16 includes the terminating NUL), and this one has {1}", MaxDeviceNameBytes, bytes)
            : null;
    }

    /// <summary>
    /// Why <paramref name="name"/> (not empty) is not a usable device name off Linux, or
    /// <see langword="null"/> when it is: a name as the system or libpcap gives it (Windows
    /// <c>Ethernet 2</c> or <c>\Device\NPF_{GUID}</c>, macOS <c>en0</c>), at most
    /// <see cref="MaxPlatformDeviceNameLength"/> characters, without control characters or
    /// whitespace at either end, and without the kernel syntax's delimiters, so that
    /// <see cref="ToString"/> writes it as one field.
    /// </summary>
    internal static string? PlatformDeviceNameRule(ReadOnlySpan<char> name)
    {
        foreach (char c in name)
        {
            if (c == ':')
            {
                return MacInNameRule;
            }

            if (c is '/' or ',' or '@' or ';')
            {
                return "a device name cannot contain '/', ',', '@' or ';' (they delimit the kernel syntax the options are written in; bind the target by MAC instead, DeviceMac)";
            }

            if (char.IsControl(c))
            {
                return "a device name cannot contain control characters";
            }
        }

        if (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]))
        {
            return "a device name cannot start or end with whitespace";
        }

        return name.Length > MaxPlatformDeviceNameLength
            ? string.Format(CultureInfo.InvariantCulture, "a device name is at most {0} characters, and this one has {1}", MaxPlatformDeviceNameLength, name.Length)
            : null;
    }

    /// <summary>A device name that is valid for this system's options but not in the kernel syntax: what to do instead.</summary>
    internal const string KernelSyntaxNameHint =
        "the kernel syntax takes Linux interface names only (at most 15 bytes, no whitespace): on this system set NetconsoleTargetOptions.DeviceName through the options API, or bind the target by MAC (a MAC in place of the device)";

    /// <summary>An example of a device name for <paramref name="platform"/>, for error messages.</summary>
    internal static string DeviceNameExample(HostKind platform) => platform switch
    {
        HostKind.Linux => "eth0",
        HostKind.Windows => "Ethernet 2",
        _ => "en0",
    };

    private const string MacInNameRule = "a device name cannot contain ':' (a device given by MAC address goes in DeviceMac)";

    private static int CheckPort(int port, string property, int example) =>
        CheckRange(port, 1, 65535, "a UDP port is 1 to 65535", example, property);

    // A whole number setting: the value when within [min, max], else the error with the rule and an example.
    private static int CheckRange(int value, int min, int max, string rule, int example, string property) =>
        value >= min && value <= max
            ? value
            : throw NetconsoleConfigurationException.ForValue(
                value.ToString(CultureInfo.InvariantCulture),
                rule,
                example.ToString(CultureInfo.InvariantCulture),
                property);

    private static PhysicalAddress? CheckMac(PhysicalAddress? mac, string property)
    {
        if (mac is null)
        {
            return null;
        }

        int length = mac.GetAddressBytes().Length;
        return length == 6
            ? mac
            : throw NetconsoleConfigurationException.ForValue(
                mac.ToString(),
                string.Format(CultureInfo.InvariantCulture, "an Ethernet MAC address is 6 bytes, and this one has {0}", length),
                "12:34:56:78:9a:bc",
                property);
    }

    private static IPAddress? CheckAddress(IPAddress? address, string property) =>
        address is { AddressFamily: AddressFamily.InterNetworkV6, ScopeId: not 0 }
            ? throw NetconsoleConfigurationException.ForValue(
                address.ToString(),
                "an IPv6 address cannot carry a scope id: the device selects the link, and the kernel syntax has no place for one",
                "fe80::1",
                property)
            : address;

    private static string FamilyName(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}
