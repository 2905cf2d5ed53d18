using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Netconsole.Interop;

namespace Netconsole.Netlink;

/// <summary>
/// Opens NETLINK_ROUTE sockets. .NET's Socket constructor refuses AF_NETLINK, so the socket is
/// made and bound with libc and handed to a <see cref="Socket"/>, which owns and closes it.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class NetlinkSocket
{
    /// <summary>RTMGRP_LINK: the multicast group of link notifications (RTM_NEWLINK / RTM_DELLINK).</summary>
    public const uint GroupLink = 1;

    /// <summary>The largest datagram to expect: a dump part is at most 32 KiB (the kernel's default), notifications are smaller.</summary>
    public const int DatagramBytes = 64 * 1024;

    private const int NetlinkRoute = 0;         // NETLINK_ROUTE
    private const int SocketAddressLength = 12; // struct sockaddr_nl

    /// <summary>Whether a NETLINK_ROUTE socket can be opened here (not forbidden by a sandbox).</summary>
    public static bool CanOpen()
    {
        try
        {
            using Socket socket = Open(groups: 0);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// A NETLINK_ROUTE socket bound to the multicast <paramref name="groups"/> (0: none, so only
    /// the answers to its own requests arrive).
    /// </summary>
    /// <param name="groups">RTMGRP_* bits, for example <see cref="GroupLink"/>.</param>
    /// <param name="receiveBufferBytes">
    /// For a socket that listens to notifications: the receive buffer to ask for (best effort,
    /// see <see cref="SocketOptions.TrySetReceiveBuffer"/>); 0 keeps the default.
    /// </param>
    /// <exception cref="IOException">socket(2) or bind(2) failed.</exception>
    public static Socket Open(uint groups, int receiveBufferBytes = 0)
    {
        SafeSocketHandle handle = Libc.Socket(SocketConstants.AddressFamilyNetlink, SocketConstants.TypeRaw | SocketConstants.CloseOnExec, NetlinkRoute);
        if (handle.IsInvalid)
        {
            IOException failure = Errno.Failure("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)");
            handle.Dispose();
            throw failure;
        }

        try
        {
            // struct sockaddr_nl: family, pad, port id 0 (the kernel assigns one), groups.
            Span<byte> address = stackalloc byte[SocketAddressLength];
            address.Clear();
            MemoryMarshal.Write(address, (ushort)SocketConstants.AddressFamilyNetlink);
            MemoryMarshal.Write(address[8..], groups);
            if (Libc.Bind(handle, address, address.Length) != 0)
            {
                throw Errno.Failure("bind(AF_NETLINK)");
            }

            var socket = new Socket(handle);
            if (receiveBufferBytes > 0)
            {
                // A large buffer makes overflows (ENOBUFS, then a re-dump) rare in event storms;
                // when it is refused the default one still works, and overflows are recovered.
                SocketOptions.TrySetReceiveBuffer(socket, receiveBufferBytes);
            }

            return socket;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
