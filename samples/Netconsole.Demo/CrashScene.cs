using System.Net;
using Netconsole.Receiving;

namespace Netconsole.Demo;

/// <summary>
/// Scene 3: crash. netconsole-crash-demo runs as a child process: it logs 5 records through
/// ILogger and dies of an unhandled exception; its provider's crash handler sends what is
/// queued and then the exception as an emergency (level 0) record, which a receiver here gets.
/// </summary>
internal static class CrashScene
{
    public const string Name = "3. crash";
    private const int Count = CrashDemoChild.Count;

    public static async Task<SceneResult> RunAsync(TextWriter output)
    {
        output.WriteLine($"== {Name}");
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));
        if (await CrashDemoChild.RunAsync(output) is not { } exitCode)
        {
            return new SceneResult(Name, 0, 0, 0, Passed: false, "crash demo missing");
        }

        output.WriteLine($"   child exit code: {exitCode} ({(exitCode != 0 ? "crashed, as it should" : "did NOT crash")})");

        List<ReceivedRecord> records = await Records.ReceiveAsync(receiver, Count + 1, TimeSpan.FromSeconds(5));
        output.WriteLine($"   logged {Count} records and crashed; received {records.Count}:");
        foreach (ReceivedRecord record in records)
        {
            output.WriteLine("     " + Records.Line(record));
        }

        var problems = new List<string>();
        LoggerScene.Check(exitCode != 0, "the child exited with 0", problems);
        LoggerScene.Check(CrashDemoChild.RecordsFirstInOrder(records), $"records 1-{Count} did not all arrive, in order, before the crash record", problems);
        ReceivedRecord? crash = records.Count == Count + 1 ? records[^1] : null;
        if (crash is not null)
        {
            string text = crash.TextString;
            bool complete = crash.Level == 0
                && text.Contains(nameof(InvalidOperationException), StringComparison.Ordinal)
                && text.Contains("the demo crashes on purpose", StringComparison.Ordinal)
                && text.Contains(" at ", StringComparison.Ordinal);
            output.WriteLine($"   crash record: level {crash.Level} ({Records.LevelName(crash.Level)}), exception type, message and stack trace present: {complete}");
            LoggerScene.Check(complete, "the crash record is not an emergency record with the exception's type, message and stack", problems);
        }
        else
        {
            problems.Add("no crash record");
        }

        LoggerScene.Check(Records.InOrder(records), "records arrived out of sequence order", problems);
        problems.ForEach(p => output.WriteLine("   PROBLEM: " + p));
        output.WriteLine();

        // Logged: the 5 records and the crash record. The child's targets cannot be asked what
        // they dropped after it died: a record neither received nor sent shows up as lost.
        return new SceneResult(Name, Count + 1, records.Count, 0, problems.Count == 0, problems.FirstOrDefault());
    }
}
