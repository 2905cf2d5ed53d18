using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>A manager on a <see cref="ManualDeviceWatcher"/> and a <see cref="FakeTransportFactory"/>.</summary>
public abstract class ManagerTestBase : IDisposable
{
    internal static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-00-00-00-00-0A");
    internal static readonly PhysicalAddress MacB = PhysicalAddress.Parse("02-00-00-00-00-0B");
    internal static readonly IPAddress Local = IPAddress.Parse("192.0.2.1");
    internal static readonly IPAddress Remote = IPAddress.Parse("192.0.2.2");
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Ethernet, IPv4 and UDP headers in front of a payload.</summary>
    internal const int Ipv4Headers = 14 + 20 + 8;

    /// <param name="hasRouteLookup">False: the manager runs as on a system without route lookup (Windows, macOS).</param>
    /// <param name="pretend">
    /// The system whose rules the manager's worker applies (it keeps those of the flow it was
    /// started in); null for this one. The test's own calls pretend in their own scope.
    /// </param>
    /// <param name="carrierTimeout">The manager's <see cref="TargetManagerOptions.CarrierTimeout"/>; null for its default.</param>
    private protected ManagerTestBase(bool hasRouteLookup = true, HostKind? pretend = null, TimeSpan? carrierTimeout = null)
    {
        using IDisposable? scope = pretend is { } kind ? HostPlatform.Pretend(kind) : null;
        Watcher = new ManualDeviceWatcher();
        Factory = new FakeTransportFactory();
        // Routes come from Routes, never from the machine running the tests; next hops are not
        // resolved (nor is the machine's neighbour table read): frames go to broadcast, silently.
        Manager = new TargetManager(new TargetManagerOptions
        {
            Watcher = Watcher,
            TransportFactory = Factory,
            RouteLookup = hasRouteLookup ? remote => Routes(remote) : null,
            NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, ""),
            CarrierTimeout = carrierTimeout ?? TargetManagerOptions.DefaultCarrierTimeout,
        });
        Manager.StateChanged += (_, e) => { lock (Events) { Events.Add(e); } };
    }

    internal ManualDeviceWatcher Watcher { get; }

    internal FakeTransportFactory Factory { get; }

    internal TargetManager Manager { get; }

    /// <summary>The route table the manager sees: none by default.</summary>
    internal Func<System.Net.IPAddress, Netconsole.Resolution.RouteInfo?> Routes { get; set; } = _ => null;

    internal List<TargetStateChangedEventArgs> Events { get; } = [];

    public void Dispose()
    {
        Factory.OpenGate?.Set();
        Manager.Dispose();
        GC.SuppressFinalize(this);
    }

    internal static NetconsoleTargetOptions ByName(string device, string? name = "t") =>
        new() { Name = name, DeviceName = device, RemoteAddress = Remote };

    internal static NetconsoleTargetOptions ByMac(PhysicalAddress mac, string? name = "t") =>
        new() { Name = name, DeviceMac = mac, RemoteAddress = Remote };

    /// <summary>A target named "t" on veth0 (registered, up), configured by <paramref name="configure"/>, enabled.</summary>
    internal NetconsoleTarget EnabledOnVeth0(Action<NetconsoleTargetOptions>? configure = null)
    {
        Register("veth0");
        NetconsoleTargetOptions options = ByName("veth0");
        configure?.Invoke(options);
        NetconsoleTarget target = Manager.Add(options);
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        return target;
    }

    /// <summary>The text of each IPv4 frame's payload, its newline cut.</summary>
    internal static string[] Payloads(FakeTransport transport) =>
        [.. transport.Frames.Select(f => System.Text.Encoding.UTF8.GetString(f, Ipv4Headers, f.Length - Ipv4Headers).TrimEnd('\n'))];

    /// <summary>Every record offered is counted once: sent, replayed, dropped or still buffered.</summary>
    internal static void AddsUp(TargetStatistics s, long offered) =>
        (s.RecordsSent + s.RecordsReplayed + s.RecordsDropped + s.RecordsBuffered).Should().Be(offered, $"offered = sent + replayed + dropped + buffered ({s})");

    internal NetworkDevice Register(string name, PhysicalAddress? mac = null, bool up = true) =>
        Watcher.Register(name, mac ?? MacA, [Local], up);

    /// <summary>Waits until the resume worker has applied every queued event.</summary>
    internal void Settle() => Manager.WaitForWorkerIdle(Timeout).Should().BeTrue("the resume worker finishes its queue");

    internal void SendRecords(int count, ulong firstSequence = 1)
    {
        for (int i = 0; i < count; i++)
        {
            Manager.Send(NetconsoleRecord.FromString(6, "hello") with { Sequence = firstSequence + (ulong)i });
        }
    }

    internal TargetStateChangedEventArgs[] EventsSoFar()
    {
        lock (Events)
        {
            return [.. Events];
        }
    }
}
