using System.Net;
using System.Net.NetworkInformation;

namespace Netconsole.Devices;

/// <summary>A network device as seen at one moment: index, name, MAC, state and addresses.</summary>
public sealed partial class NetworkDevice
{
    /// <summary>Creates a device description.</summary>
    /// <param name="index">The interface index.</param>
    /// <param name="name">The interface name.</param>
    /// <param name="mac">The MAC address (empty for devices without one).</param>
    /// <param name="isUp">Administratively up.</param>
    /// <param name="isRunning">Operationally up (carrier).</param>
    /// <param name="addresses">The IP addresses, in the order the system lists them.</param>
    public NetworkDevice(int index, string name, PhysicalAddress mac, bool isUp, bool isRunning, IReadOnlyList<IPAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(mac);
        ArgumentNullException.ThrowIfNull(addresses);
        Index = index;
        Name = name;
        Mac = mac;
        IsUp = isUp;
        IsRunning = isRunning;
        Addresses = addresses;
    }

    /// <summary>The interface index.</summary>
    public int Index { get; }

    /// <summary>The interface name.</summary>
    public string Name { get; }

    /// <summary>The MAC address (empty for devices without one, such as some tunnels).</summary>
    public PhysicalAddress Mac { get; }

    /// <summary>Administratively up.</summary>
    public bool IsUp { get; }

    /// <summary>Operationally up (has carrier).</summary>
    public bool IsRunning { get; }

    /// <summary>The IP addresses, in the order the system lists them.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>
    /// The name libpcap lists the device under when it is not <see cref="Name"/>, else null: on
    /// Windows, where <see cref="Name"/> is the connection name (<c>Ethernet 2</c>), the Npcap
    /// name <c>\Device\NPF_{GUID}</c>. Target options may name the device either way.
    /// </summary>
    internal string? PcapName { get; init; }

    /// <summary>The prefix of an Npcap device name; the rest is the adapter's GUID, which Windows gives as <see cref="NetworkInterface.Id"/>.</summary>
    internal const string NpcapNamePrefix = @"\Device\NPF_";

    /// <summary>
    /// Whether <paramref name="name"/> names this device: its <see cref="Name"/> (exactly), or its
    /// <see cref="PcapName"/> (in any case: the GUID in it is a number, written in either case).
    /// </summary>
    internal bool IsNamed(string name) =>
        string.Equals(Name, name, StringComparison.Ordinal)
        || (PcapName is not null && string.Equals(PcapName, name, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (#{Index}, {Mac}, {(IsUp ? "up" : "down")}{(IsRunning ? ", running" : "")})";
}
