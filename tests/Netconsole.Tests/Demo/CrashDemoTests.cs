using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Netconsole.Receiving;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Demo;

/// <summary>
/// The crash demo as a real child process: it logs 5 records through the ILogger provider and
/// dies of an unhandled exception; the provider's crash handler must get the 5 records and then
/// the exception out, as an emergency record, before the process is gone.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed partial class CrashDemoTests(ITestOutputHelper output)
{
    private const string Target = "+@/lo,@::1/";
    private const int Count = 5;

    [SkippableFact]
    public async Task The_crashing_child_gets_its_records_and_then_the_exception_out_in_sequence_order()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        string dll = Path.Combine(AppContext.BaseDirectory, "netconsole-crash-demo.dll");
        File.Exists(dll).Should().BeTrue("the test project references the crash demo, so its dll is in the test output");

        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));
        (int exitCode, string stderr) = await RunChild(dll);
        output.WriteLine($"child exit code {exitCode}; its stderr:");
        output.WriteLine(stderr);

        var records = new List<ReceivedRecord>();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while (records.Count < Count + 1)
            {
                records.Add(await receiver.ReadAsync(deadline.Token));
            }
        }

        // Nothing more may come from the child. It is gone, and what it injected on lo was queued to
        // the receiver's socket before its send returned: a datagram sent now queues behind all of
        // it, so once that one is read, every record the child sent has been read.
        using (var sentinel = new System.Net.Sockets.UdpClient(System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            sentinel.Send("sentinel\n"u8.ToArray(), new IPEndPoint(IPAddress.IPv6Loopback, 6666));
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                ReceivedRecord next = await receiver.ReadAsync(deadline.Token);
                if (next.TextString == "sentinel")
                {
                    break;
                }

                records.Add(next);
            }
        }

        records.ForEach(r => output.WriteLine(r.ToString()));

        exitCode.Should().NotBe(0, "the child dies of an unhandled exception");
        records.Should().HaveCount(Count + 1);
        for (int i = 1; i <= Count; i++)
        {
            records[i - 1].TextString.Should().Contain($"record {i} of {Count}");
        }

        ReceivedRecord crash = records[^1];
        crash.Level.Should().Be(0, "the crash record is an emergency record");
        crash.TextString.Should().Contain(nameof(InvalidOperationException)).And.Contain("the demo crashes on purpose");
        records.Select(r => r.Sequence).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();

        // Not asserted: how long from the throw to the crash record's arrival (both Stopwatch
        // timestamps, the monotonic clock, comparable across processes on Linux).
        Match crashing = CrashingAt().Match(stderr);
        if (crashing.Success)
        {
            long thrown = long.Parse(crashing.Groups[1].Value, CultureInfo.InvariantCulture);
            double milliseconds = (crash.ReceivedTimestamp - thrown) * 1000.0 / Stopwatch.Frequency;
            output.WriteLine($"unhandled exception to crash record received: {milliseconds:F2} ms");
            double lastRecord = (records[Count - 1].ReceivedTimestamp - thrown) * 1000.0 / Stopwatch.Frequency;
            output.WriteLine($"(record {Count} was received {lastRecord:F2} ms after the throw; negative: before it)");
        }
        else
        {
            output.WriteLine("the child printed no 'crashing at' line: latency not measured");
        }
    }

    private static async Task<(int ExitCode, string Stderr)> RunChild(string dll)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost());
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(Target);
        start.ArgumentList.Add(Count.ToString(CultureInfo.InvariantCulture));
        ChildProcess.Result child = await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(30));
        return (child.ExitCode, child.Stderr + child.Stdout);
    }

    [GeneratedRegex(@"crashing at (\d+)")]
    private static partial Regex CrashingAt();
}
