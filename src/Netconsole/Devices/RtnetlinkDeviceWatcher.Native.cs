using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Netconsole.Devices;

// Opening NETLINK_ROUTE sockets: .NET's Socket constructor refuses AF_NETLINK, so the socket
// is made and bound with libc and then handed to a Socket, which owns and closes it.
public sealed partial class RtnetlinkDeviceWatcher
{
    private const int AddressFamilyNetlink = 16; // AF_NETLINK
    private const int SocketTypeRaw = 3;          // SOCK_RAW
    private const int SocketCloseOnExec = 0x80000; // SOCK_CLOEXEC
    private const int NetlinkRoute = 0;           // NETLINK_ROUTE
    private const uint GroupLink = 1;             // RTMGRP_LINK
    private const int SocketAddressLength = 12;   // struct sockaddr_nl
    private const int SolSocket = 1;
    private const int SoReceiveBufferForce = 33;  // SO_RCVBUFFORCE (needs CAP_NET_ADMIN)

    /// <summary>Whether a NETLINK_ROUTE socket can be opened here (Linux, not forbidden by a sandbox).</summary>
    internal static bool CanOpenSocket()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            using Socket socket = OpenSocket(0);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// A NETLINK_ROUTE socket bound to the multicast groups (0: none, for requests only). .NET's
    /// Socket constructor refuses AF_NETLINK, so the socket is made and bound with libc and handed
    /// to a Socket, which owns and closes it. Shared with the route and neighbour lookups.
    /// </summary>
    /// <exception cref="IOException">socket(2) or bind(2) failed.</exception>
    internal static Socket OpenSocket(uint groups)
    {
        int fd = socket(AddressFamilyNetlink, SocketTypeRaw | SocketCloseOnExec, NetlinkRoute);
        if (fd < 0)
        {
            throw NativeFailure("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)");
        }

        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            // struct sockaddr_nl: family, pad, pid 0 (the kernel assigns one), groups.
            byte[] address = new byte[SocketAddressLength];
            MemoryMarshal.Write(address.AsSpan(0), (ushort)AddressFamilyNetlink);
            MemoryMarshal.Write(address.AsSpan(8), groups);
            if (bind(fd, address, address.Length) != 0)
            {
                throw NativeFailure("bind(AF_NETLINK)");
            }

            return new Socket(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    // A large buffer makes overflows (ENOBUFS, then a re-dump) rare in event storms; the forced
    // size needs CAP_NET_ADMIN, the plain one is capped by net.core.rmem_max.
    private static void SetReceiveBuffer(Socket socket, int bytes)
    {
        try
        {
            socket.SetRawSocketOption(SolSocket, SoReceiveBufferForce, BitConverter.GetBytes(bytes));
        }
        catch (SocketException)
        {
            try
            {
                socket.ReceiveBufferSize = bytes;
            }
            catch (SocketException)
            {
                // The default buffer still works; overflows are recovered by re-dumping.
            }
        }
    }

    private static IOException NativeFailure(string call)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this package does not allow.
#pragma warning disable CA5392 // The search path is set.
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int bind(int fd, [In] byte[] address, int addressLength);
#pragma warning restore CA5392
#pragma warning restore SYSLIB1054
}
