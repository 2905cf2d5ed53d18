using Netconsole.Devices;
using Netconsole.Transport;

namespace Netconsole.Targets;

/// <summary>How a <see cref="TargetManager"/> learns about devices and opens them. Read once, by the manager's constructor.</summary>
public sealed class TargetManagerOptions
{
    private IFrameTransportFactory _transportFactory = new SharpPcapTransportFactory();
    private TimeProvider _timeProvider = TimeProvider.System;

    /// <summary>
    /// The device watcher that tells the manager when devices come and go. The default is
    /// <see langword="null"/>: the manager creates the platform's default watcher and disposes it
    /// with itself. A watcher given here is started by the manager but stays the caller's: the
    /// manager never disposes it.
    /// </summary>
    public IDeviceWatcher? Watcher { get; set; }

    /// <summary>Opens the transports targets send through. The default is a <see cref="SharpPcapTransportFactory"/> (libpcap).</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public IFrameTransportFactory TransportFactory
    {
        get => _transportFactory;
        set => _transportFactory = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The clock of <see cref="TargetStatistics.LastStateChange"/>. The default is <see cref="TimeProvider.System"/>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set => _timeProvider = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Finds the route to a remote for targets that name no device (tests replace it; the default asks rtnetlink).</summary>
    internal Func<System.Net.IPAddress, Netconsole.Resolution.RouteInfo?> RouteLookup { get; set; } = remote => Netconsole.Resolution.RouteTable.Lookup(remote);
}
