using System.Diagnostics;
using System.Runtime.InteropServices;
using Netconsole.Devices;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Netconsole.Transport;

/// <summary>
/// The frames arriving on a device, through a libpcap handle of their own: what
/// <see cref="InjectingTransport.OpenCapture"/> gives next-hop resolution. The transports'
/// sending handles capture nothing, so they are no use here.
/// </summary>
/// <remarks>
/// The handle is opened in capture mode (not promiscuous, immediate mode, short read timeout)
/// with the filter <see cref="Filter"/> set before <see cref="Open"/> returns, so no reply to a
/// request sent afterwards can be missed, and the kernel queues nothing else for it.
/// </remarks>
internal sealed class SharpPcapFrameCapture : IFrameCapture
{
    /// <summary>The capture filter: ARP and ICMPv6 (replies and advertisements), nothing of the traffic around them.</summary>
    internal const string Filter = "arp or icmp6";

    private const int SnapshotLength = 256;
    private const int ReadTimeoutMilliseconds = 10;
    private const int KernelBufferBytes = 256 * 1024;

    private readonly LibPcapLiveDevice _device;
    private readonly string _deviceName;
    private readonly byte[] _frame = new byte[SnapshotLength];

    private SharpPcapFrameCapture(LibPcapLiveDevice device, string deviceName)
    {
        _device = device;
        _deviceName = deviceName;
    }

    /// <summary>
    /// Opens a capture on the device a transport was opened on: on Linux the device that has
    /// <paramref name="deviceIndex"/> now, whatever its name (it follows a rename, as the
    /// transport's own handle does); elsewhere the device named <paramref name="deviceName"/>.
    /// </summary>
    /// <exception cref="FrameTransportException">
    /// The device is gone (<see cref="FrameTransportError.DeviceGone"/>), or could not be opened
    /// (the errors and messages of <see cref="SharpPcapTransportFactory.Open"/>).
    /// </exception>
    public static SharpPcapFrameCapture Open(string deviceName, int? deviceIndex)
    {
        string name = CurrentName(deviceName, deviceIndex);
        var configuration = new DeviceConfiguration
        {
            Mode = DeviceModes.None,
            Snaplen = SnapshotLength,
            ReadTimeout = ReadTimeoutMilliseconds,
            BufferSize = KernelBufferBytes,
            Immediate = true,
        };
        (LibPcapLiveDevice device, _, int? index) = SharpPcapTransportFactory.OpenEthernet(name, configuration, Filter);
        try
        {
            if (deviceIndex is not null && index != deviceIndex)
            {
                // Renamed again, and another device took the name meanwhile: never capture on it.
                throw Gone(deviceName);
            }

            device.NonBlockingMode = true; // read by NextFrame, which sleeps 1 ms when nothing is waiting
            return new SharpPcapFrameCapture(device, name);
        }
        catch (Exception e)
        {
            device.Dispose();
            throw PcapErrors.Translate(e, name, PcapOperation.Open);
        }
    }

    /// <inheritdoc/>
    public int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            int length = NextFrame();
            if (length > 0)
            {
                length = Math.Min(length, buffer.Length);
                _frame.AsSpan(0, length).CopyTo(buffer);
                return length;
            }

            if (Stopwatch.GetElapsedTime(start) >= timeout)
            {
                return 0;
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Closes the libpcap handle.</summary>
    public void Dispose() => _device.Dispose();

    private static string CurrentName(string deviceName, int? deviceIndex)
    {
        if (deviceIndex is not { } index)
        {
            return deviceName;
        }

        foreach (NetworkDevice device in NetworkDevice.GetAll())
        {
            if (device.Index == index)
            {
                return device.Name;
            }
        }

        throw Gone(deviceName);
    }

    private static FrameTransportException Gone(string deviceName) =>
        PcapErrors.Create(FrameTransportError.DeviceGone, deviceName, PcapOperation.Open, "no device has its interface index any more");

    // The next captured frame copied into _frame, or 0 when none is waiting. The handle is
    // non-blocking and read with pcap_next_ex directly: SharpPcap's GetNextPacket polls the
    // descriptor for up to ~0.5 s first, whatever the read timeout, which made each 300 ms
    // attempt last 0.6 s (measured).
    private int NextFrame()
    {
        IntPtr header = IntPtr.Zero;
        IntPtr data = IntPtr.Zero;
        int result = _device.GetNextPacketPointers(ref header, ref data);
        if (result == 1)
        {
            // struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }: on Linux a timeval is two longs.
            int captured = Marshal.ReadInt32(header, 2 * IntPtr.Size);
            int length = Math.Clamp(captured, 0, _frame.Length);
            Marshal.Copy(data, _frame, 0, length);
            return length;
        }

        if (result == 0)
        {
            return 0;
        }

        throw PcapErrors.Create(FrameTransportError.Other, _deviceName, PcapOperation.Send, $"capturing the reply failed: {_device.LastError}");
    }
}
