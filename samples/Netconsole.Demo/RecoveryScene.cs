using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;

namespace Netconsole.Demo;

/// <summary>
/// Scene 2: recovery. The network lab makes a veth pair (its far end, the peer, in a namespace
/// of its own, where the receiver listens); the logger's target is bound to the near end by
/// name. Three records arrive. Two outages follow, each with three records logged during it,
/// which wait in the target's replay buffer (none sent, none dropped), then go out first when
/// the target resumes, before the three records logged after it:
/// a carrier loss (the peer set down: the device stays up but has no link, as with a pulled
/// cable; the target is Deactivated with cause NoCarrier) and the carrier's return, then the
/// device's deletion (an unplugged adapter) and re-creation. The target resumes by itself.
/// </summary>
/// <remarks>
/// IPv4: the peer end, unlike the lab's device end, drops its IPv6 address when it is set down
/// (Linux does so unless keep_addr_on_down is set), so an IPv6 receiver would hear nothing
/// after the carrier returns.
/// </remarks>
internal static class RecoveryScene
{
    public const string Name = "2. recovery";
    public const int Count = 15;
    private const int PerStep = 3;
    private const int Port = 6666;
    private static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(10);

    public static async Task<SceneResult> RunAsync(TextWriter output)
    {
        output.WriteLine($"== {Name}");
        using NetworkLab lab = NetworkLab.Create();
        string target = $"+@/{lab.DeviceName},@{lab.PeerIPv4}/";
        output.WriteLine($"   lab: {lab.DeviceName} ({lab.DeviceIPv4}) <-> {lab.PeerName} ({lab.PeerIPv4}, in namespace {lab.PeerNamespace}); receiver on {lab.PeerIPv4}:{Port}");
        output.WriteLine($"   logger target \"{target}\" with the default device watcher and replay buffer");
        output.WriteLine("   (the lines that begin with \"netconsole:\" are the provider's own notices, on standard error)");
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, Port));
        await using LoggingHost host = LoggingHost.Create(o => o.Targets.Add(target));
        NetconsoleTarget netconsole = host.Target;
        var changes = new StateChanges(host.Provider.Manager);

        var problems = new List<string>();
        if (!LoggingHost.WaitFor(netconsole, TargetState.Enabled, StateTimeout))
        {
            output.WriteLine($"   target did not come up: {netconsole}");
            return new SceneResult(Name, 0, 0, 0, Passed: false, $"target {netconsole}");
        }

        changes.Forget(); // the target's enabling, if it came after the subscription
        output.WriteLine($"   {netconsole.Name} is {netconsole.State} on {netconsole.DeviceName}");
        ILogger logger = host.Factory.CreateLogger("Demo.Recovery");
        var received = new List<ReceivedRecord>();

        Log(logger, host, 1, "link up");
        received.AddRange(await Show(output, receiver, "while the link is up"));

        output.WriteLine($"   -- carrier loss: the peer {lab.PeerName} is set down; {lab.DeviceName} stays up but has no link (a pulled cable)");
        changes.Action();
        lab.SetPeerDown();
        if (Outage(output, changes, netconsole, TargetStateCause.NoCarrier, problems) > TimeSpan.FromMilliseconds(200))
        {
            output.WriteLine("   (late: as for a physical NIC, the kernel holds a lost carrier's report until a second has passed since its previous link report)");
        }

        Waiting(output, logger, host, netconsole, 4, "no carrier", "without carrier", problems);

        output.WriteLine($"   -- carrier back: {lab.PeerName} is set up again");
        changes.Action();
        lab.SetPeerUp();
        Resume(output, changes, netconsole, problems);
        Log(logger, host, 7, "carrier back");
        received.AddRange(await Show(output, receiver, 2 * PerStep, "after the carrier came back, the 3 that waited first"));

        output.WriteLine($"   -- deletion: {lab.DeviceName} is deleted (an unplugged adapter)");
        changes.Action();
        lab.DeleteDevice();
        Outage(output, changes, netconsole, TargetStateCause.DeviceUnregistered, problems);
        Waiting(output, logger, host, netconsole, 10, "device gone", $"while {lab.DeviceName} is gone", problems);

        output.WriteLine($"   -- re-creation: {lab.DeviceName} is created again");
        changes.Action();
        lab.RecreateDevice();
        Resume(output, changes, netconsole, problems);
        output.WriteLine($"   (the re-created {lab.DeviceName} has a new interface index, {lab.DeviceIndex}: the target follows the name)");
        Log(logger, host, 13, "re-created");
        received.AddRange(await Show(output, receiver, 2 * PerStep, "after the re-creation, the 3 that waited first"));

        string[] texts = received.Select(r => r.TextString).ToArray();
        string[] expected =
        [
            .. Texts(1, "link up"), .. Texts(4, "no carrier"), .. Texts(7, "carrier back"),
            .. Texts(10, "device gone"), .. Texts(13, "re-created"),
        ];
        LoggerScene.Check(texts.SequenceEqual(expected), "the receiver did not get exactly records 1-15, in order", problems);
        LoggerScene.Check(Records.InOrder(received), "the sequence numbers do not increase", problems);
        output.WriteLine("   " + Records.Statistics(netconsole));
        problems.ForEach(p => output.WriteLine("   PROBLEM: " + p));
        output.WriteLine();
        return new SceneResult(Name, Count, received.Count, netconsole.GetStatistics().RecordsDropped, problems.Count == 0, problems.FirstOrDefault());
    }

    // The target's state changes, printed in order by the scene's thread as it waits for them,
    // with the time since the scene's last action on the network began.
    private sealed class StateChanges
    {
        private readonly BlockingCollection<(long At, TargetStateChangedEventArgs Change)> _changes = [];
        private long _actionAt = Stopwatch.GetTimestamp();

        public StateChanges(TargetManager manager) => manager.StateChanged += (_, e) => _changes.Add((Stopwatch.GetTimestamp(), e));

        /// <summary>Drops the changes seen so far.</summary>
        public void Forget()
        {
            while (_changes.TryTake(out _))
            {
            }
        }

        /// <summary>Notes that an action (ip link ...) begins now: the next changes are timed from here.</summary>
        public void Action() => _actionAt = Stopwatch.GetTimestamp();

        /// <summary>
        /// Prints the changes up to the first one to <paramref name="state"/> and returns it with
        /// the time since the action (null after the timeout).
        /// </summary>
        public (TargetStateChangedEventArgs Change, TimeSpan After)? WaitFor(TextWriter output, TargetState state)
        {
            while (_changes.TryTake(out var next, StateTimeout))
            {
                TargetStateChangedEventArgs e = next.Change;
                TimeSpan after = Stopwatch.GetElapsedTime(_actionAt, next.At);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"   {after.TotalMilliseconds,4:F0} ms later: {e.Target.Name} {e.OldState} -> {e.NewState}, cause {e.Cause}: {e.Reason}"));
                if (e.NewState == state)
                {
                    return (e, after);
                }
            }

            return null;
        }
    }

    // Returns how long after the action the target was deactivated.
    private static TimeSpan Outage(TextWriter output, StateChanges changes, NetconsoleTarget target, TargetStateCause cause, List<string> problems)
    {
        (TargetStateChangedEventArgs Change, TimeSpan After)? deactivated = changes.WaitFor(output, TargetState.Deactivated);
        LoggerScene.Check(deactivated is not null, $"not Deactivated: {target}", problems);
        LoggerScene.Check(deactivated is not { Change: var change } || change.Cause == cause, $"Deactivated with cause {deactivated?.Change.Cause}, not {cause}", problems);
        return deactivated?.After ?? TimeSpan.Zero;
    }

    private static void Resume(TextWriter output, StateChanges changes, NetconsoleTarget target, List<string> problems) =>
        LoggerScene.Check(changes.WaitFor(output, TargetState.Enabled) is not null, $"did not resume: {target}", problems);

    // Logs three records during an outage: none may be sent or dropped, all must wait in the replay buffer.
    private static void Waiting(TextWriter output, ILogger logger, LoggingHost host, NetconsoleTarget target, int first, string when, string during, List<string> problems)
    {
        TargetStatistics before = target.GetStatistics();
        Log(logger, host, first, when);
        TargetStatistics after = target.GetStatistics();
        long sent = after.RecordsSent - before.RecordsSent;
        long dropped = after.RecordsDropped - before.RecordsDropped;
        long waiting = after.RecordsBuffered - before.RecordsBuffered;
        output.WriteLine($"   logged records {first}-{first + PerStep - 1} {during}: {sent} sent, {dropped} dropped, {waiting} waiting in the replay buffer");
        LoggerScene.Check(sent == 0 && dropped == 0 && waiting == PerStep, $"records {first}-{first + PerStep - 1}: {sent} sent, {dropped} dropped, {waiting} waiting (expected 0, 0, {PerStep})", problems);
    }

    private static IEnumerable<string> Texts(int first, string when) =>
        Enumerable.Range(first, PerStep).Select(i => $"record {i} of {Count} ({when})");

    private static void Log(ILogger logger, LoggingHost host, int first, string when)
    {
        for (int i = first; i < first + PerStep; i++)
        {
            DemoLog.Record(logger, i, Count, when);
        }

        host.Flush();
    }

    private static Task<List<ReceivedRecord>> Show(TextWriter output, NetconsoleReceiver receiver, string when) => Show(output, receiver, PerStep, when);

    private static async Task<List<ReceivedRecord>> Show(TextWriter output, NetconsoleReceiver receiver, int count, string when)
    {
        List<ReceivedRecord> records = await Records.ReceiveAsync(receiver, count, TimeSpan.FromSeconds(5));
        output.WriteLine($"   received {records.Count} of {count} {when}:");
        foreach (ReceivedRecord record in records)
        {
            output.WriteLine("     " + Records.Line(record));
        }

        return records;
    }
}
