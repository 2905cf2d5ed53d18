using System.Runtime.InteropServices;

namespace Netconsole.Interop;

/// <summary>Failures of libc calls, in the system's words.</summary>
internal static class Errno
{
    /// <summary>The failure of the last libc call made with SetLastError, as an <see cref="IOException"/>.</summary>
    /// <param name="call">The call as the message shows it, for example <c>bind(AF_NETLINK)</c>.</param>
    public static IOException Failure(string call) => new($"{call} failed: {Text(Marshal.GetLastPInvokeError())}.");

    /// <summary>An errno as people read it: <c>No such device (errno 19)</c>.</summary>
    public static string Text(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
