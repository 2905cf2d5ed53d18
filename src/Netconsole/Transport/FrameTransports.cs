namespace Netconsole.Transport;

/// <summary>
/// Which transport a manager opens when its options give no factory: libpcap (SharpPcap), or
/// on Linux the packet-socket transport when the environment asks for it (issue 19: an opt-in
/// until it is measured to be the better default).
/// </summary>
internal static class FrameTransports
{
    /// <summary>The environment variable that chooses the transport: <c>packet-socket</c> (Linux) or <c>libpcap</c>.</summary>
    public const string EnvironmentVariable = "NETCONSOLE_TRANSPORT";

    /// <summary>The value of <see cref="EnvironmentVariable"/> that chooses the packet-socket transport.</summary>
    public const string PacketSocketName = "packet-socket";

    /// <summary>The value of <see cref="EnvironmentVariable"/> that chooses libpcap (also what any other value, or none, does).</summary>
    public const string LibpcapName = "libpcap";

    /// <summary>The factory <paramref name="name"/> chooses: packet sockets for <see cref="PacketSocketName"/> on Linux, libpcap otherwise.</summary>
    public static IFrameTransportFactory Choose(string? name) =>
        OperatingSystem.IsLinux() && string.Equals(name?.Trim(), PacketSocketName, StringComparison.OrdinalIgnoreCase)
            ? new PacketSocketTransportFactory()
            : new SharpPcapTransportFactory();

    /// <summary>The factory <see cref="EnvironmentVariable"/> chooses.</summary>
    public static IFrameTransportFactory FromEnvironment() => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable));
}
