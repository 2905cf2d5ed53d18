using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// Dispose is bounded by <see cref="TargetManagerOptions.DisposeTimeout"/>: a transport open that
/// blocks (under the configuration lock) is not waited for past it; what was not closed in time is
/// counted, and closed by whoever gets it later, the late transport included.
/// </summary>
public sealed class ManagerDisposalTimeLimitTests : ManagerTestBase
{
    private readonly ManualResetEventSlim _gate = new();

    public ManagerDisposalTimeLimitTests()
    {
        Register("veth0");
    }

    // An Enable on another thread, held inside the transport open (so holding the configuration lock).
    private Task<EnableResult> EnableHeldInOpen(string name = "t")
    {
        Factory.OpenGate = _gate;
        Task<EnableResult> enable = Task.Run(() => Manager.Enable(name));
        Factory.OpenEntered.Wait(Timeout).Should().BeTrue("the open is entered and held");
        return enable;
    }

    // Dispose on its own thread: true when it returned (the open still held, which the test checks).
    private bool DisposeReturns()
    {
        Task dispose = Task.Run(Manager.Dispose);
        return dispose.Wait(Timeout);
    }

    // As DisposeReturns, with a time limit of the caller's: how many targets it left to be closed later.
    private int? DisposeWithin(TimeSpan limit)
    {
        Task<int> dispose = Task.Run(() => Manager.Dispose(limit));
        return dispose.Wait(Timeout) ? dispose.Result : null;
    }

    [Fact]
    public void Dispose_returns_while_a_transport_open_is_still_blocked()
    {
        Manager.Add(ByName("veth0"));
        Task<EnableResult> enable = EnableHeldInOpen();

        bool returned = DisposeReturns();

        returned.Should().BeTrue("Dispose stops waiting at its time limit");
        _gate.IsSet.Should().BeFalse("the open is released only after Dispose returned");
        enable.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task The_transport_an_open_returns_after_dispose_is_closed_and_the_target_is_disabled()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Task<EnableResult> enable = EnableHeldInOpen();
        DisposeReturns().Should().BeTrue();

        _gate.Set();
        EnableResult result = await enable.WaitAsync(Timeout);

        result.State.Should().Be(TargetState.Disabled);
        result.Cause.Should().Be(TargetStateCause.ManagerDisposed);
        Factory.Opens.Should().Be(1);
        Factory.Last.IsDisposed.Should().BeTrue("the thread whose open returned late closes what it got");
        Factory.Last.Sent.Should().Be(0);
        target.State.Should().Be(TargetState.Disabled);
        target.StateReason.Should().Be("the manager was disposed");
    }

    [Fact]
    public async Task What_was_not_closed_in_time_is_counted()
    {
        Manager.Add(ByName("veth0", "a"));
        Manager.Add(ByName("veth0", "b"));
        Manager.Enable("a").IsEnabled.Should().BeTrue();
        Task<EnableResult> enable = EnableHeldInOpen("b");

        int? notClosed = DisposeWithin(TimeSpan.FromMilliseconds(200));

        notClosed.Should().Be(2, "a's transport waits for the lock b's setup holds");
        _gate.Set();
        await enable.WaitAsync(Timeout);
    }

    [Fact]
    public void A_dispose_that_is_not_held_up_counts_nothing()
    {
        Manager.Add(ByName("veth0"));
        Manager.Enable("t").IsEnabled.Should().BeTrue();

        int notClosed = Manager.Dispose(TimeSpan.FromSeconds(10));

        notClosed.Should().Be(0);
        Factory.Live.Should().BeEmpty();
    }

    [Fact]
    public async Task Targets_left_open_at_the_time_limit_send_nothing_and_are_closed_once_the_lock_is_free()
    {
        NetconsoleTarget enabled = Manager.Add(ByName("veth0", "a"));
        Manager.Add(ByName("veth0", "b"));
        Manager.Enable("a").IsEnabled.Should().BeTrue();
        FakeTransport open = Factory.Last;
        Task<EnableResult> enable = EnableHeldInOpen("b");
        DisposeReturns().Should().BeTrue();

        int sent = Manager.Send(NetconsoleRecord.FromString(6, "after dispose"));

        sent.Should().Be(0);
        open.Sent.Should().Be(0);
        _gate.Set();
        await enable.WaitAsync(Timeout);
        SpinWait.SpinUntil(() => Factory.Live.Count == 0, Timeout).Should().BeTrue("every transport is closed once the open returns");
        enabled.State.Should().Be(TargetState.Disabled);
        enabled.StateCause.Should().Be(TargetStateCause.ManagerDisposed);
    }

    [Fact]
    public void A_resume_held_in_its_open_does_not_hold_up_dispose_and_its_transport_is_closed_when_it_returns()
    {
        Watcher.Unregister("veth0");
        Manager.Add(ByName("veth0"));
        Manager.Enable("t").State.Should().Be(TargetState.Deactivated);
        Factory.OpenGate = _gate;
        Register("veth0");
        Factory.OpenEntered.Wait(Timeout).Should().BeTrue("the resume worker is held in the open");
        Thread worker = Manager.WorkerThread;

        DisposeReturns().Should().BeTrue();

        _gate.IsSet.Should().BeFalse();
        _gate.Set();
        worker.Join(Timeout).Should().BeTrue("the worker ends once its open returns");
        Factory.Last.IsDisposed.Should().BeTrue();
        Manager.WorkerFailures.Should().Be(0);
    }

    [Fact]
    public void Dispose_ends_a_replay_in_progress_before_it_closes_the_transport()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t").IsEnabled.Should().BeTrue();
        FakeTransport transport = Factory.Last;
        transport.Fail = FrameTransportError.DeviceDown; // the replay keeps trying
        for (int i = 1; i <= 3; i++)
        {
            Manager.Send(NetconsoleRecord.FromString(6, $"r{i}") with { Sequence = (ulong)i });
        }

        target.IsReplayRunning.Should().BeTrue();

        Manager.Dispose();
        long errors = target.GetStatistics().TransmitErrors;

        SpinWait.SpinUntil(() => !target.IsReplayRunning, Timeout).Should().BeTrue("the replay thread ends");
        transport.IsDisposed.Should().BeTrue();
        target.GetStatistics().TransmitErrors.Should().Be(errors, "nothing is sent through the closed transport");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(3);
    }
}
