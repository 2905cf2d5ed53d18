namespace Netconsole.Interop;

/// <summary>
/// Linux socket constants the package shares (include/linux/socket.h, include/uapi/asm-generic/socket.h).
/// Address families are bytes: that is how rtnetlink messages carry them (rtm_family, ndm_family).
/// </summary>
internal static class SocketConstants
{
    /// <summary>AF_UNSPEC.</summary>
    public const byte AddressFamilyUnspecified = 0;

    /// <summary>AF_INET.</summary>
    public const byte AddressFamilyIPv4 = 2;

    /// <summary>AF_INET6.</summary>
    public const byte AddressFamilyIPv6 = 10;

    /// <summary>AF_NETLINK.</summary>
    public const byte AddressFamilyNetlink = 16;

    /// <summary>SOCK_RAW.</summary>
    public const int TypeRaw = 3;

    /// <summary>SOCK_CLOEXEC: a flag of socket(2)'s type.</summary>
    public const int CloseOnExec = 0x80000;

    /// <summary>SOL_SOCKET: the level of the generic socket options.</summary>
    public const int LevelSocket = 1;

    /// <summary>SO_RCVBUFFORCE: SO_RCVBUF beyond net.core.rmem_max, for CAP_NET_ADMIN.</summary>
    public const int ReceiveBufferForce = 33;
}
