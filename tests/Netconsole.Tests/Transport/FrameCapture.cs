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

    public FrameCapture(string deviceName, string filter)
    {
        PcapInterface pcapInterface = PcapInterface.GetAllPcapInterfaces().Single(i => i.Name == deviceName);
        _device = new LibPcapLiveDevice(pcapInterface);
        try
        {
            _device.Open(new DeviceConfiguration { Mode = DeviceModes.None, ReadTimeout = 20, Immediate = true });
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
