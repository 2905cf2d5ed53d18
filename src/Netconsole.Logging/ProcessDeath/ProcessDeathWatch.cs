using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Netconsole.Targets;

namespace Netconsole.Logging.ProcessDeath;

/// <summary>
/// The application's side of <see cref="NetconsoleLoggerOptions.CaptureProcessDeath"/>: creates
/// the shared memory (<see cref="DeathRing"/>), starts the watchdog (Netconsole.Watchdog.dll, run
/// by the application's own dotnet host with the application's runtimeconfig and deps files),
/// waits until it is ready, then writes each queued record into the ring (logging threads) and
/// what the sender has sent (sender thread). <see cref="Stop"/> on a clean end tells the watchdog
/// to go quietly and ends it.
/// </summary>
/// <remarks>
/// The mapping stays for the life of the process once made (576 KiB, in tmpfs, unlinked): a logging
/// thread that claimed a queue position just before disposal may still be writing its slot, and
/// unmapping under it would crash the process this feature is meant to report on.
/// </remarks>
internal sealed unsafe class ProcessDeathWatch
{
    /// <summary>The watchdog's assembly, beside Netconsole.Logging.dll.</summary>
    internal const string WatchdogAssembly = "Netconsole.Watchdog.dll";

    /// <summary>How long the provider's creation waits for the watchdog to be ready.</summary>
    internal static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly DeathRing _ring;
    private readonly NetconsoleTarget[] _targets;
    private readonly Process _watchdog;
    private int _stopped;

    private ProcessDeathWatch(DeathRing ring, NetconsoleTarget[] targets, Process watchdog)
    {
        _ring = ring;
        _targets = targets;
        _watchdog = watchdog;
    }

    /// <summary>The watchdog's process id (tests look for it).</summary>
    public int WatchdogProcessId => _watchdog.Id;

    /// <summary>
    /// Starts the watchdog for <paramref name="manager"/>'s targets; on any failure returns null
    /// with <paramref name="failure"/> saying why in the operator's words. Never throws.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static ProcessDeathWatch? TryStart(TargetManager manager, int facility, bool wantsDictionary, TimeSpan flushTimeout, out string? failure)
    {
        string? path = null;
        try
        {
            if (!RuntimeFeature.IsDynamicCodeSupported)
            {
                failure = "CaptureProcessDeath needs a framework-dependent application: Native AOT applications are not supported; process deaths are not reported.";
                return null;
            }

            string directory = AppContext.BaseDirectory;
            string watchdogDll = Path.Combine(directory, WatchdogAssembly);
            if (!File.Exists(watchdogDll))
            {
                failure = $"CaptureProcessDeath: {WatchdogAssembly} is not beside the application ({directory}); single-file applications are not supported. Process deaths are not reported.";
                return null;
            }

            string? deps = DepsFile();
            string? runtimeConfig = RuntimeConfig(directory, deps);
            if (runtimeConfig is null)
            {
                failure = $"CaptureProcessDeath: the application's runtimeconfig.json was not found (beside {deps ?? "its deps.json"} or its entry assembly in {directory}); process deaths are not reported.";
                return null;
            }

            string? host = DotnetHost();
            if (host is null)
            {
                failure = "CaptureProcessDeath: the dotnet host was not found (not the process itself, not beside the shared runtime, not in DOTNET_ROOT); self-contained applications are not supported. Process deaths are not reported.";
                return null;
            }

            NetconsoleTarget[] targets = [.. manager.Targets];
            var settings = new WatchdogSettings { Facility = facility, WantsDictionary = wantsDictionary, FlushTimeout = flushTimeout };
            foreach (NetconsoleTarget target in targets.Take(DeathRing.MaxTargets))
            {
                NetconsoleTargetOptions options = target.Options;
                options.Name = target.Name;
                settings.Targets.Add(options);
            }

            path = Path.Combine("/dev/shm", string.Create(CultureInfo.InvariantCulture, $"netconsole-watchdog-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}"));
            DeathRing ring = Map(path, settings);
            var start = new ProcessStartInfo(host) { UseShellExecute = false };
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(runtimeConfig);
            if (deps is not null)
            {
                start.ArgumentList.Add("--depsfile");
                start.ArgumentList.Add(deps);
            }

            start.ArgumentList.Add(watchdogDll);
            start.ArgumentList.Add(path);
            start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            Process watchdog = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
            var watch = new ProcessDeathWatch(ring, targets.Take(DeathRing.MaxTargets).ToArray(), watchdog);
            failure = watch.WaitUntilReady();
            if (failure is not null)
            {
                watch.Stop();
                return null;
            }

            return watch;
        }
        catch (Exception e)
        {
            failure = $"CaptureProcessDeath: the watchdog could not be started ({e.GetType().Name}: {e.Message}); process deaths are not reported.";
            return null;
        }
        finally
        {
            // Once ready the watchdog has it mapped: nothing is left in /dev/shm, whatever happens next.
            if (path is not null)
            {
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    /// <summary>Logging thread: the record just queued at <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RecordQueued(uint position, LogEntry entry) =>
        _ring.Write(position, entry.Level, entry.TimestampMicroseconds, entry.EventId.Id, entry.EventId.Name, entry.Category, entry.Cpu, entry.ThreadId, entry.ThreadName, entry.Message, entry.Exception);

    /// <summary>Sender thread: every record before <paramref name="position"/> was handed to the targets; the next gets <paramref name="nextSequence"/>.</summary>
    public void Sent(long position, ulong nextSequence)
    {
        NetconsoleTarget[] targets = _targets;
        for (int i = 0; i < targets.Length; i++)
        {
            _ring.PublishSkew(i, targets[i].SequenceSkew);
        }

        _ring.PublishSent(position, nextSequence);
    }

    /// <summary>A record sent outside the queue (<see cref="NetconsoleLoggerProvider.SendNow"/>, crash reports) took a sequence number.</summary>
    public void SequenceUsed(ulong nextSequence) => _ring.PublishSequence(nextSequence);

    /// <summary>
    /// A clean end (disposal, or process exit after the drain): the watchdog is told it is one,
    /// then ended and reaped, so none is left running. Records the drain left unsent are not sent
    /// by the watchdog (the provider counts them as dropped at disposal, as without it). Never throws.
    /// </summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        try
        {
            _ring.State = DeathRing.StateCleanExit;
            if (!_watchdog.HasExited)
            {
                _watchdog.Kill();
            }

            _watchdog.WaitForExit(1000);
        }
        catch (Exception)
        {
            // Already gone, or not ours to end any more: either way it is not running for us.
        }
        finally
        {
            _watchdog.Dispose();
        }
    }

    private string? WaitUntilReady()
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            int state = _ring.State;
            if (state == DeathRing.StateReady)
            {
                return null;
            }

            if (state == DeathRing.StateFailed)
            {
                return $"CaptureProcessDeath: the watchdog could not start: {_ring.FailureText} Process deaths are not reported.";
            }

            if (_watchdog.HasExited)
            {
                return string.Create(CultureInfo.InvariantCulture, $"CaptureProcessDeath: the watchdog exited at start (exit code {_watchdog.ExitCode}); process deaths are not reported.");
            }

            if (waited.Elapsed > StartTimeout)
            {
                return string.Create(CultureInfo.InvariantCulture, $"CaptureProcessDeath: the watchdog was not ready within {StartTimeout.TotalSeconds:0} s; process deaths are not reported.");
            }

            Thread.Sleep(2);
        }
    }

    [SupportedOSPlatform("linux")]
    private static DeathRing Map(string path, WatchdogSettings settings)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, // O_EXCL: never someone else's file
            Access = FileAccess.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        var file = new FileStream(path, options);
        file.SetLength(DeathRing.TotalSize);
        MemoryMappedFile mapping = MemoryMappedFile.CreateFromFile(file, null, DeathRing.TotalSize, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor view = mapping.CreateViewAccessor(0, DeathRing.TotalSize, MemoryMappedFileAccess.ReadWrite);
        byte* memory = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref memory); // held for the life of the process (see the remarks)
        var ring = new DeathRing(memory + view.PointerOffset);
        ring.Initialize(System.Text.Encoding.UTF8.GetBytes(settings.Write()));
        return ring;
    }

    // The dotnet host: the process itself when it is one (dotnet app.dll), else the host of the
    // shared runtime this process runs on (an apphost), else DOTNET_ROOT's.
    private static string? DotnetHost()
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        // FX_DEPS_FILE: <root>/shared/Microsoft.NETCore.App/<version>/Microsoft.NETCore.App.deps.json
        if (AppContext.GetData("FX_DEPS_FILE") is string fxDeps && fxDeps.Length > 0)
        {
            string? root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(fxDeps))));
            if (root is not null && File.Exists(Path.Combine(root, "dotnet")))
            {
                return Path.Combine(root, "dotnet");
            }
        }

        return Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot && File.Exists(Path.Combine(dotnetRoot, "dotnet"))
            ? Path.Combine(dotnetRoot, "dotnet")
            : null;
    }

    // The runtimeconfig.json the host read: beside the deps file it was given (dotnet exec
    // --depsfile X.deps.json, as test hosts run), else the entry assembly's.
    private static string? RuntimeConfig(string directory, string? deps)
    {
        if (deps is not null && deps.EndsWith(".deps.json", StringComparison.Ordinal))
        {
            string besideDeps = deps[..^".deps.json".Length] + ".runtimeconfig.json";
            if (File.Exists(besideDeps))
            {
                return besideDeps;
            }
        }

        string? entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        string entryConfig = Path.Combine(directory, entry + ".runtimeconfig.json");
        return entry is not null && File.Exists(entryConfig) ? entryConfig : null;
    }

    private static string? DepsFile() =>
        AppContext.GetData("APP_CONTEXT_DEPS_FILES") is string files
            ? files.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(File.Exists)
            : null;
}
