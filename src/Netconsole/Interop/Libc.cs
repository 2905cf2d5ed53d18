using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Netconsole.Interop;

/// <summary>
/// Every libc call of the package (Linux): the sockets .NET's <see cref="System.Net.Sockets.Socket"/>
/// constructor refuses (AF_NETLINK), the interface ioctls, and recvmmsg for the receiver. Source-generated imports; a socket
/// libc opens is owned by a <see cref="SafeSocketHandle"/> from the moment the call returns.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class Libc
{
    private const string Library = "libc";

    /// <summary>socket(2); an invalid handle when it failed (<see cref="Errno.Failure"/> says why).</summary>
    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    internal static partial SafeSocketHandle Socket(int domain, int type, int protocol);

    /// <summary>bind(2) to the socket address in <paramref name="address"/>; 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "bind", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    internal static partial int Bind(SafeSocketHandle socket, ReadOnlySpan<byte> address, int addressLength);

    /// <summary>recvmmsg(2) into the <c>struct mmsghdr</c> array at <paramref name="messages"/> (pinned by the caller); the number received, or -1.</summary>
    [LibraryImport(Library, EntryPoint = "recvmmsg", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    internal static partial int ReceiveMultipleMessages(SafeSocketHandle socket, IntPtr messages, uint count, int flags, IntPtr timeout);

    /// <summary>ioctl(2) with a pointer argument (a struct the kernel reads and fills); 0 on success.</summary>
    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    internal static partial int Ioctl(SafeSocketHandle socket, nuint request, Span<byte> argument);
}
