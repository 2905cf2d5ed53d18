using System.Diagnostics;
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
    public const string Target = "+@/lo,@::1/";
    private const int Count = 5;

    public static async Task<SceneResult> RunAsync(TextWriter output)
    {
        output.WriteLine($"== {Name}");
        string dll = Path.Combine(AppContext.BaseDirectory, "netconsole-crash-demo.dll");
        if (!File.Exists(dll))
        {
            output.WriteLine($"   {dll} is missing (build samples/Netconsole.Demo, which references the crash demo)");
            return new SceneResult(Name, 0, 0, 0, Passed: false, "crash demo missing");
        }

        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));
        string host = DotnetHost();
        output.WriteLine($"   receiver on [::1]:6666; child: dotnet netconsole-crash-demo.dll \"{Target}\" {Count}");

        var start = new ProcessStartInfo(host) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(Target);
        start.ArgumentList.Add(Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            try
            {
                await child.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                output.WriteLine("   the child did not exit within 20 s and was killed");
            }
        }

        // The runtime's own report of the unhandled exception goes to stderr too: show the child's lines only.
        foreach (string line in (await stderr + await stdout).Split('\n').Where(l => l.StartsWith("netconsole-crash-demo:", StringComparison.Ordinal)))
        {
            output.WriteLine("   child: " + line.TrimEnd());
        }

        output.WriteLine($"   child exit code: {child.ExitCode} ({(child.ExitCode != 0 ? "crashed, as it should" : "did NOT crash")})");

        List<ReceivedRecord> records = await Records.ReceiveAsync(receiver, Count + 1, TimeSpan.FromSeconds(5));
        output.WriteLine($"   logged {Count} records and crashed; received {records.Count}:");
        foreach (ReceivedRecord record in records)
        {
            output.WriteLine("     " + Records.Line(record));
        }

        var problems = new List<string>();
        LoggerScene.Check(child.ExitCode != 0, "the child exited with 0", problems);
        bool recordsInOrder = records.Count == Count + 1
            && Enumerable.Range(1, Count).All(i => records[i - 1].TextString.Contains($"record {i} of {Count}", StringComparison.Ordinal));
        LoggerScene.Check(recordsInOrder, $"records 1-{Count} did not all arrive, in order, before the crash record", problems);
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

    /// <summary>The dotnet host running this process (or the one the SDK names, or dotnet on the PATH).</summary>
    internal static string DotnetHost()
    {
        string? path = Environment.ProcessPath;
        if (path is not null && Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            return path;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } sdkHost ? sdkHost : "dotnet";
    }
}
