using Netconsole.Targets;
using Netconsole.Transport;
using Xunit.Abstractions;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Sends, device events and the operator at once: no exception, no deadlock, every record counted once.</summary>
public sealed class ManagerRaceTests(ITestOutputHelper output) : ManagerTestBase
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
        using var sending = new ManualResetEventSlim();
        var sendTasks = Enumerable.Range(0, Senders).Select(s => OnItsOwnThread(() =>
        {
            sending.Set();
            for (int i = 0; i < RecordsPerSender; i++)
            {
                Manager.Send(NetconsoleRecord.FromString(6, "race") with { Sequence = (ulong)(s * RecordsPerSender + i) });
            }
        })).ToArray();

        Task storm = OnItsOwnThread(() =>
        {
            sending.Wait();
            for (int i = 0; i < DeviceEvents / 2; i++)
            {
                // The transports die with their device, as libpcap handles do; now and then the
                // senders get a moment to find them dead before the device is reported gone.
                foreach (FakeTransport transport in Factory.Live.Where(t => t.DeviceName == "veth0"))
                {
                    transport.Fail = FrameTransportError.DeviceGone;
                }

                if (i % 10 == 0)
                {
                    Thread.Sleep(1);
                }

                Watcher.Unregister("veth0");

                // Every other time the worker catches up first, so the targets stay deactivated for
                // a while (otherwise it coalesces most of the storm).
                if (i % 2 == 0)
                {
                    Manager.WaitForWorkerIdle(Timeout);
                }

                Register("veth0", MacA);
            }
        });

        Task toggler = OnItsOwnThread(() =>
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

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task senders = Task.WhenAll(sendTasks);
        await senders.WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"senders done {clock.ElapsedMilliseconds} ms");
        await storm.WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"storm done {clock.ElapsedMilliseconds} ms");
        await done.CancelAsync();
        await toggler.WaitAsync(TimeSpan.FromSeconds(60));
        Settle();

        foreach (NetconsoleTarget target in new[] { byName, byMac, toggled })
        {
            // The storm ended with every target enabled: what it buffered is replayed.
            SpinWait.SpinUntil(() => target.GetStatistics().RecordsBuffered == 0, Timeout).Should().BeTrue($"{target.Name} replays its buffer");
            TargetStatistics statistics = target.GetStatistics();
            output.WriteLine($"{target.Name}: sent {statistics.RecordsSent}, replayed {statistics.RecordsReplayed}, resumes {statistics.Resumes}, dropped "
                + string.Join(", ", statistics.RecordsDroppedByReason.Select(p => $"{p.Key} {p.Value}")));
            (statistics.RecordsSent + statistics.RecordsReplayed + statistics.RecordsDropped).Should().Be(Senders * RecordsPerSender, $"every record offered to {target.Name} is sent, replayed or dropped, once");
            statistics.RecordsDroppedByReason[TargetDropReason.InternalError].Should().Be(0);
        }

        toggled.GetStatistics().RecordsSent.Should().BeGreaterThan(0);
        Manager.WorkerFailures.Should().Be(0);
        Manager.HandlerFailures.Should().Be(0);

        // The storm ended with veth0 registered: both targets on it are back.
        byName.State.Should().Be(TargetState.Enabled);
        byMac.State.Should().Be(TargetState.Enabled);
        Factory.Live.Should().HaveCount(3, "each enabled target holds one open transport, the others were closed");
    }

    // Every actor gets a thread of its own: on a 2-core machine the thread pool would run them one after the other.
    private static Task OnItsOwnThread(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
