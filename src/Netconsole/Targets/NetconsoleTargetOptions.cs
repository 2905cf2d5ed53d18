using System.Net;
using System.Net.NetworkInformation;
using System.Reflection;

namespace Netconsole.Targets;

/// <summary>
/// One netconsole target's configuration: where records go (device, addresses, ports, MACs)
/// and how they are formatted (basic or extended, release prefix, userdata, sysdata, facility).
/// </summary>
/// <remarks>
/// <see cref="Parse"/> and <see cref="ParseMany"/> read the kernel's <c>netconsole=</c> syntax
/// <c>[+][r][src-port]@[src-ip]/[dev],[tgt-port]@tgt-ip/[tgt-mac]</c>, and
/// <see cref="ToString"/> writes it back. Unlike the kernel there is no default device: a target
/// without <see cref="DeviceName"/> or <see cref="DeviceMac"/> never opens an interface by itself.
/// </remarks>
public sealed partial class NetconsoleTargetOptions
{
    /// <summary>The default local (source) UDP port, 6665, as in the kernel.</summary>
    public const int DefaultLocalPort = 6665;

    /// <summary>The default remote (destination) UDP port, 6666, as in the kernel.</summary>
    public const int DefaultRemotePort = 6666;

    /// <summary>The default facility, 1 (user), as for records written through /dev/kmsg.</summary>
    public const int DefaultFacility = 1;

    /// <summary>Creates options with the documented defaults and no remote address.</summary>
    public NetconsoleTargetOptions()
    {
        Userdata = new UserdataCollection();
    }

    /// <summary>The target's name (for statistics and events). The default is <see langword="null"/>; <see cref="ParseMany"/> names targets cmdline0, cmdline1, ...</summary>
    public string? Name { get; set; }

    /// <summary>The interface to send on, by name (fewer than 16 characters). The default is <see langword="null"/>.</summary>
    public string? DeviceName { get; set; }

    /// <summary>The interface to send on, by MAC address (the target is then bound by MAC). The default is <see langword="null"/>.</summary>
    public PhysicalAddress? DeviceMac { get; set; }

    /// <summary>The source IP address, or <see langword="null"/> for the device's first address of the remote's family. The default is <see langword="null"/>.</summary>
    public IPAddress? LocalAddress { get; set; }

    /// <summary>The source UDP port, 1-65535. The default is <see cref="DefaultLocalPort"/> (6665).</summary>
    public int LocalPort { get; set; } = DefaultLocalPort;

    /// <summary>The receiver's IP address (IPv4 or IPv6). Required.</summary>
    public IPAddress? RemoteAddress { get; set; }

    /// <summary>The receiver's UDP port, 1-65535. The default is <see cref="DefaultRemotePort"/> (6666).</summary>
    public int RemotePort { get; set; } = DefaultRemotePort;

    /// <summary>The next hop's MAC address, or <see langword="null"/> when not given (the kernel then uses broadcast). The default is <see langword="null"/>.</summary>
    public PhysicalAddress? RemoteMac { get; set; }

    /// <summary>Send the extended format (<c>+</c> in the kernel syntax). The default is <see langword="false"/> (basic format).</summary>
    public bool Extended { get; set; }

    /// <summary>Prepend the release string to every extended record (<c>r</c> in the kernel syntax; requires <see cref="Extended"/>). The default is <see langword="false"/>.</summary>
    public bool PrependRelease { get; set; }

    /// <summary>
    /// The release string used by <see cref="PrependRelease"/> and the <c>release</c> sysdata line,
    /// or <see langword="null"/> for <see cref="DefaultRelease"/>. The default is <see langword="null"/>.
    /// </summary>
    public string? Release { get; set; }

    /// <summary>Userdata: ordered key/value lines appended to every extended record.</summary>
    public UserdataCollection Userdata { get; }

    /// <summary>Sysdata lines appended to every extended record. The default is <see cref="SysdataFields.None"/>.</summary>
    public SysdataFields Sysdata { get; set; }

    /// <summary>The syslog facility of records that do not carry their own, 0-23. The default is <see cref="DefaultFacility"/> (1, user).</summary>
    public int Facility { get; set; } = DefaultFacility;

    /// <summary>The release string in effect: <see cref="Release"/>, or <see cref="DefaultRelease"/> when it is <see langword="null"/>.</summary>
    public string EffectiveRelease => Release ?? DefaultRelease;

    /// <summary>
    /// The entry assembly's informational version (for example <c>1.4.0+3f2a9c1</c>), or
    /// <c>0.0.0</c> when there is none or it could not be used as a release string.
    /// </summary>
    public static string DefaultRelease { get; } = ComputeDefaultRelease();

    private static string ComputeDefaultRelease()
    {
        string? version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return version is not null && IsUsableRelease(version) ? version : "0.0.0";
    }
}
