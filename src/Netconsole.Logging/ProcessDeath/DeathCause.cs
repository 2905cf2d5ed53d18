using System.Globalization;

namespace Netconsole.Logging.ProcessDeath;

/// <summary>
/// How the application ended, as the kernel reports it: a wait status (<c>waitpid(2)</c> form:
/// the terminating signal in bits 0-6, the core-dump bit 7, else the exit code in bits 8-15), or
/// nothing when the kernel could not say (no <c>PIDFD_INFO_EXIT</c> and the zombie already reaped).
/// </summary>
internal readonly record struct DeathCause(int? WaitStatus)
{
    /// <summary>The <c>CATEGORY=</c> of the death record.</summary>
    public const string Category = "Netconsole.Death";

    /// <summary>Its syslog level: 2 (crit).</summary>
    public const int Level = 2;

    public bool Known => WaitStatus is not null;

    /// <summary>The terminating signal, or 0 when the process exited.</summary>
    public int Signal => WaitStatus is { } status ? status & 0x7F : 0;

    public bool CoreDumped => WaitStatus is { } status && Signal != 0 && (status & 0x80) != 0;

    public int ExitCode => WaitStatus is { } status ? (status >> 8) & 0xFF : 0;

    /// <summary>
    /// The death record's text, for example <c>netconsole: process 4242 (myapp) was killed by
    /// signal 9 (SIGKILL), possibly by the OOM killer; no core dump. The watchdog sent the 12
    /// records it had not sent.</c>
    /// </summary>
    /// <param name="pid">The application's process id.</param>
    /// <param name="name">Its command name (<c>/proc/PID/comm</c>), or null.</param>
    /// <param name="recordsSent">The records the watchdog sent for it, before this one.</param>
    /// <param name="recordsLost">Records queued that the ring no longer (or not yet) held.</param>
    public string Describe(int pid, string? name, long recordsSent, long recordsLost)
    {
        string who = name is null
            ? string.Create(CultureInfo.InvariantCulture, $"process {pid}")
            : string.Create(CultureInfo.InvariantCulture, $"process {pid} ({name})");
        string how;
        if (WaitStatus is null)
        {
            how = "died; the cause is unknown (the kernel gave no exit status: Linux 6.15 or later reports it through PIDFD_INFO_EXIT)";
        }
        else if (Signal != 0)
        {
            string oom = Signal == 9 ? ", possibly by the OOM killer" : string.Empty;
            string core = CoreDumped ? "core dumped" : "no core dump";
            how = string.Create(CultureInfo.InvariantCulture, $"was killed by signal {Signal} ({SignalName(Signal)}){oom}; {core}");
        }
        else
        {
            how = string.Create(CultureInfo.InvariantCulture, $"exited with code {ExitCode} without shutting its logger down");
        }

        string records = recordsSent == 1 ? "record" : "records";
        string lost = recordsLost == 0
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $"; {recordsLost} queued {(recordsLost == 1 ? "record was" : "records were")} no longer in its ring");
        return string.Create(CultureInfo.InvariantCulture, $"netconsole: {who} {how}. The watchdog sent the {recordsSent} {records} it had queued and not sent{lost}.");
    }

    /// <summary>The Linux name of a signal (x86-64 and arm64 numbering), or <c>SIG</c> + number.</summary>
    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        16 => "SIGSTKFLT",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        26 => "SIGVTALRM",
        27 => "SIGPROF",
        31 => "SIGSYS",
        _ => string.Create(CultureInfo.InvariantCulture, $"SIG{signal}"),
    };
}
