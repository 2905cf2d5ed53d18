using System.Net;
using System.Net.Sockets;
using Netconsole.Interop;

namespace Netconsole.Netlink;

/// <summary>IP addresses as rtnetlink carries them: a family byte (AF_INET, AF_INET6) and 4 or 16 bytes.</summary>
internal static class RtnetlinkAddresses
{
    /// <summary>An address of the family's length (4 or 16 bytes), else null.</summary>
    public static IPAddress? ToAddress(byte family, ReadOnlySpan<byte> value) => (family, value.Length) switch
    {
        (SocketConstants.AddressFamilyIPv4, 4) => new IPAddress(value),
        (SocketConstants.AddressFamilyIPv6, 16) => new IPAddress(value),
        _ => null,
    };

    /// <summary>The rtnetlink family of an address, with IPv4-mapped IPv6 addresses as IPv4.</summary>
    /// <exception cref="ArgumentException">Neither IPv4 nor IPv6.</exception>
    public static (byte Family, IPAddress Address) Normalize(IPAddress address, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(address, parameterName);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => (SocketConstants.AddressFamilyIPv4, address),
            AddressFamily.InterNetworkV6 => (SocketConstants.AddressFamilyIPv6, address),
            _ => throw new ArgumentException($"{address} is neither an IPv4 nor an IPv6 address.", parameterName),
        };
    }
}
