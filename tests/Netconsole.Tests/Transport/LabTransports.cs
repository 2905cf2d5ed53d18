using System.Runtime.Versioning;
using Netconsole.Transport;

namespace Netconsole.Tests.Transport;

/// <summary>The two real transports the lab tests run against, by name: each behaviour is proven for both.</summary>
[SupportedOSPlatform("linux")] // the lab
internal static class LabTransports
{
    public const string Libpcap = "libpcap";
    public const string PacketSocket = "packet-socket";

    public static readonly string[] Kinds = [Libpcap, PacketSocket];

    /// <summary>Opens <paramref name="deviceName"/> through the transport named <paramref name="kind"/>.</summary>
    public static IFrameTransport Open(string kind, string deviceName) => kind switch
    {
        Libpcap => SharpPcapTransportFactory.Open(deviceName),
        PacketSocket => PacketSocketTransportFactory.Open(deviceName),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The factory of the transport named <paramref name="kind"/>.</summary>
    public static IFrameTransportFactory Factory(string kind) => kind switch
    {
        Libpcap => new SharpPcapTransportFactory(),
        PacketSocket => new PacketSocketTransportFactory(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The longest frame the transport's device takes, as the transport knows it now.</summary>
    public static int MaxFrameLength(IFrameTransport transport) => transport switch
    {
        SharpPcapTransport libpcap => libpcap.MaxFrameLength,
        PacketSocketTransport packetSocket => packetSocket.MaxFrameLength,
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, null),
    };
}
