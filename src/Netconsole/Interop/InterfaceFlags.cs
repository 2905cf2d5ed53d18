namespace Netconsole.Interop;

/// <summary>
/// Linux interface flags (IFF_*, include/uapi/linux/if.h): rtnetlink's ifi_flags and
/// SIOCGIFFLAGS's ifr_flags carry the same bits.
/// </summary>
[Flags]
internal enum InterfaceFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>IFF_UP: administratively up.</summary>
    Up = 0x1,

    /// <summary>IFF_LOOPBACK: a loopback device.</summary>
    Loopback = 0x8,

    /// <summary>
    /// IFF_RUNNING: operationally up. The kernel sets it (dev_get_flags) when the RFC 2863
    /// operstate is UP or UNKNOWN.
    /// </summary>
    Running = 0x40,

    /// <summary>IFF_LOWER_UP: the carrier only (rtnetlink reports it; SIOCGIFFLAGS's 16 bits cannot).</summary>
    LowerUp = 0x10000,
}
