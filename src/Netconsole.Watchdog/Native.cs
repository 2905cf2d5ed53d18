using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Netconsole.Watchdog;

/// <summary>The watchdog's libc calls (Linux).</summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class Native
{
    private const string Library = "libc";
    private const long SysPidfdOpen = 434; // the same number on every architecture (the unified syscall table)
    private const short PollIn = 0x1;
    private const int Eintr = 4;

    // _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info) with the first published size (64 bytes).
    private const nuint PidfdGetInfo = 0xC040FF0B;
    private const ulong PidfdInfoExit = 1UL << 3;
    private const int PidfdInfoSize = 64;
    private const int PidfdInfoExitCodeAt = 60;

    /// <summary>A session of its own: no terminal signal meant for the application reaches the watchdog.</summary>
    public static void NewSession() => SetSid();

    /// <summary>Standard input and output on /dev/null (standard error stays: the watchdog's last resort).</summary>
    public static void QuietStandardStreams()
    {
        int devNull = Open("/dev/null", 2 /* O_RDWR */);
        if (devNull >= 0)
        {
            Dup2(devNull, 0);
            Dup2(devNull, 1);
            if (devNull > 2)
            {
                Close(devNull);
            }
        }
    }

    public static int ParentProcessId() => GetPpid();

    /// <summary>pidfd_open(2): the descriptor, or minus the errno (ESRCH: no such process; ENOSYS: a kernel before 5.3).</summary>
    public static int PidfdOpen(int pid)
    {
        int fd = (int)Syscall(SysPidfdOpen, pid, 0);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>ESRCH: no such process.</summary>
    public const int NoSuchProcess = 3;

    /// <summary>Waits, without a time limit, until the pidfd is readable: the process has exited.</summary>
    public static void WaitUntilReadable(int pidfd)
    {
        PollFd poll = new() { Fd = pidfd, Events = PollIn };
        while (Poll(&poll, 1, -1) < 0 && Marshal.GetLastPInvokeError() == Eintr)
        {
        }
    }

    /// <summary>PIDFD_GET_INFO asking for PIDFD_INFO_EXIT: the wait status, or null (not reaped yet, or a kernel before 6.15).</summary>
    public static int? ExitInfo(int pidfd)
    {
        byte* info = stackalloc byte[PidfdInfoSize];
        new Span<byte>(info, PidfdInfoSize).Clear();
        *(ulong*)info = PidfdInfoExit;
        if (Ioctl(pidfd, PidfdGetInfo, info) != 0)
        {
            return null;
        }

        return (*(ulong*)info & PidfdInfoExit) != 0 ? *(int*)(info + PidfdInfoExitCodeAt) : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Library, EntryPoint = "setsid", SetLastError = true)]
    private static partial int SetSid();

    [LibraryImport(Library, EntryPoint = "getppid")]
    private static partial int GetPpid();

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int pid, uint flags);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, byte* argument);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int from, int to);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
