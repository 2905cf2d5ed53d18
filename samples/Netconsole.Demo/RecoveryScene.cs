using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;

namespace Netconsole.Demo;

/// <summary>
/// Scene 2: recovery. The network lab makes a veth pair (its far end in a namespace of its own,
/// where the receiver listens); the logger's target is bound to the near end by name. Three
/// records arrive; the interface is deleted and the target deactivates; three records are
/// counted as dropped; the interface is re-created and the target resumes by itself; three
/// more records arrive.
/// </summary>
internal static class RecoveryScene
{
    public const string Name = "2. recovery";
    private static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(10);

    public static async Task<SceneResult> RunAsync(TextWriter output)
    {
        output.WriteLine($"== {Name}");
        using NetworkLab lab = NetworkLab.Create();
        string target = $"+@/{lab.DeviceName},@{lab.PeerIPv6}/";
        output.WriteLine($"   lab: {lab.DeviceName} ({lab.DeviceIPv6}) <-> {lab.PeerName} ({lab.PeerIPv6}, in namespace {lab.PeerNamespace}); receiver on [{lab.PeerIPv6}]:6666");
        output.WriteLine($"   logger target \"{target}\" with the default device watcher");
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetworkV6, 6666));
        await using LoggingHost host = LoggingHost.Create(o => o.Targets.Add(target));
        NetconsoleTarget netconsole = host.Target;
        var clock = Stopwatch.StartNew();
        host.Provider.Manager.StateChanged += (_, e) =>
            output.WriteLine($"     [{clock.ElapsedMilliseconds,5} ms] {e.Target.Name}: {e.OldState} -> {e.NewState} ({e.Reason})");

        var problems = new List<string>();
        if (!LoggingHost.WaitFor(netconsole, TargetState.Enabled, StateTimeout))
        {
            output.WriteLine($"   target did not come up: {netconsole}");
            return new SceneResult(Name, 0, 0, 0, Passed: false, $"target {netconsole}");
        }

        output.WriteLine($"   {netconsole.Name} is {netconsole.State} on {netconsole.DeviceName}");
        ILogger logger = host.Factory.CreateLogger("Demo.Recovery");
        var received = new List<ReceivedRecord>();

        Log(logger, host, "before", 1);
        received.AddRange(await Show(output, receiver, "before the interface goes away"));

        output.WriteLine($"   deleting {lab.DeviceName} ...");
        lab.DeleteDevice();
        LoggerScene.Check(LoggingHost.WaitFor(netconsole, TargetState.Deactivated, StateTimeout), $"not Deactivated after the delete: {netconsole}", problems);
        long droppedBefore = netconsole.GetStatistics().RecordsDropped;
        Log(logger, host, "while gone", 4);
        TargetStatistics gone = netconsole.GetStatistics();
        output.WriteLine($"   logged 3 records while {lab.DeviceName} is gone: counted as dropped {gone.RecordsDropped - droppedBefore}{Records.DropReasons(gone)}");
        LoggerScene.Check(gone.RecordsDropped - droppedBefore == 3, "the records logged while the device was gone were not all counted as dropped", problems);

        output.WriteLine($"   re-creating {lab.DeviceName} ...");
        lab.RecreateDevice();
        bool resumed = LoggingHost.WaitFor(netconsole, TargetState.Enabled, StateTimeout);
        LoggerScene.Check(resumed, $"did not resume: {netconsole}", problems);
        if (resumed)
        {
            output.WriteLine($"   {netconsole.Name} is {netconsole.State} on {netconsole.DeviceName} (the re-created interface has index {lab.DeviceIndex})");
        }

        Log(logger, host, "after", 7);
        received.AddRange(await Show(output, receiver, "after the interface came back"));

        string[] texts = received.Select(r => r.TextString).ToArray();
        string[] expected = [.. Texts("before", 1), .. Texts("after", 7)];
        LoggerScene.Check(texts.SequenceEqual(expected), "the receiver did not get exactly records 1-3 and 7-9", problems);
        output.WriteLine("   " + Records.Statistics(netconsole));
        problems.ForEach(p => output.WriteLine("   PROBLEM: " + p));
        output.WriteLine();
        return new SceneResult(Name, 9, received.Count, netconsole.GetStatistics().RecordsDropped, problems.Count == 0, problems.FirstOrDefault());
    }

    private static IEnumerable<string> Texts(string when, int first) =>
        Enumerable.Range(first, 3).Select(i => $"record {i} of 9 ({when})");

    private static void Log(ILogger logger, LoggingHost host, string when, int first)
    {
        for (int i = first; i < first + 3; i++)
        {
            DemoLog.Record(logger, i, when);
        }

        host.Flush();
    }

    private static async Task<List<ReceivedRecord>> Show(TextWriter output, NetconsoleReceiver receiver, string when)
    {
        List<ReceivedRecord> records = await Records.ReceiveAsync(receiver, 3, TimeSpan.FromSeconds(5));
        output.WriteLine($"   received {records.Count} of 3 {when}:");
        foreach (ReceivedRecord record in records)
        {
            output.WriteLine("     " + Records.Line(record));
        }

        return records;
    }
}
