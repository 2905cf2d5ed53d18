using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Logging.ProcessDeath;
using Netconsole.Targets;

namespace Netconsole.Watchdog;

/// <summary>
/// The watchdog: watches its parent (the application) through a pidfd and, when it dies without
/// a clean end, sends what the application had queued and not sent, then the death record.
/// </summary>
/// <remarks>
/// <para>
/// Start: a session of its own (setsid: a Ctrl-C or hang-up of the application's terminal does
/// not end it with the application; a kill of the whole process group or cgroup still does),
/// <c>pidfd_open(getppid())</c> and a check that the parent is still the one named on the command
/// line (else it is already gone: the watchdog goes straight to its death path), the shared file
/// mapped and unlinked, the settings read and cleared, the targets set up (device opened, next
/// hop resolved), then <see cref="DeathRing.StateReady"/>. Then it sleeps in poll(2) on the pidfd,
/// which the kernel makes readable when the whole thread group has exited: a death cannot be missed.
/// </para>
/// <para>
/// After the death: a clean end (<see cref="DeathRing.StateCleanExit"/>) exits silently. Otherwise
/// the records from the sender's last published position go out first (with the sequence numbers
/// they would have had, each target's continued-group skew restored), then the cause is read (the
/// zombie's <c>/proc/PID/stat</c> exit_code, or <c>PIDFD_GET_INFO</c> with <c>PIDFD_INFO_EXIT</c>
/// once the zombie is reaped; Linux 6.15 and later) and the death record sent. The whole death
/// path is bounded by the application's CrashFlushTimeout: past it the watchdog exits anyway.
/// </para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal static unsafe class Watchdog
{
    // How long the death path waits for the kernel to give the exit status.
    private static readonly TimeSpan CauseWait = TimeSpan.FromMilliseconds(200);

    public static int Run(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent))
        {
            Console.Error.WriteLine("netconsole watchdog: started by Netconsole.Logging (CaptureProcessDeath), not by hand");
            return 2;
        }

        Native.NewSession();
        Native.QuietStandardStreams();
        int pidfd = Native.PidfdOpen(parent);
        bool parentGone = pidfd == -Native.NoSuchProcess || Native.ParentProcessId() != parent;
        int pidfdError = pidfd < 0 && !parentGone ? -pidfd : 0;

        DeathRing ring;
        try
        {
            ring = Map(args[0]);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"netconsole watchdog: the shared memory {args[0]} could not be mapped: {e.Message}");
            return 3;
        }

        if (pidfdError != 0)
        {
            // No pidfd (a kernel before 5.3, or a seccomp policy refusing it): no death could be
            // seen without polling, which would miss nothing only by luck. Said, not guessed.
            ring.Fail(string.Create(CultureInfo.InvariantCulture, $"pidfd_open failed with errno {pidfdError} (it needs Linux 5.3 or later)."));
            return 4;
        }

        ParentIdentity identity = ParentIdentity.Read(parent);
        WatchdogSettings settings;
        try
        {
            settings = WatchdogSettings.Parse(ring.ReadSettings());
        }
        catch (Exception e)
        {
            ring.ClearSettings();
            ring.Fail($"{e.GetType().Name}: {e.Message}");
            return 4;
        }

        // A thread of its own waits on the pidfd from the start, so the moment of the death is
        // known to the microsecond even when it comes while the targets are still being set up.
        var death = new DeathMoment(settings.FlushTimeout);
        if (parentGone)
        {
            death.Record();
        }
        else
        {
            new Thread(() =>
            {
                Native.WaitUntilReadable(pidfd);
                death.Record();
            })
            { IsBackground = true, Name = "netconsole-watchdog-pidfd" }.Start();
        }

        // Watching from here on (the pidfd holds the parent, the ring is mapped): the application
        // need not wait for the targets' setup below. A death meanwhile is seen right after it.
        ring.ClearSettings();
        ring.TryMarkReady(); // not when the application gave up waiting (then it is a clean end)
        TargetManager manager;
        try
        {
            manager = SetUp(settings);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"netconsole watchdog: the targets could not be set up ({e.GetType().Name}: {e.Message}); the death of process {parent} will not be reported");
            return 4;
        }

        WarmUp(settings, ring, pidfd, identity);
        death.Wait();

        // The death record's timestamp: when the kernel said the parent was gone.
        long died = death.Ticks;
        ulong diedMicroseconds = death.Microseconds;
        if (ring.State == DeathRing.StateCleanExit)
        {
            manager.Dispose(TimeSpan.Zero);
            return 0;
        }

        (long sent, long lost, ulong nextSequence) = SendRing(ring, manager, settings);
        DeathCause cause = pidfd >= 0 ? ExitStatus.Read(pidfd, identity, CauseWait) : new DeathCause(null);
        string text = cause.Describe(parent, identity.Name, sent, lost);
        Send(manager, settings, DeathCause.Level, text, DeathCause.Category, nextSequence, diedMicroseconds, null, null, 0, null);
        manager.Dispose(settings.FlushTimeout - Stopwatch.GetElapsedTime(died) is { Ticks: > 0 } left ? left : TimeSpan.Zero);
        return 0;
    }

    /// <summary>When the pidfd said the parent was gone (Stopwatch ticks and record microseconds), set once.</summary>
    private sealed class DeathMoment(TimeSpan flushTimeout)
    {
        private readonly TaskCompletionSource _set = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Ticks { get; private set; }

        public ulong Microseconds { get; private set; }

        public void Record()
        {
            Ticks = Stopwatch.GetTimestamp();
            Microseconds = NetconsoleRecord.GetTimestampMicroseconds();
            _set.TrySetResult();

            // Never outlive the application by more than its flush time, whatever holds the death
            // path up (a setup still running, a send that blocks).
            new Thread(() =>
            {
                Thread.Sleep(flushTimeout);
                Environment.Exit(5);
            })
            { IsBackground = true, Name = "netconsole-watchdog-limit" }.Start();
        }

        public void Wait() => _set.Task.Wait();
    }

    // The death path, run once on nothing (formatting, the ring, the exit status, the text) so that
    // after the death no method waits for its first compilation: about half the death-to-record
    // time otherwise. Nothing is sent.
    private static void WarmUp(WatchdogSettings settings, DeathRing ring, int pidfd, ParentIdentity identity)
    {
        try
        {
            List<KeyValuePair<string, string>> dictionary = [new("CATEGORY", DeathCause.Category), new("EVENT_ID", "1")];
            var record = new NetconsoleRecord(DeathCause.Level, Encoding.UTF8.GetBytes(new DeathCause(9).Describe(identity.Pid, identity.Name, 1, 1)))
            {
                Facility = settings.Facility,
                Sequence = 1,
                TimestampMicroseconds = NetconsoleRecord.GetTimestampMicroseconds(),
                Dictionary = dictionary,
                Cpu = 0,
                TaskName = "1",
            };
            foreach (NetconsoleTargetOptions options in settings.Targets)
            {
                _ = new Netconsole.Wire.RecordFormatter(options.ToRecordFormat()).Format(record);
            }

            _ = ring.TryFindNewest(0, out uint newest) && ring.TryRead(newest, out RingRecord last) && last.FullText.Length >= 0;
            _ = Native.ExitInfo(pidfd);
            _ = ExitStatus.StatField(Environment.ProcessId, ExitStatus.StartTimeField);
            _ = new DeathCause(6 | 0x80).Describe(1, null, 0, 0) + new DeathCause(256).Describe(1, null, 0, 0) + new DeathCause(null).Describe(1, null, 0, 0);
        }
        catch (Exception)
        {
            // Only a warm-up: the death path works without it, a little later.
        }
    }

    // The targets as the application had them, enabled now so that after the death the watchdog only formats and sends.
    private static TargetManager SetUp(WatchdogSettings settings)
    {
        var manager = new TargetManager(new TargetManagerOptions());
        foreach (NetconsoleTargetOptions options in settings.Targets)
        {
            NetconsoleTarget target = manager.Add(options);
            manager.Enable(target.Name);
        }

        return manager;
    }

    // Sends every record from the sender's last published position on; returns the records sent,
    // those lost (overwritten, or torn by the death), and the sequence number after the last.
    private static (long Sent, long Lost, ulong NextSequence) SendRing(DeathRing ring, TargetManager manager, WatchdogSettings settings)
    {
        uint start = (uint)ring.SentPosition;
        ulong nextSequence = ring.NextSequence;
        IReadOnlyList<NetconsoleTarget> targets = manager.Targets;
        for (int i = 0; i < targets.Count && i < DeathRing.MaxTargets; i++)
        {
            targets[i].SequenceSkew = ring.Skew(i);
        }

        if (!ring.TryFindNewest(start, out uint newest) || (int)(newest - start) < 0)
        {
            return (0, 0, nextSequence);
        }

        long sent = 0;
        long lost = 0;
        uint first = (int)(newest - start) >= DeathRing.SlotCount ? newest - DeathRing.SlotCount + 1 : start;
        lost += first - start;
        for (uint position = first; (int)(position - newest) <= 0; position++)
        {
            ulong sequence = nextSequence + (position - start);
            if (!ring.TryRead(position, out RingRecord record))
            {
                lost++;
                continue;
            }

            Send(manager, settings, record.Level, record.FullText, record.Category, sequence, record.TimestampMicroseconds, record.EventId, record.EventName, record.Cpu, record.ThreadName ?? record.ThreadId.ToString(CultureInfo.InvariantCulture));
            sent++;
        }

        return (sent, lost, nextSequence + (newest + 1 - start));
    }

    private static void Send(TargetManager manager, WatchdogSettings settings, int level, string text, string category, ulong sequence, ulong timestamp, int? eventId, string? eventName, int? cpu, string? taskName)
    {
        List<KeyValuePair<string, string>>? dictionary = null;
        if (settings.WantsDictionary)
        {
            dictionary = [new("CATEGORY", category)];
            if (eventId is { } id and not 0)
            {
                dictionary.Add(new("EVENT_ID", id.ToString(CultureInfo.InvariantCulture)));
            }

            if (!string.IsNullOrEmpty(eventName))
            {
                dictionary.Add(new("EVENT_NAME", eventName));
            }
        }

        var record = new NetconsoleRecord(level, Encoding.UTF8.GetBytes(text))
        {
            Facility = settings.Facility,
            Sequence = sequence,
            TimestampMicroseconds = timestamp,
            Dictionary = dictionary,
            Cpu = eventId is null ? null : cpu,
            TaskName = taskName,
        };
        manager.Send(record);
    }

    private static DeathRing Map(string path)
    {
        MemoryMappedFile mapping;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            mapping = MemoryMappedFile.CreateFromFile(file, null, DeathRing.TotalSize, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        }

        File.Delete(path); // mapped: nothing is left in /dev/shm, whatever happens next
        MemoryMappedViewAccessor view = mapping.CreateViewAccessor(0, DeathRing.TotalSize, MemoryMappedFileAccess.ReadWrite);
        byte* memory = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref memory); // for the life of the watchdog
        var ring = new DeathRing(memory + view.PointerOffset);
        return ring.IsValid ? ring : throw new InvalidDataException("not a netconsole death ring of this version");
    }
}
