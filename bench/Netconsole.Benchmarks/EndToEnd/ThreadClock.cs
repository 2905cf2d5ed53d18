using System.Globalization;
using System.Runtime.InteropServices;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// CPU time of threads of this process from Linux's <c>/proc/self/task/TID/schedstat</c>:
/// nanoseconds on a CPU and nanoseconds runnable but waiting for one (the run queue), so a
/// run can tell a busy thread from one that starved for a core; and from <c>status</c> its
/// voluntary context switches (it blocked: a futex wait, a full socket buffer) and
/// involuntary ones (it was preempted).
/// </summary>
internal static partial class ThreadClock
{
    /// <summary>The calling thread's kernel thread id.</summary>
    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int CurrentThreadId();

    /// <summary>One thread's times, or the sum over threads.</summary>
    public readonly record struct CpuTime(long RunNanoseconds, long WaitNanoseconds, long VoluntarySwitches = 0, long InvoluntarySwitches = 0)
    {
        public static CpuTime operator -(CpuTime after, CpuTime before) => new(
            after.RunNanoseconds - before.RunNanoseconds,
            after.WaitNanoseconds - before.WaitNanoseconds,
            after.VoluntarySwitches - before.VoluntarySwitches,
            after.InvoluntarySwitches - before.InvoluntarySwitches);
    }

    /// <summary>A thread's times; zero when the thread is gone (or id is 0).</summary>
    public static CpuTime Read(int threadId)
    {
        if (threadId == 0)
        {
            return default;
        }

        try
        {
            CpuTime time = Parse(File.ReadAllText($"/proc/self/task/{threadId}/schedstat"));
            long voluntary = 0;
            long involuntary = 0;
            foreach (string line in File.ReadLines($"/proc/self/task/{threadId}/status"))
            {
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    voluntary = long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    involuntary = long.Parse(line.AsSpan("nonvoluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return time with { VoluntarySwitches = voluntary, InvoluntarySwitches = involuntary };
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>The sum over every thread alive now (threads that ended are not counted).</summary>
    public static CpuTime ReadProcess()
    {
        long run = 0;
        long wait = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                CpuTime time = Parse(File.ReadAllText(Path.Combine(task, "schedstat")));
                run += time.RunNanoseconds;
                wait += time.WaitNanoseconds;
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }

        return new CpuTime(run, wait);
    }

    /// <summary>The newest thread whose kernel name (15 characters at most) starts like <paramref name="name"/>; 0 if none.</summary>
    public static int FindThread(string name)
    {
        string prefix = name.Length > 15 ? name[..15] : name;
        int found = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == prefix)
                {
                    found = Math.Max(found, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
            }
        }

        return found;
    }

    private static CpuTime Parse(string schedstat)
    {
        string[] fields = schedstat.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new CpuTime(
            long.Parse(fields[0], CultureInfo.InvariantCulture),
            long.Parse(fields[1], CultureInfo.InvariantCulture));
    }
}
