using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Dispose closes everything, once; the watcher is disposed only when the manager created it.</summary>
public sealed class ManagerDisposalTests : ManagerTestBase
{
    [Fact]
    public void Dispose_closes_every_transport_and_disables_every_target_without_events()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        int events = EventsSoFar().Length;

        Manager.Dispose();

        Factory.Last.IsDisposed.Should().BeTrue();
        target.State.Should().Be(TargetState.Disabled);
        target.StateReason.Should().Be("the manager was disposed");
        EventsSoFar().Should().HaveCount(events);
        Manager.Targets.Should().BeEmpty();
    }

    [Fact]
    public async Task Dispose_and_DisposeAsync_may_be_called_again()
    {
        Manager.Dispose();
        Manager.Dispose();
        await Manager.DisposeAsync();

        Manager.WorkerThread.IsAlive.Should().BeFalse();
    }

    [Fact]
    public void After_dispose_send_does_nothing_and_configuration_throws()
    {
        Manager.Dispose();

        Manager.Send(NetconsoleRecord.FromString(6, "late"));
        FluentActions.Invoking(() => Manager.Add(ByName("veth0"))).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => Manager.Enable("t")).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Device_events_after_dispose_are_ignored()
    {
        Manager.Add(ByName("veth0"));
        Manager.Enable("t");
        Manager.Dispose();

        FluentActions.Invoking(() => Register("veth0")).Should().NotThrow();
        Factory.Opens.Should().Be(0);
    }

    [Fact]
    public void A_watcher_given_by_the_caller_is_started_and_not_disposed()
    {
        var watcher = new CountingWatcher();
        var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher, TransportFactory = Factory });

        manager.Dispose();

        watcher.Starts.Should().Be(1);
        watcher.Disposals.Should().Be(0);
        watcher.HasSubscribers.Should().BeFalse();
    }

    [Fact]
    public void Without_a_watcher_the_manager_creates_the_default_one_and_disposes_it()
    {
        var watcher = new CountingWatcher();
        Func<IDeviceWatcher>? saved = TargetManager.DefaultWatcherFactory;
        try
        {
            TargetManager.DefaultWatcherFactory = () => watcher;
            new TargetManager(new TargetManagerOptions { TransportFactory = Factory }).Dispose();
        }
        finally
        {
            TargetManager.DefaultWatcherFactory = saved;
        }

        watcher.Starts.Should().Be(1);
        watcher.Disposals.Should().Be(1);
    }

    private sealed class CountingWatcher : IDeviceWatcher
    {
        private EventHandler<DeviceChangedEventArgs>? _handlers;

        public event EventHandler<DeviceChangedEventArgs>? DeviceChanged
        {
            add => _handlers += value;
            remove => _handlers -= value;
        }

        public int Starts { get; private set; }

        public int Disposals { get; private set; }

        public bool HasSubscribers => _handlers is not null;

        public void Start() => Starts++;

        public IReadOnlyList<NetworkDevice> GetDevices() => [new NetworkDevice(1, "veth0", PhysicalAddress.None, true, true, [])];

        public void Dispose() => Disposals++;
    }
}
