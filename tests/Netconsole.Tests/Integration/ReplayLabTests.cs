using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Tests.Receiving;
using Netconsole.Tests.Support;
using Netconsole.Wire;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// The replay buffer against real frames and a real receiver (issue 18): 1,000 records logged
/// while the device is set down, loses its carrier, or is deleted and re-created for most of
/// them all arrive, in order, with their own sequence numbers; past the buffer's limit exactly
/// the counted number is lost, the oldest.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public sealed class ReplayLabTests(ITestOutputHelper output) : LabFixture
{
    private const int Records = 1000;
    private const int OutageFrom = 101; // records 101..900 are offered during the outage
    private const int OutageTo = 900;
    private TargetManager Manager()
    {
        return new(new TargetManagerOptions { Watcher = Watcher("netlink") });
    }

    // By name and with the peer's MAC: nothing to resolve, only the link matters.
    private static NetconsoleTarget AddTarget(TargetManager manager, NetworkLab lab, int maxRecords = NetconsoleTargetOptions.DefaultReplayBufferMaxRecords)
    {
        NetconsoleTargetOptions options = NetconsoleTargetOptions.Parse($"+@{lab.DeviceIPv4}/{lab.DeviceName},@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}");
        options.Name = "replay";
        options.ReplayBufferMaxRecords = maxRecords;
        return manager.Add(options);
    }

    private static void Send(TargetManager manager, int seq) =>
        manager.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes($"line {seq}")) { Sequence = (ulong)seq, TimestampMicroseconds = (ulong)seq });

    // A steady stream: a record every 5 ms, so the 800 of the outage span about 4 s of it.
    private static void SendRange(TargetManager manager, int from, int to)
    {
        for (int seq = from; seq <= to; seq++)
        {
            Send(manager, seq);
            Thread.Sleep(5);
        }
    }

    // Takes the link away, as each kind of outage does, and says when the target has seen it
    // (a frame injected into a link whose loss the watcher has not reported yet is the driver's to drop).
    private static void TakeDown(string outage, NetworkLab lab, NetconsoleTarget target)
    {
        switch (outage)
        {
            case "device-down":
                lab.SetDeviceDown(); // the transport refuses frames at once; the target stays enabled
                break;
            case "no-carrier":
                lab.SetPeerDown();
                RecoveryTests.WaitFor(target, TargetState.Deactivated);
                break;
            default:
                lab.DeleteDevice();
                RecoveryTests.WaitFor(target, TargetState.Deactivated);
                break;
        }
    }

    private static void BringBack(string outage, NetworkLab lab)
    {
        switch (outage)
        {
            case "device-down": lab.SetDeviceUp(); break;
            case "no-carrier": lab.SetPeerUp(); break;
            default: lab.RecreateDevice(); break;
        }
    }

    private static async Task<List<ReceivedRecord>> ReadAll(NetconsoleReceiver receiver, int count)
    {
        var records = new List<ReceivedRecord>();
        for (int i = 0; i < count; i++)
        {
            records.Add(await TestWait.ReadAsync(receiver));
        }

        return records;
    }

    // drainFirst: the records after the outage wait until the buffer is empty (else, the buffer
    // being full, each would push out one more of the oldest).
    private async Task<(NetconsoleTarget Target, List<ReceivedRecord> Received)> Run(string outage, int maxRecords, int expected, bool drainFirst = false)
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = IPv4Receiver(lab);
        await using TargetManager manager = Manager();
        NetconsoleTarget target = AddTarget(manager, lab, maxRecords);
        manager.Enable(target.Name).State.Should().Be(TargetState.Enabled);

        SendRange(manager, 1, OutageFrom - 1);
        await TestWait.UntilAsync(() => receiver.GetStatistics().RecordsReceived == OutageFrom - 1); // nothing in flight when the link goes
        TakeDown(outage, lab, target);
        SendRange(manager, OutageFrom, OutageTo);
        TargetStatistics during = target.GetStatistics();
        output.WriteLine($"{outage}, during the outage: {during}");
        BringBack(outage, lab);
        if (drainFirst)
        {
            await TestWait.UntilAsync(() => target.GetStatistics().RecordsBuffered == 0);
        }

        SendRange(manager, OutageTo + 1, Records); // the first of these queue behind the replay

        List<ReceivedRecord> received = await ReadAll(receiver, expected);
        await TestWait.UntilAsync(() => target.GetStatistics().RecordsBuffered == 0);
        TargetStatistics stats = target.GetStatistics();
        output.WriteLine($"{outage}, after: {stats}; receiver: {receiver.GetStatistics()}");
        (stats.RecordsSent + stats.RecordsReplayed + stats.RecordsDropped).Should().Be(Records, "offered = sent + replayed + dropped + buffered (0)");
        receiver.GetStatistics().RecordsReceived.Should().Be(expected, "nothing more arrives than what the target says it sent or replayed");
        receiver.GetStatistics().Reassembler.RecordsLost.Should().Be(Records - expected, "the receiver sees the gap of what was dropped, and only that");
        return (target, received);
    }

    [SkippableTheory]
    [InlineData("device-down")]
    [InlineData("no-carrier")]
    [InlineData("deleted")]
    public async Task Records_logged_during_an_outage_all_arrive_in_order_after_it(string outage)
    {
        (NetconsoleTarget target, List<ReceivedRecord> received) = await Run(outage, NetconsoleTargetOptions.DefaultReplayBufferMaxRecords, Records);

        received.Select(r => r.Sequence).Should().Equal(Enumerable.Range(1, Records).Select(n => (ulong)n), "1,000 records, in order, none lost");
        received.Select(r => r.TextString).Should().Equal(Enumerable.Range(1, Records).Select(n => $"line {n}"));
        TargetStatistics stats = target.GetStatistics();
        stats.RecordsDropped.Should().Be(0);
        stats.RecordsReplayed.Should().BeGreaterThanOrEqualTo(OutageTo - OutageFrom + 1, "the outage's records were replayed");
    }

    [SkippableFact]
    public async Task Past_the_limit_exactly_the_counted_number_is_lost_the_oldest_first()
    {
        const int limit = 300;
        const int lost = OutageTo - OutageFrom + 1 - limit; // 500: records 101..600
        (NetconsoleTarget target, List<ReceivedRecord> received) = await Run("deleted", limit, Records - lost, drainFirst: true);

        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.ReplayBufferFull].Should().Be(lost);
        target.GetStatistics().RecordsDropped.Should().Be(lost);
        received.Select(r => r.Sequence).Should().Equal(
            Enumerable.Range(1, OutageFrom - 1).Concat(Enumerable.Range(OutageFrom + lost, Records - OutageFrom - lost + 1)).Select(n => (ulong)n),
            "the oldest records of the outage were dropped, the newest kept");
    }
}
