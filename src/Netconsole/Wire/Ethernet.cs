using System.Net.NetworkInformation;

namespace Netconsole.Wire;

/// <summary>
/// Ethernet framing facts the package shares (Linux's include/uapi/linux/if_ether.h names them
/// ETH_HLEN, ETH_ALEN and ETH_P_*); EtherTypes are written big-endian on the wire.
/// </summary>
internal static class Ethernet
{
    /// <summary>ETH_HLEN: destination MAC, source MAC, EtherType.</summary>
    public const int HeaderLength = 14;

    /// <summary>ETH_ALEN: the length of a MAC address.</summary>
    public const int AddressLength = 6;

    /// <summary>ETH_P_IP.</summary>
    public const ushort EtherTypeIPv4 = 0x0800;

    /// <summary>ETH_P_ARP.</summary>
    public const ushort EtherTypeArp = 0x0806;

    /// <summary>ETH_P_IPV6.</summary>
    public const ushort EtherTypeIPv6 = 0x86dd;

    /// <summary>ff:ff:ff:ff:ff:ff: the kernel's destination when a target gives no remote MAC, and that of ARP requests.</summary>
    public static readonly PhysicalAddress Broadcast = new(BroadcastBytes.ToArray());

    /// <summary>The bytes of <see cref="Broadcast"/>, for writing frames without a copy.</summary>
    public static ReadOnlySpan<byte> BroadcastBytes => [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
}
