using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Integration;

/// <summary>
/// What the lab tests of targets share: one lab per test, created on first use (root, libpcap and
/// a private network namespace required), and the device watchers the test made, disposed with it
/// (a watcher given to a manager stays the caller's: the manager never disposes it).
/// </summary>
[SupportedOSPlatform("linux")] // the lab, rtnetlink
public abstract class LabFixture : IDisposable
{
    private readonly List<IDisposable> _watchers = [];
    private NetworkLab? _lab;

    /// <summary>The test's lab.</summary>
    protected NetworkLab Lab()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        return _lab ??= NetworkLab.Create();
    }

    /// <summary>A new watcher of <paramref name="kind"/>: "netlink" (rtnetlink) or "polling" (every 100 ms); the caller disposes it.</summary>
    internal static IDeviceWatcher CreateWatcher(string kind) => kind switch
    {
        "netlink" => new RtnetlinkDeviceWatcher(),
        "polling" => new PollingDeviceWatcher(TimeSpan.FromMilliseconds(100)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>A new watcher of <paramref name="kind"/> (see <see cref="CreateWatcher"/>), disposed with the test.</summary>
    protected IDeviceWatcher Watcher(string kind)
    {
        IDeviceWatcher watcher = CreateWatcher(kind);
        _watchers.Add(watcher);
        return watcher;
    }

    /// <summary>A receiver on the peer's IPv4 address, port 6666, room for 100,000 unread records.</summary>
    protected static NetconsoleReceiver IPv4Receiver(NetworkLab lab) =>
        new(lab.OpenPeerUdpSocket(AddressFamily.InterNetwork, 6666), new NetconsoleReceiverOptions { Capacity = 100_000 });

    public void Dispose()
    {
        _watchers.ForEach(w => w.Dispose());
        _lab?.Dispose();
        GC.SuppressFinalize(this);
    }
}
