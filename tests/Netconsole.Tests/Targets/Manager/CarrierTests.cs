using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// A device that is up without carrier (a cable pulled, a switch port or a veth peer down) takes
/// every frame and drops it. A target there does not claim to send: its records are counted as
/// <see cref="TargetDropReason.NoCarrier"/> from the moment the watcher reports the loss, it is
/// deactivated for it, and it resumes when the carrier returns. Setup waits a bounded time for a
/// carrier, as the kernel's netpoll setup does. (The targets here have no replay buffer, as in
/// the kernel, so their records are dropped; ReplayTests shows them buffered and replayed.)
/// </summary>
public sealed class CarrierTests() : ManagerTestBase(carrierTimeout: TimeSpan.FromMilliseconds(200))
{
    private static NetconsoleTargetOptions WithoutReplay()
    {
        NetconsoleTargetOptions options = ByName("veth0");
        options.ReplayBufferMaxRecords = 0;
        return options;
    }

    private NetconsoleTarget EnabledOnVeth0()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(WithoutReplay());
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        return target;
    }

    [Fact]
    public void Records_stop_as_soon_as_the_watcher_reports_the_carrier_lost_and_are_counted_as_no_carrier()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Manager.PauseWorker(); // the worker has not seen the event yet: the send path alone must stop

        Watcher.SetCarrier("veth0", false);
        SendRecords(3);

        Factory.Last.Frames.Should().BeEmpty("the driver would have dropped them");
        target.State.Should().Be(TargetState.Enabled, "the worker has not applied the event yet");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.NoCarrier].Should().Be(3);
        target.GetStatistics().RecordsSent.Should().Be(0);
    }

    [Fact]
    public void A_target_whose_device_lost_its_carrier_is_deactivated_and_resumes_when_it_returns()
    {
        NetconsoleTarget target = EnabledOnVeth0();

        Watcher.SetCarrier("veth0", false);
        Settle();
        SendRecords(2);
        Watcher.SetCarrier("veth0", true);
        Settle();
        SendRecords(1, firstSequence: 3);

        target.State.Should().Be(TargetState.Enabled);
        target.StateCause.Should().Be(TargetStateCause.Resumed);
        EventsSoFar().Select(e => (e.NewState, e.Cause, e.Reason)).Should().Equal(
            (TargetState.Enabled, TargetStateCause.Enabled, "enabled on device veth0"),
            (TargetState.Deactivated, TargetStateCause.NoCarrier, "device veth0 lost its carrier (no link: a cable, a switch port or the veth peer is down)"),
            (TargetState.Enabled, TargetStateCause.Resumed, "resumed on device veth0"));
        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsDroppedByReason[TargetDropReason.NoCarrier].Should().Be(2);
        statistics.RecordsSent.Should().Be(1, "the first record after the carrier returned went out");
        statistics.Resumes.Should().Be(1);
        Factory.Last.Frames.Should().ContainSingle();
    }

    [Fact]
    public void A_flap_over_before_the_worker_gets_to_it_leaves_the_target_enabled_with_its_drops_counted()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        FakeTransport transport = Factory.Last;
        Manager.PauseWorker();

        Watcher.SetCarrier("veth0", false);
        SendRecords(1);
        Watcher.SetCarrier("veth0", true);
        SendRecords(1, firstSequence: 2);
        Manager.ResumeWorker();
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        EventsSoFar().Should().ContainSingle("only the enable: the flap changed no state");
        transport.Frames.Should().ContainSingle("the record after the carrier returned went out at once, on the same transport");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.NoCarrier].Should().Be(1);
    }

    [Fact]
    public async Task Enable_waits_for_the_carrier_of_a_device_that_is_up_without_one()
    {
        using var patient = new PatientManager(TimeSpan.FromSeconds(30));
        patient.Watcher.Register("veth0", MacA, [Local]);
        patient.Watcher.SetCarrier("veth0", false);
        NetconsoleTarget target = patient.Manager.Add(ByName("veth0"));

        Task<EnableResult> enable = Task.Run(() => patient.Manager.Enable(target.Name));
        SpinWait.SpinUntil(() => patient.Manager.CarrierWaits == 1, Timeout).Should().BeTrue("setup found no carrier and waits");
        enable.IsCompleted.Should().BeFalse();
        patient.Watcher.SetCarrier("veth0", true);

        EnableResult result = await enable.WaitAsync(Timeout);
        result.State.Should().Be(TargetState.Enabled);
        result.Reason.Should().Be("enabled on device veth0");
    }

    [Fact]
    public void Past_the_carrier_timeout_setup_says_no_carrier_and_the_target_resumes_when_it_comes()
    {
        Register("veth0");
        Watcher.SetCarrier("veth0", false);
        Settle(); // the device's events are behind us: only the carrier's return resumes the target
        NetconsoleTarget target = Manager.Add(WithoutReplay());

        EnableResult result = Manager.Enable(target.Name);
        SendRecords(1);
        Watcher.SetCarrier("veth0", true);
        Settle();

        result.State.Should().Be(TargetState.Deactivated);
        result.Cause.Should().Be(TargetStateCause.NoCarrier);
        result.Reason.Should().Be("setup failed: device veth0 has no carrier after 0.2 s (no link: a cable, a switch port or the veth peer is down)");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.NoCarrier].Should().Be(1, "a target deactivated for want of carrier counts its drops as such");
        target.State.Should().Be(TargetState.Enabled);
        target.StateCause.Should().Be(TargetStateCause.Resumed);
        Manager.CarrierWaits.Should().Be(1, "the resume found the carrier there");
    }

    [Fact]
    public void A_carrier_timeout_of_zero_fails_at_once()
    {
        using var impatient = new PatientManager(TimeSpan.Zero);
        impatient.Watcher.Register("veth0", MacA, [Local]);
        impatient.Watcher.SetCarrier("veth0", false);
        NetconsoleTarget target = impatient.Manager.Add(ByName("veth0"));

        EnableResult result = impatient.Manager.Enable(target.Name);

        result.Cause.Should().Be(TargetStateCause.NoCarrier);
        result.Reason.Should().Be("setup failed: device veth0 has no carrier (no link: a cable, a switch port or the veth peer is down)");
    }

    [Fact]
    public async Task Disposing_the_manager_ends_a_setup_waiting_for_a_carrier()
    {
        var patient = new PatientManager(TimeSpan.FromMinutes(5));
        patient.Watcher.Register("veth0", MacA, [Local]);
        patient.Watcher.SetCarrier("veth0", false);
        NetconsoleTarget target = patient.Manager.Add(ByName("veth0"));
        Task<EnableResult> enable = Task.Run(() => patient.Manager.Enable(target.Name));
        SpinWait.SpinUntil(() => patient.Manager.CarrierWaits == 1, Timeout).Should().BeTrue();

        Task dispose = Task.Run(patient.Dispose);

        await dispose.WaitAsync(Timeout); // the wait ends on disposal, not after 5 minutes
        EnableResult result = await enable.WaitAsync(Timeout);
        result.State.Should().Be(TargetState.Disabled, "a setup cut short by disposal ends as disposal leaves every target");
        result.Cause.Should().Be(TargetStateCause.ManagerDisposed);
    }

    [Fact]
    public void A_device_set_down_keeps_its_target_enabled_as_in_the_kernel()
    {
        NetconsoleTarget target = EnabledOnVeth0();

        Watcher.SetUp("veth0", false);
        Settle();

        target.State.Should().Be(TargetState.Enabled, "a device set down refuses frames itself (DeviceDown); only a lost carrier deactivates");
    }

    /// <summary>A manager of its own with another carrier timeout.</summary>
    private sealed class PatientManager : IDisposable
    {
        public PatientManager(TimeSpan carrierTimeout) =>
            Manager = new TargetManager(new TargetManagerOptions
            {
                Watcher = Watcher,
                TransportFactory = new FakeTransportFactory(),
                RouteLookup = _ => null,
                NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, ""),
                CarrierTimeout = carrierTimeout,
            });

        public Netconsole.Devices.ManualDeviceWatcher Watcher { get; } = new();

        public TargetManager Manager { get; }

        public void Dispose() => Manager.Dispose();
    }
}
