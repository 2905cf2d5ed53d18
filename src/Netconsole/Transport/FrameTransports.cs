namespace Netconsole.Transport;

/// <summary>
/// Which transport a manager opens when its options give no factory: on Linux a packet socket
/// (sendmmsg(2) batches; libpcap when the packet socket cannot be opened for a reason libpcap
/// may not share, or when the environment asks for it); libpcap (SharpPcap) elsewhere.
/// </summary>
/// <remarks>
/// Measured in one run of the end-to-end harness (bench/RESULTS.md, issue 19): the packet socket's
/// single sends run at the raw send(2) loop's rate, libpcap's at about 0.8 of it, and only the
/// packet socket hands a run of frames to the kernel in one system call.
/// </remarks>
internal static class FrameTransports
{
    /// <summary>The environment variable that chooses the transport: <c>libpcap</c>, or <c>packet-socket</c> (the Linux default).</summary>
    public const string EnvironmentVariable = "NETCONSOLE_TRANSPORT";

    /// <summary>The value of <see cref="EnvironmentVariable"/> that chooses the packet-socket transport (the default on Linux).</summary>
    public const string PacketSocketName = "packet-socket";

    /// <summary>The value of <see cref="EnvironmentVariable"/> that chooses libpcap (the only transport off Linux).</summary>
    public const string LibpcapName = "libpcap";

    /// <summary>The factory <paramref name="name"/> chooses: libpcap for <see cref="LibpcapName"/> or off Linux, packet sockets (falling back to libpcap) otherwise.</summary>
    public static IFrameTransportFactory Choose(string? name) =>
        OperatingSystem.IsLinux() && !string.Equals(name?.Trim(), LibpcapName, StringComparison.OrdinalIgnoreCase)
            ? new PacketSocketFirst()
            : new SharpPcapTransportFactory();

    /// <summary>The factory <see cref="EnvironmentVariable"/> chooses.</summary>
    public static IFrameTransportFactory FromEnvironment() => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// Opens a packet-socket transport; when that fails for a reason of its own
    /// (<see cref="FrameTransportError.Other"/>: a packet socket refused by a sandbox, an unexpected
    /// errno), opens the device through libpcap instead (when that fails too, the error says both).
    /// A device that does not exist, is down or
    /// is not Ethernet, or a missing permission, fails both alike: that error is thrown as it is.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    internal sealed class PacketSocketFirst : IFrameTransportFactory
    {
        /// <inheritdoc/>
        public IFrameTransport Open(string deviceName)
        {
            try
            {
                return PacketSocketTransportFactory.Open(deviceName);
            }
            catch (FrameTransportException e) when (e.Error == FrameTransportError.Other)
            {
                try
                {
                    return SharpPcapTransportFactory.Open(deviceName);
                }
                catch (FrameTransportException libpcap)
                {
                    throw new FrameTransportException(e.Error, deviceName, $"{e.Message} libpcap, tried instead, failed too: {libpcap.Message}", e);
                }
            }
        }
    }
}
