using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Sends, device events and the operator at once: no exception, no deadlock, every record counted once.</summary>
public sealed class ManagerRaceTests : ManagerTestBase
{
    private const int Senders = 4;
    private const int RecordsPerSender = 10_000;
    private const int DeviceEvents = 1000;

    [Fact]
    public async Task Sends_device_events_and_operator_toggles_at_once_count_every_record_exactly_once()
    {
        Factory.KeepFrames = false;
        Register("veth0", MacA);
        Register("veth1", MacB);
        NetconsoleTarget byName = Manager.Add(ByName("veth0", "by-name"));
        NetconsoleTarget byMac = Manager.Add(ByMac(MacA, "by-mac"));
        NetconsoleTargetOptions extended = ByName("veth1", "toggled");
        extended.Extended = true;
        NetconsoleTarget toggled = Manager.Add(extended);
        foreach (NetconsoleTarget target in Manager.Targets)
        {
            Manager.Enable(target.Name);
        }

        using var done = new CancellationTokenSource();
        var sendTasks = Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            for (int i = 0; i < RecordsPerSender; i++)
            {
                Manager.Send(NetconsoleRecord.FromString(6, "race") with { Sequence = (ulong)(s * RecordsPerSender + i) });
            }
        })).ToArray();

        Task storm = Task.Run(() =>
        {
            for (int i = 0; i < DeviceEvents / 2; i++)
            {
                // The transports die with their device, as libpcap handles do.
                foreach (FakeTransport transport in Factory.Live.Where(t => t.DeviceName == "veth0"))
                {
                    transport.Fail = FrameTransportError.DeviceGone;
                }

                Watcher.Unregister("veth0");
                Register("veth0", MacA);
            }
        });

        Task toggler = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                Manager.Disable("toggled");
                Manager.Enable("toggled");
                Manager.Disable("by-name");
                Manager.Enable("by-name");
                Thread.Sleep(1);
            }
        });

        Task senders = Task.WhenAll(sendTasks);
        await Task.WhenAll(senders, storm).WaitAsync(TimeSpan.FromSeconds(60));
        await done.CancelAsync();
        await toggler.WaitAsync(TimeSpan.FromSeconds(60));
        Settle();

        foreach (NetconsoleTarget target in new[] { byName, byMac, toggled })
        {
            TargetStatistics statistics = target.GetStatistics();
            (statistics.RecordsSent + statistics.Dropped).Should().Be(Senders * RecordsPerSender, $"every record offered to {target.Name} is sent or dropped, once");
            statistics.DroppedByReason[TargetDropReason.InternalError].Should().Be(0);
        }

        toggled.GetStatistics().RecordsSent.Should().BeGreaterThan(0);
        Manager.WorkerFailures.Should().Be(0);
        Manager.HandlerFailures.Should().Be(0);

        // The storm ended with veth0 registered: both targets on it are back.
        byName.State.Should().Be(TargetState.Enabled);
        byMac.State.Should().Be(TargetState.Enabled);
        Factory.Live.Should().HaveCount(3, "each enabled target holds one open transport, the others were closed");
    }
}
