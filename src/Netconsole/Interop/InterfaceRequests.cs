using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace Netconsole.Interop;

/// <summary>
/// The interface ioctls (SIOCGIFFLAGS, SIOCGIFINDEX, SIOCGIFMTU; include/uapi/linux/sockios.h)
/// on any socket: the kernel answers for the socket's network namespace, which is the caller's.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class InterfaceRequests
{
    private const uint GetFlagsRequest = 0x8913;  // SIOCGIFFLAGS
    private const uint GetMtuRequest = 0x8921;    // SIOCGIFMTU
    private const uint GetIndexRequest = 0x8933;  // SIOCGIFINDEX
    private const int RequestLength = 40;         // struct ifreq
    private const int NameLength = 16;            // IFNAMSIZ, the terminating NUL included

    /// <summary>The device's flags, or null when there is no such device.</summary>
    public static InterfaceFlags? GetFlags(Socket socket, string name) =>
        Get(socket, name, GetFlagsRequest, out Span<byte> value) ? (InterfaceFlags)MemoryMarshal.Read<ushort>(value) : null;

    /// <summary>The device's interface index, or null when there is no such device.</summary>
    public static int? GetIndex(Socket socket, string name) =>
        Get(socket, name, GetIndexRequest, out Span<byte> value) ? MemoryMarshal.Read<int>(value) : null;

    /// <summary>The device's MTU, or null when there is no such device.</summary>
    public static int? GetMtu(Socket socket, string name) =>
        Get(socket, name, GetMtuRequest, out Span<byte> value) ? MemoryMarshal.Read<int>(value) : null;

    // struct ifreq: the name (NUL-terminated, 16 bytes), then a union whose first member is a
    // short (flags) or an int (index, mtu), in host byte order.
    private static bool Get(Socket socket, string name, uint request, out Span<byte> value)
    {
        value = default;
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length == 0 || nameBytes.Length >= NameLength)
        {
            return false;
        }

        byte[] interfaceRequest = new byte[RequestLength];
        nameBytes.CopyTo(interfaceRequest, 0);
        if (Libc.Ioctl(socket.SafeHandle, request, interfaceRequest) != 0)
        {
            return false;
        }

        value = interfaceRequest.AsSpan(NameLength);
        return true;
    }
}
