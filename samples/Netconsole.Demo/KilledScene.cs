using System.Net;
using Netconsole.Receiving;

namespace Netconsole.Demo;

/// <summary>
/// Scene 4: killed. netconsole-crash-demo runs as a child process with CaptureProcessDeath: it
/// logs 5 records and is killed with SIGKILL at once (as the OOM killer kills), the records still
/// queued. No handler runs in a process killed so; its watchdog (a second process sharing a memory
/// ring with it) sees the death, sends the 5 records, then one record naming the cause.
/// </summary>
internal static class KilledScene
{
    public const string Name = "4. killed (SIGKILL)";
    private const int Count = CrashDemoChild.Count;

    public static async Task<SceneResult> RunAsync(TextWriter output)
    {
        output.WriteLine($"== {Name}");
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));
        if (await CrashDemoChild.RunAsync(output, "killed") is not { } exitCode)
        {
            return new SceneResult(Name, 0, 0, 0, Passed: false, "crash demo missing");
        }

        List<ReceivedRecord> records = await Records.ReceiveAsync(receiver, Count + 1, TimeSpan.FromSeconds(5));
        bool killed = exitCode == 137;
        output.WriteLine($"   child exit code: {exitCode} ({(killed ? "128 + 9: killed by SIGKILL, as it should" : "NOT killed by SIGKILL")})");
        output.WriteLine($"   logged {Count} records and was killed; received {records.Count}:");
        foreach (ReceivedRecord record in records)
        {
            output.WriteLine("     " + Records.Line(record));
        }

        var problems = new List<string>();
        LoggerScene.Check(killed, "the child was not killed by SIGKILL", problems);
        LoggerScene.Check(CrashDemoChild.RecordsFirstInOrder(records), $"records 1-{Count} did not all arrive, in order, before the death record", problems);
        ReceivedRecord? death = records.Count == Count + 1 ? records[^1] : null;
        if (death is not null)
        {
            bool names = death.Level == 2
                && death.TextString.Contains("killed by signal 9 (SIGKILL), possibly by the OOM killer", StringComparison.Ordinal);
            output.WriteLine($"   death record: level {death.Level} ({Records.LevelName(death.Level)}), names SIGKILL and the OOM killer: {names}");
            output.WriteLine($"   its text: {death.TextString}");
            LoggerScene.Check(names, "the death record is not a crit record naming SIGKILL", problems);
        }
        else
        {
            problems.Add("no death record");
        }

        LoggerScene.Check(Records.InOrder(records), "records arrived out of sequence order", problems);
        problems.ForEach(p => output.WriteLine("   PROBLEM: " + p));
        output.WriteLine();
        return new SceneResult(Name, Count + 1, records.Count, 0, problems.Count == 0, problems.FirstOrDefault());
    }
}
