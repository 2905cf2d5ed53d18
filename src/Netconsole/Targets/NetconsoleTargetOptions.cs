using System.Net;
using System.Net.NetworkInformation;
using System.Reflection;

using Netconsole.Devices;
using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>
/// One netconsole target's configuration: where records go (device, addresses, ports, MACs)
/// and how they are formatted (basic or extended, release prefix, userdata, sysdata, facility,
/// printk time).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Parse"/> and <see cref="ParseMany"/> read the kernel's <c>netconsole=</c> syntax
/// <c>[+][r][src-port]@[src-ip]/[dev],[tgt-port]@tgt-ip/[tgt-mac]</c>, and
/// <see cref="ToString"/> writes it back. Unlike the kernel there is no default device: a target
/// without <see cref="DeviceName"/> or <see cref="DeviceMac"/> never opens an interface by itself.
/// </para>
/// <para>
/// Device names differ between systems (<c>eth0</c> on Linux, <c>Ethernet 2</c> or
/// <c>\Device\NPF_{GUID}</c> on Windows, <c>en0</c> on macOS); <see cref="DeviceName"/> takes
/// those of the system it runs on, the kernel syntax only Linux names. Binding a target by MAC
/// (<see cref="DeviceMac"/>) is the portable way.
/// </para>
/// <para>
/// A setter rejects a value that is wrong on its own (a port outside 1-65535, a facility outside
/// 0-23, a malformed device name or release) with <see cref="NetconsoleConfigurationException"/>.
/// Rules that involve several properties (remote address required, same address family, release
/// and sysdata and userdata only in extended format, device by name or by MAC) are checked by
/// <see cref="Validate"/>, so properties can be set in any order.
/// </para>
/// <para>This type is not thread-safe; take a <see cref="Clone"/> to hand a snapshot to another thread.</para>
/// </remarks>
public sealed partial class NetconsoleTargetOptions
{
    /// <summary>The default local (source) UDP port, 6665, as in the kernel.</summary>
    public const int DefaultLocalPort = 6665;

    /// <summary>The default remote (destination) UDP port, 6666, as in the kernel.</summary>
    public const int DefaultRemotePort = 6666;

    /// <summary>The default facility, 1 (user), as for records written through /dev/kmsg.</summary>
    public const int DefaultFacility = 1;

    private string? _deviceName;
    private PhysicalAddress? _deviceMac;
    private IPAddress? _localAddress;
    private int _localPort = DefaultLocalPort;
    private IPAddress? _remoteAddress;
    private int _remotePort = DefaultRemotePort;
    private PhysicalAddress? _remoteMac;
    private string? _release;
    private SysdataFields _sysdata;
    private int _facility = DefaultFacility;

    /// <summary>Creates options with the documented defaults and no remote address.</summary>
    public NetconsoleTargetOptions()
    {
        Userdata = new UserdataCollection();
    }

    /// <summary>The target's name (for statistics and events). The default is <see langword="null"/>; <see cref="ParseMany"/> names targets cmdline0, cmdline1, ...</summary>
    public string? Name { get; set; }

    /// <summary>
    /// The interface to send on, by name. The default is <see langword="null"/>; an empty string
    /// is stored as <see langword="null"/>. Setting it leaves <see cref="DeviceMac"/> alone
    /// (<see cref="Validate"/> rejects both being set).
    /// </summary>
    /// <remarks>
    /// <para>
    /// On Linux, a kernel interface name: at most 15 bytes (the kernel's IFNAMSIZ of 16 includes
    /// the terminating NUL), without <c>/</c>, <c>:</c>, <c>,</c>, <c>@</c>, <c>;</c>, whitespace
    /// or control characters, and not <c>.</c> or <c>..</c>; for example <c>eth0</c>.
    /// </para>
    /// <para>
    /// On Windows and macOS, the name the system or libpcap gives the device: on Windows the
    /// connection name (<c>Ethernet 2</c>) or the Npcap device name
    /// (<c>\Device\NPF_{GUID}</c>), on macOS the BSD name (<c>en0</c>). At most 256 characters,
    /// without control characters, whitespace at either end, <c>:</c>, <c>/</c>, <c>,</c>,
    /// <c>@</c> or <c>;</c>. Such a name may not fit the kernel syntax: see <see cref="ToString"/>.
    /// </para>
    /// <para>
    /// Names differ between systems; a MAC address does not. <see cref="DeviceMac"/> is the
    /// portable way to bind a target to its device, and the only one that survives a rename.
    /// </para>
    /// </remarks>
    /// <exception cref="NetconsoleConfigurationException">The name is not a valid interface name on this system.</exception>
    public string? DeviceName
    {
        get => _deviceName;
        set
        {
            if (string.IsNullOrEmpty(value))
            {
                _deviceName = null;
                return;
            }

            HostKind platform = HostPlatform.Current;
            string? rule = DeviceNameRule(value, platform);
            _deviceName = rule is null
                ? value
                : throw NetconsoleConfigurationException.ForValue(value, rule, DeviceNameExample(platform), nameof(DeviceName));
        }
    }

    /// <summary>
    /// The interface to send on, by MAC address (6 bytes; the target is then bound by MAC and
    /// follows the device across renames). The portable way to name a device: the same on Linux,
    /// Windows and macOS, where device names differ. The default is <see langword="null"/>. Setting it leaves
    /// <see cref="DeviceName"/> alone (<see cref="Validate"/> rejects both being set).
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The address is not 6 bytes long.</exception>
    public PhysicalAddress? DeviceMac
    {
        get => _deviceMac;
        set => _deviceMac = CheckMac(value, nameof(DeviceMac));
    }

    /// <summary>
    /// The source IP address, or <see langword="null"/> for the device's first address of the
    /// remote's family. The default is <see langword="null"/>. An IPv6 address must not carry a
    /// scope id (the device selects the link; the kernel syntax has no place for one). The options
    /// keep a copy, and give one: changing the object afterwards (its ScopeId) changes nothing here.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The address is an IPv6 address with a scope id.</exception>
    public IPAddress? LocalAddress
    {
        get => CopyAddress(_localAddress);
        set => _localAddress = CopyAddress(CheckAddress(value, nameof(LocalAddress)));
    }

    /// <summary>The source UDP port, 1-65535. The default is <see cref="DefaultLocalPort"/> (6665).</summary>
    /// <exception cref="NetconsoleConfigurationException">The port is outside 1-65535.</exception>
    public int LocalPort
    {
        get => _localPort;
        set => _localPort = CheckPort(value, nameof(LocalPort), DefaultLocalPort);
    }

    /// <summary>
    /// The receiver's IP address (IPv4 or IPv6, without a scope id). Required: the default is
    /// <see langword="null"/>, which <see cref="Validate"/> rejects. The options keep a copy, and
    /// give one: changing the object afterwards (its ScopeId) changes nothing here.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The address is an IPv6 address with a scope id.</exception>
    public IPAddress? RemoteAddress
    {
        get => CopyAddress(_remoteAddress);
        set => _remoteAddress = CopyAddress(CheckAddress(value, nameof(RemoteAddress)));
    }

    /// <summary>The receiver's UDP port, 1-65535. The default is <see cref="DefaultRemotePort"/> (6666).</summary>
    /// <exception cref="NetconsoleConfigurationException">The port is outside 1-65535.</exception>
    public int RemotePort
    {
        get => _remotePort;
        set => _remotePort = CheckPort(value, nameof(RemotePort), DefaultRemotePort);
    }

    /// <summary>
    /// The next hop's MAC address (6 bytes), or <see langword="null"/> when not given. The default is
    /// <see langword="null"/>. The kernel then sends to broadcast (ff:ff:ff:ff:ff:ff); this library
    /// decides how to reach the next hop when the target is enabled.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The address is not 6 bytes long.</exception>
    public PhysicalAddress? RemoteMac
    {
        get => _remoteMac;
        set => _remoteMac = CheckMac(value, nameof(RemoteMac));
    }

    /// <summary>Send the extended format (<c>+</c> in the kernel syntax). The default is <see langword="false"/> (basic format).</summary>
    public bool Extended { get; set; }

    /// <summary>Prepend the release string to every extended record (<c>r</c> in the kernel syntax; requires <see cref="Extended"/>). The default is <see langword="false"/>.</summary>
    public bool PrependRelease { get; set; }

    /// <summary>
    /// The release string used by <see cref="PrependRelease"/> and the <c>release</c> sysdata line,
    /// or <see langword="null"/> for <see cref="RecordFormat.DefaultRelease"/>. The default is <see langword="null"/>.
    /// A release is 1-63 printable ASCII characters (0x21-0x7e; netconsd looks for the <c>,</c> that
    /// ends it within a record's first 64 bytes), contains a <c>.</c> (netconsd takes a record's
    /// first field for a release only when it has one) and no <c>,</c> or <c>;</c>.
    /// </summary>
    /// <exception cref="NetconsoleConfigurationException">The string is not a usable release; the message says which rule it breaks.</exception>
    public string? Release
    {
        get => _release;
        set => _release = value is not null && RecordFormat.ReleaseRule(value) is { } rule
            ? throw NetconsoleConfigurationException.ForValue(value, rule, "6.4.0", nameof(Release))
            : value;
    }

    /// <summary>
    /// Start every line of a basic record with the kernel's printk time, <c>[    T.TTTTTT] </c> (the
    /// record's timestamp in seconds, as the kernel's console output with <c>printk.time</c> on); see
    /// <see cref="RecordFormat.PrintkTime"/>. Basic format only (the extended format carries the
    /// timestamp in its header): <see cref="Validate"/> rejects it with <see cref="Extended"/>. Not
    /// part of the kernel syntax. The default is <see langword="false"/>: a basic record is the text and a newline.
    /// </summary>
    public bool PrintkTime { get; set; }

    /// <summary>
    /// Signs every record this target sends with this key (HMAC-SHA256 in one more dictionary
    /// line; see <see cref="Wire.RecordSigningKey"/>), so a receiver holding the key tells real
    /// records from forged or replayed ones. Needs <see cref="Extended"/>. The kernel syntax has no
    /// place for it: set it in code or configuration. The default is <see langword="null"/> (not signed).
    /// </summary>
    public Wire.RecordSigningKey? SigningKey { get; set; }

    /// <summary>Userdata: ordered key/value lines appended to every extended record. Empty by default.</summary>
    public UserdataCollection Userdata { get; }

    /// <summary>Sysdata lines appended to every extended record. The default is <see cref="SysdataFields.None"/>.</summary>
    /// <exception cref="NetconsoleConfigurationException">The value has flags outside <see cref="SysdataFields.All"/>.</exception>
    public SysdataFields Sysdata
    {
        get => _sysdata;
        set => _sysdata = (value & ~SysdataFields.All) == 0
            ? value
            : throw NetconsoleConfigurationException.ForValue(
                ((int)value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "sysdata is a combination of Cpu, TaskName, Release and MessageId",
                "Cpu, TaskName",
                nameof(Sysdata));
    }

    /// <summary>The syslog facility of records that do not carry their own, 0 (kern) to 23 (local7). The default is <see cref="DefaultFacility"/> (1, user).</summary>
    /// <exception cref="NetconsoleConfigurationException">The facility is outside 0-23.</exception>
    public int Facility
    {
        get => _facility;
        set => _facility = value is >= 0 and <= 23
            ? value
            : throw NetconsoleConfigurationException.ForValue(
                value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "a facility is 0 (kern) to 23 (local7)",
                "1",
                nameof(Facility));
    }

    /// <summary>
    /// The format part of these options, as they are now, for a <see cref="RecordFormatter"/>:
    /// <see cref="Extended"/>, <see cref="PrependRelease"/>, <see cref="Release"/> (or
    /// <see cref="RecordFormat.DefaultRelease"/>), <see cref="Facility"/>, a copy of
    /// <see cref="Userdata"/>, <see cref="Sysdata"/> and <see cref="PrintkTime"/>.
    /// </summary>
    /// <returns>The record format.</returns>
    /// <exception cref="NetconsoleConfigurationException">The options ask for the release prefix without the extended format, or for the printk time with it.</exception>
    public RecordFormat ToRecordFormat()
    {
        ValidateFormat();
        return new RecordFormat
        {
            Extended = Extended,
            PrependRelease = PrependRelease,
            Release = Release ?? RecordFormat.DefaultRelease,
            Facility = Facility,
            Userdata = [.. Userdata],
            Sysdata = Sysdata,
            PrintkTime = PrintkTime,
            SigningKey = SigningKey,
        };
    }

    /// <summary>
    /// Creates an independent copy: every property, including <see cref="Name"/> and the
    /// <see cref="Userdata"/> entries; the addresses are copied too, so changing the copy never
    /// affects this instance.
    /// </summary>
    /// <returns>The copy.</returns>
    public NetconsoleTargetOptions Clone()
    {
        var copy = new NetconsoleTargetOptions
        {
            Name = Name,
            _deviceName = _deviceName,
            _deviceMac = CopyMac(_deviceMac),
            _localAddress = CopyAddress(_localAddress),
            _localPort = _localPort,
            _remoteAddress = CopyAddress(_remoteAddress),
            _remotePort = _remotePort,
            _remoteMac = CopyMac(_remoteMac),
            Extended = Extended,
            PrependRelease = PrependRelease,
            _release = _release,
            _sysdata = _sysdata,
            _facility = _facility,
            PrintkTime = PrintkTime,
            SigningKey = SigningKey, // immutable: shared
            _maxDatagramsPerSecond = _maxDatagramsPerSecond,
            _maxDatagramBurst = _maxDatagramBurst,
            _replayBufferMaxRecords = _replayBufferMaxRecords,
            _replayBufferMaxBytes = _replayBufferMaxBytes,
            _replayBufferMaxAge = _replayBufferMaxAge,
            _spoolDirectory = _spoolDirectory,
        };
        copy.Userdata.CopyFrom(Userdata);
        return copy;
    }

    // PhysicalAddress keeps the array it was built from and IPAddress has a settable ScopeId:
    // neither is safe to share between two option sets.
    private static PhysicalAddress? CopyMac(PhysicalAddress? mac) => mac is null ? null : new PhysicalAddress(mac.GetAddressBytes());

    private static IPAddress? CopyAddress(IPAddress? address) => address is null ? null : new IPAddress(address.GetAddressBytes());
}
