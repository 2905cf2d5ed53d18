using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;

namespace Netconsole.Resolution;

/// <summary>
/// The MAC a target's frames go to when the target gives none: the next hop (the remote itself
/// when on-link, else the route's gateway), looked up in the OS neighbour table first, then
/// asked with ARP (IPv4) or a Neighbor Solicitation (IPv6) on the target's device; broadcast only
/// as the last resort, with a warning. Runs when a target is enabled or resumed, never on the send path.
/// </summary>
internal static class NextHop
{
    /// <summary>How long each active request waits for its answer.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>How many active requests are sent before giving up (so at most ~0.9 s).</summary>
    internal const int Attempts = 3;

    /// <summary>ff:ff:ff:ff:ff:ff: the kernel's destination when no remote MAC is given, and the last resort here.</summary>
    internal static readonly PhysicalAddress Broadcast = new([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

    /// <summary>Resolves the destination MAC for frames from <paramref name="local"/> on <paramref name="device"/> to <paramref name="remote"/>.</summary>
    /// <returns>The MAC and a note for the target's state reason.</returns>
    public static (PhysicalAddress Mac, string Note) Resolve(NetworkDevice device, PhysicalAddress sourceMac, IPAddress local, IPAddress remote)
    {
        IPAddress hop = remote;
        try
        {
            if (RouteTable.Lookup(remote, device.Index)?.Gateway is { } gateway)
            {
                hop = gateway;
            }
        }
        catch (IOException)
        {
            // No route information: treat the remote as on-link, as the kernel's netconsole would send to it.
        }

        try
        {
            if (NeighbourTable.Lookup(device.Index, hop) is { } known)
            {
                return (known, $"next hop {hop} is {NetconsoleTargetOptions.FormatMac(known)} (neighbour table)");
            }
        }
        catch (IOException)
        {
            // Fall through to asking the next hop itself.
        }

        string protocol = hop.AddressFamily == AddressFamily.InterNetwork ? "ARP" : "neighbour solicitation";
        try
        {
            if (ActiveResolver.Resolve(device.Name, sourceMac, local, hop, RequestTimeout, Attempts) is { } answered)
            {
                return (answered, $"next hop {hop} is {NetconsoleTargetOptions.FormatMac(answered)} ({protocol})");
            }
        }
        catch (FrameTransportException)
        {
            // The device could not be asked; broadcast below says so.
        }

        return (Broadcast, $"warning: next hop {hop} did not answer {protocol} ({Attempts} x {RequestTimeout.TotalMilliseconds:0} ms): "
            + "sending to broadcast, which switches may drop; give the remote MAC in the target");
    }
}
