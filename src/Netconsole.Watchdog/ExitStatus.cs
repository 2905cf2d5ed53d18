using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Netconsole.Logging.ProcessDeath;

namespace Netconsole.Watchdog;

/// <summary>What the watchdog knows of its parent from the start: its start time (to tell the zombie from a later process with its pid) and name.</summary>
[SupportedOSPlatform("linux")]
internal sealed record ParentIdentity(int Pid, string? StartTime, string? Name)
{
    public static ParentIdentity Read(int pid)
    {
        string? name = null;
        try
        {
            name = File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return new ParentIdentity(pid, ExitStatus.StatField(pid, ExitStatus.StartTimeField), name);
    }
}

/// <summary>
/// The parent's wait status after its death. Two sources, whichever answers first: the zombie's
/// <c>/proc/PID/stat</c> field 52 (exit_code, in wait-status form) while it is a zombie (state
/// Z) with the same start time; or, once it is reaped, <c>PIDFD_GET_INFO</c> with
/// <c>PIDFD_INFO_EXIT</c> (Linux 6.15 and later), which the kernel keeps with the pidfd. Before
/// 6.15 a parent reaped before the watchdog looked gives no status: the cause is then unknown.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ExitStatus
{
    internal const int StateField = 3;
    internal const int StartTimeField = 22;
    internal const int ExitCodeField = 52;

    public static DeathCause Read(int pidfd, ParentIdentity parent, TimeSpan wait)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (Native.ExitInfo(pidfd) is { } status)
            {
                return new DeathCause(status);
            }

            if (FromZombie(parent) is { } zombie)
            {
                return new DeathCause(zombie);
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                return new DeathCause(null);
            }

            Thread.Sleep(1);
        }
    }

    private static int? FromZombie(ParentIdentity parent)
    {
        string[]? fields = StatFields(parent.Pid);
        if (fields is null || fields.Length <= ExitCodeField - StateField)
        {
            return null;
        }

        bool zombie = fields[0] is "Z" or "X";
        bool same = parent.StartTime is not null && fields[StartTimeField - StateField] == parent.StartTime;
        return zombie && same && int.TryParse(fields[ExitCodeField - StateField], NumberStyles.Integer, CultureInfo.InvariantCulture, out int status)
            ? status
            : null;
    }

    internal static string? StatField(int pid, int field) =>
        StatFields(pid) is { } fields && fields.Length > field - StateField ? fields[field - StateField] : null;

    // The fields from the state (field 3) on: after the last ')', since the command name in
    // field 2 may itself hold spaces and parentheses.
    private static string[]? StatFields(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int end = stat.LastIndexOf(')');
            return end < 0 ? null : stat[(end + 1)..].Trim().Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
