using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// CaptureProcessDeath against real processes, frames and a real receiver (issue 21): an
/// application logs 200 records and dies at once, with records still queued, in each of the ways
/// no handler sees (SIGKILL as the OOM killer sends it, a stack overflow, a SIGSEGV in native
/// code, Environment.FailFast). Each death: all 200 records arrive, in order, with consecutive
/// sequence numbers, then exactly one death record (level 2, category Netconsole.Death) that
/// names the signal, and its number follows the last record's. A normal end (returning from Main,
/// or disposing the factory): the 200 records, no death record, no watchdog left running.
/// Ten runs of each, concurrently (each from its own source port); the latency from the death to
/// the death record's arrival is printed (median and worst), never asserted.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, /proc
public sealed class ProcessDeathLabTests(ITestOutputHelper output) : LabFixture
{
    private const int Count = 200;
    private const int Runs = 10;
    private const int FirstPort = 7000;

    [SkippableTheory]
    [InlineData("sigkill", 9, "SIGKILL")]
    [InlineData("stackoverflow", 6, "SIGABRT")]
    [InlineData("segv", 11, "SIGSEGV")]
    [InlineData("failfast", 6, "SIGABRT")]
    public async Task A_process_that_dies_gets_its_queued_records_and_one_death_record_naming_the_signal_sent(string how, int signal, string name)
    {
        string dll = TestAppChild.RequireLab();
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = IPv4Receiver(lab);

        Run[] runs = await RunAll(dll, lab, how);
        Dictionary<int, List<ReceivedRecord>> received = await Collect(receiver, runs, expectDeath: true);

        var latencies = new List<double>();
        var fromLastLine = new List<double>();
        foreach (Run run in runs)
        {
            run.ExitCode.Should().Be(128 + signal, "run {0} died by {1} (the dotnet host does not catch it)", run.Port, name);
            List<ReceivedRecord> records = received[run.Port];
            ReceivedRecord death = records.Should().ContainSingle(r => IsDeath(r), "exactly one death record for run {0}", run.Port).Subject;
            records[^1].Should().BeSameAs(death, "the death record comes after every record");
            List<ReceivedRecord> logged = Distinct(records.Where(r => !IsDeath(r)));
            logged.Select(r => r.TextString).Should().Equal(Enumerable.Range(1, Count).Select(i => $"record {i} of {Count}"), "every record logged before the death arrives, once, in order (run {0})", run.Port);
            logged.Zip(logged.Skip(1)).Should().AllSatisfy(p => p.Second.Sequence.Should().Be(p.First.Sequence + 1), "the records keep the sequence numbers they would have had");
            death.Sequence.Should().Be(logged[^1].Sequence + 1, "the death record takes the next number");
            death.Level.Should().Be(2, "crit");
            death.TextString.Should().Contain($"process {run.Pid} ").And.Contain($"was killed by signal {signal} ({name})").And.Contain("no core dump");
            if (signal == 9)
            {
                death.TextString.Should().Contain("possibly by the OOM killer");
            }
            else
            {
                death.TextString.Should().NotContain("OOM");
            }

            // The death record's timestamp is when the watchdog's pidfd said the process was gone.
            long exited = (long)(death.TimestampMicroseconds * (Stopwatch.Frequency / 1_000_000.0));
            latencies.Add(Stopwatch.GetElapsedTime(exited, death.ReceivedTimestamp).TotalMilliseconds);
            fromLastLine.Add(Stopwatch.GetElapsedTime(run.DiedAt, death.ReceivedTimestamp).TotalMilliseconds);
        }

        foreach (Run run in runs)
        {
            (await WatchdogGone(run.Pid, TimeSpan.FromSeconds(10))).Should().BeTrue("the watchdog of run {0} exits once it has sent the death record", run.Port);
        }

        output.WriteLine($"{how}, {Runs} concurrent runs: from the exit (the watchdog's pidfd wake-up) to the death record's arrival: {Summary(latencies)}");
        output.WriteLine($"{how}: from the application's last line before it began to die to the death record's arrival: {Summary(fromLastLine)}");
    }

    [SkippableTheory]
    [InlineData("return")]
    [InlineData("dispose")]
    public async Task A_process_that_ends_normally_sends_no_death_record_and_leaves_no_watchdog(string how)
    {
        string dll = TestAppChild.RequireLab();
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = IPv4Receiver(lab);

        Run[] runs = await RunAll(dll, lab, how);
        foreach (Run run in runs)
        {
            WatchdogRunning(run.Pid).Should().BeFalse("a clean end ends the watchdog before the process exits (run {0})", run.Port);
        }

        Dictionary<int, List<ReceivedRecord>> received = await Collect(receiver, runs, expectDeath: false);
        foreach (Run run in runs)
        {
            run.ExitCode.Should().Be(0);
            received[run.Port].Should().NotContain(r => IsDeath(r), "a clean end is not a death (run {0})", run.Port);
            received[run.Port].Select(r => r.TextString).Should().Equal(Enumerable.Range(1, Count).Select(i => $"record {i} of {Count}"), "the application sent them itself");
        }
    }

    private sealed record Run(int Port, int Pid, int ExitCode, long DiedAt);

    private static bool IsDeath(ReceivedRecord record) =>
        record.Dictionary.Contains(new KeyValuePair<string, string>("CATEGORY", "Netconsole.Death"));

    // The records in arrival order, a record the application sent and the watchdog sent again (the
    // death fell between its send and the position's publication) counted once: same number, same text.
    private static List<ReceivedRecord> Distinct(IEnumerable<ReceivedRecord> records)
    {
        var seen = new HashSet<ulong>();
        return records.Where(r => seen.Add(r.Sequence)).ToList();
    }

    private static string Summary(List<double> latencies)
    {
        List<double> sorted = [.. latencies.Order()];
        double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"median {median:F1} ms, worst {sorted[^1]:F1} ms ({string.Join(", ", sorted.Select(l => l.ToString("F0", CultureInfo.InvariantCulture)))})");
    }

    // The ten runs at once, each from source port FirstPort + i.
    private async Task<Run[]> RunAll(string dll, NetworkLab lab, string how)
    {
        return await Task.WhenAll(Enumerable.Range(0, Runs).Select(async i =>
        {
            int port = FirstPort + i;
            ProcessStartInfo start = Child(dll, lab, how, port);
            using Process child = new() { StartInfo = start };
            var died = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            child.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && line.StartsWith("dying ", StringComparison.Ordinal))
                {
                    died.TrySetResult(long.Parse(line["dying ".Length..], CultureInfo.InvariantCulture));
                }
            };
            child.ErrorDataReceived += (_, _) => { }; // a stack overflow's trace: read, not kept
            child.Start();
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await child.WaitForExitAsync(deadline.Token);
            died.Task.IsCompleted.Should().BeTrue("run {0} printed when it died", port);
            return new Run(port, child.Id, child.ExitCode, await died.Task);
        }));
    }

    // Every run's records by source port: until each has its death record (or, for normal ends, its
    // 200 records and nothing more for a second).
    private static async Task<Dictionary<int, List<ReceivedRecord>>> Collect(NetconsoleReceiver receiver, Run[] runs, bool expectDeath)
    {
        Dictionary<int, List<ReceivedRecord>> received = runs.ToDictionary(r => r.Port, _ => new List<ReceivedRecord>());
        using var overall = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            bool done = expectDeath
                ? received.Values.All(list => list.Any(IsDeath))
                : received.Values.All(list => list.Count >= Count);
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
            quiet.CancelAfter(done ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(30));
            try
            {
                ReceivedRecord record = await receiver.ReadAsync(quiet.Token);
                received.Should().ContainKey(record.Sender.Port, "only the runs send");
                received[record.Sender.Port].Add(record);
            }
            catch (OperationCanceledException)
            {
                done.Should().BeTrue($"every run's records arrived (per run: {string.Join(", ", received.Select(p => $"{p.Key}: {p.Value.Count}"))})");
                return received;
            }
        }
    }

    // The watchdog of process `pid`: a process whose command line runs Netconsole.Watchdog.dll and ends with that pid.
    private static bool WatchdogRunning(int pid)
    {
        string parent = pid.ToString(CultureInfo.InvariantCulture);
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string[] arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (arguments.Any(a => a.EndsWith("Netconsole.Watchdog.dll", StringComparison.Ordinal)) && arguments[^1] == parent
                    && !File.ReadAllText(Path.Combine(directory, "stat")).Contains(") Z ", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return false;
    }

    private static async Task<bool> WatchdogGone(int pid, TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        while (WatchdogRunning(pid))
        {
            if (waited.Elapsed > limit)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private static ProcessStartInfo Child(string dll, NetworkLab lab, string how, int port)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("die");
        start.ArgumentList.Add("--how=" + how);
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--count={Count}"));
        start.ArgumentList.Add("--settle-ms=500"); // a process that has run a while: its watchdog is set up
        start.ArgumentList.Add("--Logging:Netconsole:CaptureProcessDeath=true");
        const string Target = "--Logging:Netconsole:Targets:0:";
        start.ArgumentList.Add(Target + "Name=app");
        start.ArgumentList.Add(Target + "DeviceName=" + lab.DeviceName);
        start.ArgumentList.Add(Target + "LocalAddress=" + lab.DeviceIPv4);
        start.ArgumentList.Add(Target + "LocalPort=" + port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(Target + "RemoteAddress=" + lab.PeerIPv4);
        start.ArgumentList.Add(Target + "RemoteMac=" + Netconsole.Devices.MacAddressText.Format(lab.PeerMac));
        start.ArgumentList.Add(Target + "Extended=true");
        return start;
    }
}
