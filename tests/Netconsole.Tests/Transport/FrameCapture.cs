using System.Diagnostics;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Netconsole.Tests.Transport;

/// <summary>
/// Captures the frames arriving on a device the test created (or lo), through a second,
/// independent libpcap handle in capture mode.
/// </summary>
internal sealed class FrameCapture : IDisposable
{
    private readonly LibPcapLiveDevice _device;

    /// <param name="deviceName">The device.</param>
    /// <param name="filter">The capture filter.</param>
    /// <param name="snapshotLength">
    /// The most bytes kept of a frame, 0 for libpcap's default. On a device with offloads (a veth)
    /// libpcap then gives every frame a 256 KiB slot of its 2 MiB ring: about 30 frames sent at
    /// once fill it, and the rest are lost. A test that sends more at once gives the longest
    /// frame it sends.
    /// </param>
    public FrameCapture(string deviceName, string filter, int snapshotLength = 0)
    {
        PcapInterface pcapInterface = PcapInterface.GetAllPcapInterfaces().Single(i => i.Name == deviceName);
        _device = new LibPcapLiveDevice(pcapInterface);
        try
        {
            var configuration = new DeviceConfiguration { Mode = DeviceModes.None, ReadTimeout = 20, Immediate = true };
            if (snapshotLength > 0)
            {
                configuration.Snaplen = snapshotLength;
            }

            _device.Open(configuration);
            _device.Filter = filter;
        }
        catch
        {
            _device.Dispose();
            throw;
        }
    }

    /// <summary>The next frame that passes the filter, or null when none comes within the timeout.</summary>
    public byte[]? Next(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_device.GetNextPacket(out PacketCapture capture) == GetPacketStatus.PacketRead)
            {
                return capture.Data.ToArray();
            }
        }

        return null;
    }

    /// <summary>The next frame whose bytes equal <paramref name="expected"/>, skipping others; null when none comes.</summary>
    public byte[]? NextEqualTo(ReadOnlySpan<byte> expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            byte[]? frame = Next(timeout - clock.Elapsed);
            if (frame is not null && frame.AsSpan().SequenceEqual(expected))
            {
                return frame;
            }
        }

        return null;
    }

    public void Dispose() => _device.Dispose();
}
