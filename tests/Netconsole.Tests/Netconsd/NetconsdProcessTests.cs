using System.Globalization;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Netconsd;

/// <summary>
/// Separate processes against a real netconsd in the lab, as they run in production: an
/// application logging through the ILogger provider (the crash demo), run once and twice in a
/// row, and netconsole-send called again and again, and with a paced burst. Each process starts
/// its sequence numbers from the monotonic clock, so a later process's records are never taken
/// for duplicates of an earlier one's.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class NetconsdProcessTests(ITestOutputHelper output)
{
    private const string CrashDemo = "netconsole-crash-demo";
    private const string SendTool = "netconsole-send";

    private static IEnumerable<string> CrashDemoTexts(int count) =>
        Enumerable.Range(1, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"record {i} of {count}"));

    [SkippableFact]
    public async Task An_application_logging_through_ILogger_gets_every_record_and_its_crash_report_printed()
    {
        await using NetconsdLab scene = await NetconsdLab.StartAsync(output);

        ChildProcess.Result demo = await scene.RunToolAsync(CrashDemo, [scene.Target(), "3"]);

        demo.ExitCode.Should().NotBe(0, "the demo dies of an unhandled exception");
        IReadOnlyList<NetconsdMessage> messages = await scene.Netconsd.WaitForMessagesAsync(4);
        messages.Should().HaveCount(4);
        // The source-generated log method's event id is a hash of its name: read it, then expect it on every record.
        string eventId = messages[0].Dictionary!.Split('\n').Single(l => l.StartsWith(" EVENT_ID=", StringComparison.Ordinal))[" EVENT_ID=".Length..];
        messages.Take(3).Select(m => (m.Facility, m.Level, m.Text, m.Dictionary)).Should().Equal(CrashDemoTexts(3).Select((text, i) => (1, 6, text,
            (string?)string.Create(CultureInfo.InvariantCulture, $" CATEGORY=Netconsole.CrashDemo\n EVENT_ID={eventId}\n EVENT_NAME=Record\n Index={i + 1}\n Count=3\n"))));
        NetconsdMessage crash = messages[3];
        crash.Level.Should().Be(0, "the crash report is an emergency record");
        crash.Text.Should().Contain(nameof(InvalidOperationException)).And.Contain("the demo crashes on purpose");
        messages.Select(m => m.Sequence).Should().Equal(Enumerable.Range(0, 4).Select(i => messages[0].Sequence + (ulong)i));
        messages.Select(m => m.Flags).Should().Equal("seq_reset", "-", "-", "-");
    }

    // The second run starts its numbers from the clock, far ahead of the first run's: more than
    // netconsd's 512-slot window ahead, so it takes each record for out of sequence, holds it for
    // its 200 ms timeout and then hands it over flagged oos (it would reset the stream after 19
    // such records among the last 32). Numbers starting again at 1 would be discarded as duplicates.
    [SkippableFact]
    public async Task Two_runs_of_the_same_application_in_a_row_get_every_record_of_both_printed()
    {
        await using NetconsdLab scene = await NetconsdLab.StartAsync(output);

        await scene.RunToolAsync(CrashDemo, [scene.Target(), "3"]);
        await scene.RunToolAsync(CrashDemo, [scene.Target(), "3"]);

        IReadOnlyList<NetconsdMessage> messages = await scene.Netconsd.WaitForMessagesAsync(8);
        messages.Should().HaveCount(8);
        for (int run = 0; run < 2; run++)
        {
            IReadOnlyList<NetconsdMessage> records = [.. messages.Skip(run * 4).Take(4)];
            records.Take(3).Select(m => m.Text).Should().Equal(CrashDemoTexts(3), $"run {run + 1} logged these");
            records[3].Text.Should().Contain("the demo crashes on purpose");
            records.Select(m => m.Sequence).Should().Equal(Enumerable.Range(0, 4).Select(i => records[0].Sequence + (ulong)i));
        }

        messages[4].Sequence.Should().BeGreaterThan(messages[3].Sequence + 512, "the second run's numbers start from the clock, beyond the first run's window");
        messages.Select(m => m.Flags).Should().Equal("seq_reset", "-", "-", "-", "oos", "oos", "oos", "oos");
    }

    [SkippableFact]
    public async Task Repeated_netconsole_send_calls_get_every_record_printed()
    {
        await using NetconsdLab scene = await NetconsdLab.StartAsync(output);

        for (int call = 1; call <= 3; call++)
        {
            ChildProcess.Result sent = await scene.RunToolAsync(SendTool, ["--target", scene.Target(), string.Create(CultureInfo.InvariantCulture, $"call {call}")]);
            sent.ExitCode.Should().Be(0, sent.Stderr);
        }

        IReadOnlyList<NetconsdMessage> messages = await scene.Netconsd.WaitForMessagesAsync(3);
        messages.Select(m => m.Text).Should().Equal("call 1", "call 2", "call 3");
        messages.Select(m => m.Sequence).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems("each call numbers its record from the clock");
        messages.Select(m => m.Flags).Should().Equal("seq_reset", "oos", "oos");
    }

    // 1000 records in a burst overflow netconsd's socket buffer (the default, about 208 KiB);
    // paced at 1000 records per second every one arrives.
    [SkippableFact]
    public async Task A_burst_of_1000_records_paced_with_rate_gets_every_record_printed()
    {
        await using NetconsdLab scene = await NetconsdLab.StartAsync(output);
        string[] lines = [.. Enumerable.Range(1, 1000).Select(i => string.Create(CultureInfo.InvariantCulture, $"burst record {i:D4}"))];

        ChildProcess.Result sent = await scene.RunToolAsync(SendTool, ["--target", scene.Target(), "--stdin", "--rate", "1000"],
            stdin: string.Concat(lines.Select(l => l + "\n")), timeout: TimeSpan.FromMinutes(2));

        sent.ExitCode.Should().Be(0, sent.Stderr);
        IReadOnlyList<NetconsdMessage> messages = await scene.Netconsd.WaitForMessagesAsync(1000, TimeSpan.FromSeconds(30));
        messages.Select(m => m.Text).Should().Equal(lines);
        messages.Select(m => m.Sequence).Should().Equal(Enumerable.Range(0, 1000).Select(i => messages[0].Sequence + (ulong)i));
        messages.Skip(1).Should().OnlyContain(m => m.Flags == "-");
    }
}
