using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Resumes run on the manager's worker, re-check the target under the configuration lock, and lose to the operator.</summary>
public sealed class ResumeWorkerTests : ManagerTestBase
{
    [Fact]
    public void Disable_while_a_resume_is_queued_wins()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.PauseWorker();
        Register("veth0");

        Manager.Disable("t");
        Manager.ResumeWorker();
        Settle();

        target.State.Should().Be(TargetState.Disabled);
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public async Task Disable_during_a_resume_waits_for_it_and_then_wins()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        var gate = new ManualResetEventSlim();
        Factory.OpenGate = gate;
        Register("veth0");
        Factory.OpenEntered.Wait(Timeout).Should().BeTrue();

        Task disable = Task.Run(() => Manager.Disable("t"));
        gate.Set();
        await disable.WaitAsync(Timeout);
        Settle();

        target.State.Should().Be(TargetState.Disabled);
        Factory.Last.IsDisposed.Should().BeTrue();
        EventsSoFar().Select(e => e.NewState).Should().Equal(TargetState.Deactivated, TargetState.Enabled, TargetState.Disabled);
    }

    [Fact]
    public async Task Remove_during_a_resume_removes_the_target_without_a_failure()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        var gate = new ManualResetEventSlim();
        Factory.OpenGate = gate;
        Register("veth0");
        Factory.OpenEntered.Wait(Timeout).Should().BeTrue();

        Task<bool> remove = Task.Run(() => Manager.Remove("t"));
        gate.Set();
        bool removed = await remove.WaitAsync(Timeout);
        Settle();

        removed.Should().BeTrue();
        Manager.Targets.Should().BeEmpty();
        target.State.Should().Be(TargetState.Disabled);
        Factory.Last.IsDisposed.Should().BeTrue();
        Manager.WorkerFailures.Should().Be(0);
    }

    [Fact]
    public void A_removed_target_is_not_resumed_by_a_queued_event()
    {
        Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.PauseWorker();
        Register("veth0");

        Manager.Remove("t");
        Manager.ResumeWorker();
        Settle();

        Factory.Opens.Should().Be(0);
        Manager.WorkerFailures.Should().Be(0);
    }

    [Fact]
    public void A_failed_resume_stays_deactivated_with_the_reason()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Factory.OpenError = new FrameTransportException(FrameTransportError.PermissionDenied, "veth0", "no CAP_NET_RAW");

        Register("veth0");
        Settle();

        target.State.Should().Be(TargetState.Deactivated);
        target.StateReason.Should().Be("resume on device veth0 failed: no CAP_NET_RAW");
        target.GetStatistics().Resumes.Should().Be(0);
    }

    [Fact]
    public void A_failed_resume_is_retried_on_the_next_matching_event()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Factory.OpenError = new FrameTransportException(FrameTransportError.Other, "veth0", "busy");
        Register("veth0");
        Settle();

        Factory.OpenError = null;
        Watcher.SetMac("veth0", MacB);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.GetStatistics().Resumes.Should().Be(1);
    }

    [Fact]
    public void A_target_queued_by_several_events_is_set_up_once()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.PauseWorker();

        Register("veth0");
        Watcher.SetMac("veth0", MacB);
        Watcher.SetUp("veth0", true);
        Manager.ResumeWorker();
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        Factory.Opens.Should().Be(1);
        target.GetStatistics().Resumes.Should().Be(1);
    }

    [Fact]
    public void A_device_gone_again_before_the_worker_runs_is_not_opened()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.PauseWorker();

        Register("veth0");
        Watcher.Unregister("veth0");
        Manager.ResumeWorker();
        Settle();

        target.State.Should().Be(TargetState.Deactivated);
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public void A_late_unregister_of_the_previous_device_leaves_the_resumed_target_enabled()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.PauseWorker();

        // The old veth0 goes and a new one (another interface index) comes before the worker runs.
        Watcher.Unregister("veth0");
        Register("veth0");
        Manager.ResumeWorker();
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        Factory.Opens.Should().Be(2);
    }

    [Fact]
    public void A_deactivated_target_reconfigured_to_another_device_resumes_on_that_one()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");

        Manager.Reconfigure("t", o => o.DeviceName = "veth1");
        Register("veth0");
        Register("veth1", MacB);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.DeviceName.Should().Be("veth1");
    }

    [Fact]
    public void The_resume_worker_is_one_named_background_thread()
    {
        Manager.WorkerThread.Name.Should().Be("netconsole-resume");
        Manager.WorkerThread.IsBackground.Should().BeTrue();
        Manager.WorkerThread.IsAlive.Should().BeTrue();
    }

    [Fact]
    public void Dispose_joins_the_resume_worker()
    {
        Thread worker = Manager.WorkerThread;

        Manager.Dispose();

        worker.IsAlive.Should().BeFalse();
    }
}
