using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Netconsole.Receiving;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Logging;

/// <summary>
/// Applications that end without disposing the logger factory, as real child processes
/// (netconsole-test-app, tests/Netconsole.TestApp): the provider drains its queue on
/// AppDomain.ProcessExit, so every record logged before the end arrives, in order, in every run.
/// Without that drain a process returning from Main delivered 0 of 200 records, and LogCritical
/// followed by Environment.Exit(1) lost its last record in 2 of 9 runs (issue 14): one run proves
/// little, so each case runs 10 times and must deliver everything 10 times.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class ProcessExitTests(ITestOutputHelper output)
{
    private const string Target = "+@/lo,@::1/";
    private const int Port = 6666;
    private const int Runs = 10;
    private const int Count = 200;
    private const int CriticalLevel = 2;

    [SkippableFact]
    public async Task A_process_returning_from_Main_without_disposing_the_factory_delivers_all_200_records_in_order_in_10_of_10_runs()
    {
        string dll = TestAppChild.RequireLab();
        string[] expected = [.. NumberedRecords()];
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, Port));

        int complete = 0;
        for (int run = 1; run <= Runs; run++)
        {
            ChildRun child = await RunChild(dll, "return-from-main", receiver, run);
            bool inOrder = child.Texts.SequenceEqual(expected) && InSequenceOrder(child.Records);
            output.WriteLine($"run {run}: {child.Numbered} of {Count} records{(inOrder ? ", all in order" : "")}; exit code {child.ExitCode}");
            if (inOrder && child.ExitCode == 0)
            {
                complete++;
            }
        }

        complete.Should().Be(Runs, "every run returns 0 from Main with its {0} records queued, and the provider drains them on ProcessExit", Count);
    }

    [SkippableFact]
    public async Task A_process_calling_Environment_Exit_right_after_LogCritical_delivers_every_record_with_the_critical_one_last_in_10_of_10_runs()
    {
        string dll = TestAppChild.RequireLab();
        string[] expected = [.. NumberedRecords(), $"last words after {Count} records: exiting with code 1"];
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, Port));

        int complete = 0;
        for (int run = 1; run <= Runs; run++)
        {
            ChildRun child = await RunChild(dll, "exit-after-critical", receiver, run);
            bool inOrder = child.Texts.SequenceEqual(expected) && InSequenceOrder(child.Records);
            bool criticalLast = child.Records.Count > 0 && child.Records[^1].Level == CriticalLevel && child.Texts[^1] == expected[^1];
            output.WriteLine($"run {run}: {child.Numbered} of {Count} records, critical record {(criticalLast ? "received last" : "MISSING")}{(inOrder ? ", all in order" : "")}; exit code {child.ExitCode}");
            if (inOrder && criticalLast && child.ExitCode == 1)
            {
                complete++;
            }
        }

        complete.Should().Be(Runs, "every run exits with code 1 right after LogCritical, and the provider drains its queue on ProcessExit");
    }

    /// <summary>What one run of the child sent, as received: every record, in arrival order.</summary>
    private sealed record ChildRun(int ExitCode, List<ReceivedRecord> Records)
    {
        public List<string> Texts { get; } = Records.ConvertAll(r => r.TextString);

        /// <summary>How many "record i of N" records arrived (the critical one is not among them).</summary>
        public int Numbered => Texts.Count(t => t.StartsWith("record ", StringComparison.Ordinal));
    }

    private static IEnumerable<string> NumberedRecords() =>
        Enumerable.Range(1, Count).Select(i => string.Create(CultureInfo.InvariantCulture, $"record {i} of {Count}"));

    private static bool InSequenceOrder(List<ReceivedRecord> records) =>
        records.Zip(records.Skip(1)).All(pair => pair.First.Sequence < pair.Second.Sequence);

    private async Task<ChildRun> RunChild(string dll, string mode, NetconsoleReceiver receiver, int run)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost());
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--count={Count}"));
        start.ArgumentList.Add($"--Logging:Netconsole:Targets:0={Target}");
        ChildProcess.Result child = await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(30));
        if (child.Stdout.Length + child.Stderr.Length > 0)
        {
            output.WriteLine($"run {run}: the child printed:{Environment.NewLine}{child.Stdout}{child.Stderr}");
        }

        return new ChildRun(child.ExitCode, await ReadUntilSentinel(receiver, run));
    }

    /// <summary>
    /// Everything the child sent. It has exited, and what it injected on lo was queued to the
    /// receiver's socket before its send returned: a datagram sent now queues behind all of it, so
    /// once that one is read, every record the child sent has been read (none are waited for).
    /// </summary>
    private static async Task<List<ReceivedRecord>> ReadUntilSentinel(NetconsoleReceiver receiver, int run)
    {
        string sentinel = string.Create(CultureInfo.InvariantCulture, $"sentinel after run {run}");
        using var socket = new UdpClient(AddressFamily.InterNetworkV6);
        socket.Send(System.Text.Encoding.UTF8.GetBytes(sentinel + "\n"), new IPEndPoint(IPAddress.IPv6Loopback, Port));

        var records = new List<ReceivedRecord>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            ReceivedRecord next = await receiver.ReadAsync(deadline.Token);
            if (next.TextString == sentinel)
            {
                return records;
            }

            records.Add(next);
        }
    }
}
