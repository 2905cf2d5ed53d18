using Netconsole.Devices;
using Netconsole.Resolution;
using Netconsole.Transport;

namespace Netconsole.Targets;

/// <summary>How a <see cref="TargetManager"/> learns about devices and opens them. Read once, by the manager's constructor.</summary>
public sealed class TargetManagerOptions
{
    private TimeProvider _timeProvider = TimeProvider.System;
    private TimeSpan _nextHopRecheckInterval = DefaultNextHopRecheckInterval;
    private TimeSpan _carrierTimeout = DefaultCarrierTimeout;
    private TimeSpan _disposeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The default of <see cref="CarrierTimeout"/>: 4 seconds, the Linux kernel's netpoll carrier timeout.</summary>
    public static readonly TimeSpan DefaultCarrierTimeout = TimeSpan.FromSeconds(4);

    /// <summary>The default of <see cref="NextHopRecheckInterval"/>: 60 seconds.</summary>
    public static readonly TimeSpan DefaultNextHopRecheckInterval = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The device watcher that tells the manager when devices come and go. The default is
    /// <see langword="null"/>: the manager creates the platform's default watcher and disposes it
    /// with itself. A watcher given here is started by the manager but stays the caller's: the
    /// manager never disposes it.
    /// </summary>
    public IDeviceWatcher? Watcher { get; set; }

    /// <summary>
    /// Opens the transports targets send through. The default is <see langword="null"/>: on Linux
    /// the manager injects frames through packet sockets of its own (AF_PACKET; a batch in one
    /// sendmmsg(2) call), or through libpcap (SharpPcap) when the environment variable
    /// <c>NETCONSOLE_TRANSPORT</c> is <c>libpcap</c> or a packet socket cannot be opened for a
    /// reason of its own; off Linux through libpcap. Either way the replies of next-hop resolution
    /// (ARP / NDP) are captured through libpcap. Set it to send frames some other way (see
    /// <see cref="IFrameTransport"/> for what a transport tells target setup).
    /// </summary>
    public IFrameTransportFactory? TransportFactory { get; set; }

    /// <summary>The clock of <see cref="TargetStatistics.LastStateChange"/>, next-hop re-checks and pacing. The default is <see cref="TimeProvider.System"/>.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set => _timeProvider = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// How long a resolved next-hop MAC is trusted. A target that gives no remote MAC sends to the
    /// MAC resolved when it was enabled or resumed; the first record sent after this long (so also
    /// the first one after a longer silence) makes the manager's worker re-check it in the background
    /// (a confirmed neighbour-table entry, else ARP / neighbour solicitation), and when the MAC
    /// changed, the frame template is swapped between two records. That record itself still goes
    /// to the MAC known when it was sent. Transmit errors (at most one re-check a second) and the
    /// device coming up again also cause a re-check. The default is
    /// <see cref="DefaultNextHopRecheckInterval"/> (60 s); <see cref="Timeout.InfiniteTimeSpan"/>
    /// re-checks only after transmit errors and link changes. A MAC given in the target is never re-checked.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive (nor infinite).</exception>
    public TimeSpan NextHopRecheckInterval
    {
        get => _nextHopRecheckInterval;
        set => _nextHopRecheckInterval = value > TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The next-hop re-check interval is positive, or Timeout.InfiniteTimeSpan for none.");
    }

    /// <summary>
    /// How long setting a target up (<see cref="TargetManager.Enable"/>, and resuming) waits for
    /// its device's carrier when the device is up without one (a link still negotiating, a cable
    /// pulled, a switch port or a veth peer down), as the kernel's netpoll setup waits. Past it the
    /// target is <see cref="TargetState.Deactivated"/> with <see cref="TargetStateCause.NoCarrier"/>
    /// and resumes by itself when the carrier comes. The wait holds the manager's configuration lock
    /// (so <see cref="TargetManager.Enable"/> returns after it) and ends early when the carrier comes,
    /// the device goes down or away, or the manager is disposed. The default is
    /// <see cref="DefaultCarrierTimeout"/> (4 s); <see cref="TimeSpan.Zero"/> does not wait.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan CarrierTimeout
    {
        get => _carrierTimeout;
        set => _carrierTimeout = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The carrier timeout is zero (no wait) or more.");
    }

    /// <summary>
    /// The longest <see cref="TargetManager.Dispose()"/> waits for what it stops and closes: the resume
    /// worker, a target setup in progress (a transport open and a next-hop resolution run under the
    /// manager's configuration lock, and a libpcap open can block for seconds), the transports and
    /// the watcher. Past it Dispose returns, and what it has not closed is closed as soon as the
    /// call holding it up returns: a transport opened after disposal began is closed at once by the
    /// thread that opened it, and no record goes through a target of a disposed manager meanwhile.
    /// The default is 2 seconds (more than a next-hop resolution takes); <see cref="TimeSpan.Zero"/>
    /// does not wait; <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes. The logging
    /// provider disposes its manager within what is left of its own <c>DisposeTimeout</c>, and at
    /// most this long.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative (other than <see cref="Timeout.InfiniteTimeSpan"/>).</exception>
    public TimeSpan DisposeTimeout
    {
        get => _disposeTimeout;
        set => _disposeTimeout = value >= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The dispose timeout is zero (no wait) or more, or Timeout.InfiniteTimeSpan for no limit.");
    }

    /// <summary>Replaces a paced sender's wait (tests: advance a manual clock by the wait asked for); null: a real wait, which a target's state change ends early.</summary>
    internal Action<TimeSpan>? PacingWait { get; set; }

    /// <summary>Resolves next-hop MACs (tests replace it; null: the default, on every transport that is not loopback).</summary>
    internal NextHopResolver? NextHopResolver { get; set; }

    /// <summary>
    /// Finds the route to a remote for targets that name no device (tests replace it). The
    /// default asks rtnetlink on Linux; elsewhere it is <see langword="null"/>: the system has no
    /// route lookup, and a target without a device cannot be set up there.
    /// </summary>
    internal Func<System.Net.IPAddress, RouteInfo?>? RouteLookup { get; set; } = HostPlatform.IsLinux ? LookUpRoute : null;

    private static RouteInfo? LookUpRoute(System.Net.IPAddress remote) => OperatingSystem.IsLinux() ? RouteTable.Lookup(remote) : null;
}
