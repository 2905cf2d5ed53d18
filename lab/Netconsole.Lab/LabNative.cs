using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Netconsole.Lab;

/// <summary>The few libc calls the lab needs (Linux only).</summary>
internal static partial class LabNative
{
    public const int CloneNewNet = 0x40000000;
    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;
    public const int WouldBlock = 11; // EWOULDBLOCK == EAGAIN on Linux

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNamespace(SafeFileHandle fd, int namespaceType);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeFileHandle fd, int operation);
}
