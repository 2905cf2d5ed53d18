using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Logging;
using Netconsole.Receiving;

namespace Netconsole.Benchmarks;

/// <summary>
/// CaptureProcessDeath (issue 21), one run after another (the lab tests run ten at once, which
/// measures the machine's load more than the watchdog): netconsole-test-app logs 200 records to a
/// lab veth with CaptureProcessDeath on and dies (SIGKILL, stack overflow, SIGSEGV, FailFast);
/// measured per death is the time from the exit (the death record's timestamp: when the watchdog's
/// pidfd said the process was gone) to the death record's arrival at a receiver on the peer, and
/// from the application's last line before it began to die (which includes the runtime's own
/// dying: a stack overflow prints its stack first). Then the start-up cost: the provider's
/// creation with and without the option, in this process, and the watchdog's resident memory.
/// </summary>
internal static class DeathLatency
{
    private const int Count = 200;

    public static int Run(string[] args, TextWriter output)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The network lab and the watchdog exist only on Linux.");
        }

        int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        string dll = Path.Combine(AppContext.BaseDirectory, "netconsole-test-app.dll");
        using NetworkLab lab = NetworkLab.Create();
        using NetconsoleReceiver receiver = new(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, 6666), new NetconsoleReceiverOptions { Capacity = 100_000 });
        output.WriteLine($"death latency, {runs} runs per death, one at a time, {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine("| death | exit -> death record, median | worst | last line (or the kill) -> death record, median | worst | records sent by the watchdog (of 200), median |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (string how in new[] { "kill -9 from outside", "sigkill", "stackoverflow", "segv", "failfast" })
        {
            var fromExit = new List<double>();
            var fromLine = new List<double>();
            var bySent = new List<double>();
            for (int run = 0; run < runs; run++)
            {
                long lastLine = RunChild(dll, lab, how);
                ReceivedRecord death = WaitForDeath(receiver);
                long exited = (long)(death.TimestampMicroseconds * (Stopwatch.Frequency / 1_000_000.0));
                fromExit.Add(Stopwatch.GetElapsedTime(exited, death.ReceivedTimestamp).TotalMilliseconds);
                fromLine.Add(Stopwatch.GetElapsedTime(lastLine, death.ReceivedTimestamp).TotalMilliseconds);
                string text = death.TextString;
                int at = text.IndexOf("sent the ", StringComparison.Ordinal) + "sent the ".Length;
                bySent.Add(int.Parse(text[at..text.IndexOf(' ', at)], CultureInfo.InvariantCulture));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {how} | {Median(fromExit):F1} ms | {fromExit.Max():F1} ms | {Median(fromLine):F1} ms | {fromLine.Max():F1} ms | {Median(bySent):F0} |"));
        }

        StartUp(lab, output);
        return 0;
    }

    // The provider's creation, with and without the option (5 each, alternating), and the watchdog's resident memory.
    private static void StartUp(NetworkLab lab, TextWriter output)
    {
        var without = new List<double>();
        var with = new List<double>();
        long rss = 0;
        for (int i = 0; i < 5; i++)
        {
            foreach (bool capture in new[] { false, true })
            {
                var options = new NetconsoleLoggerOptions { CaptureProcessDeath = capture, DiagnosticsToStandardError = NetconsoleStandardErrorMode.Never };
                options.Targets.Add($"+@/{lab.DeviceName},@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}");
                long start = Stopwatch.GetTimestamp();
                using var provider = new NetconsoleLoggerProvider(options);
                (capture ? with : without).Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (capture)
                {
                    int pid = provider.DeathWatch?.WatchdogProcessId ?? throw new InvalidOperationException("the watchdog did not start");
                    Thread.Sleep(500); // its targets set up
                    string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                    rss = Math.Max(rss, long.Parse(line!.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture));
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"provider creation: median {Median(without):F1} ms without CaptureProcessDeath, {Median(with):F1} ms with (worst {with.Max():F1} ms); the watchdog's resident memory: {rss / 1024.0:F1} MiB at most"));
    }

    // Runs one child to its death; returns its last line's timestamp (or, killed from outside, the kill's).
    private static long RunChild(string dll, NetworkLab lab, string how)
    {
        bool fromOutside = how.StartsWith("kill", StringComparison.Ordinal);
        how = fromOutside ? "hang" : how;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[]
        {
            dll, "die", "--how=" + how, "--count=" + Count.ToString(CultureInfo.InvariantCulture), "--settle-ms=500",
            "--Logging:Netconsole:CaptureProcessDeath=true",
            $"--Logging:Netconsole:Targets:0=+@{lab.DeviceIPv4}/{lab.DeviceName},@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using Process child = Process.Start(start)!;
        child.ErrorDataReceived += (_, _) => { };
        child.BeginErrorReadLine();
        string? line;
        long dying = 0;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            if (line.StartsWith("dying ", StringComparison.Ordinal))
            {
                dying = long.Parse(line["dying ".Length..], CultureInfo.InvariantCulture);
                if (fromOutside)
                {
                    dying = Stopwatch.GetTimestamp();
                    child.Kill(); // SIGKILL, right after its last record was queued
                }
            }
        }

        child.WaitForExit();
        return dying != 0 ? dying : throw new InvalidOperationException($"{how}: the child printed no 'dying' line (exit code {child.ExitCode})");
    }

    private static ReceivedRecord WaitForDeath(NetconsoleReceiver receiver)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            ReceivedRecord record = receiver.ReadAsync(deadline.Token).AsTask().GetAwaiter().GetResult();
            if (record.Dictionary.Any(p => p is { Key: "CATEGORY", Value: "Netconsole.Death" }))
            {
                return record;
            }
        }
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
