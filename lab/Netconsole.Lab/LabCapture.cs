using Netconsole.Wire;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Netconsole.Lab;

/// <summary>One captured Ethernet frame.</summary>
/// <param name="Timestamp">When libpcap saw it (microsecond resolution, UTC).</param>
/// <param name="Data">The whole frame, from the destination MAC on.</param>
public sealed record CapturedFrame(DateTimeOffset Timestamp, byte[] Data);

/// <summary>
/// A running SharpPcap capture on one of the lab's interfaces (see
/// <see cref="NetworkLab.StartCapture"/>): a dedicated thread reads frames into a
/// thread-safe list until the capture is disposed.
/// </summary>
public sealed class LabCapture : IDisposable
{
    // libpcap's read timeout: how long a read waits before the loop checks for Dispose.
    private const int ReadTimeoutMilliseconds = 100;

    private readonly LibPcapLiveDevice _device;
    private readonly List<CapturedFrame> _frames = [];
    private readonly object _gate = new();
    private Thread? _thread;
    private volatile bool _stopping;
    private string? _error;
    private int _disposed;

    private LabCapture(LibPcapLiveDevice device, string interfaceName, string? filter)
    {
        _device = device;
        InterfaceName = interfaceName;
        Filter = filter;
    }

    /// <summary>The interface being captured.</summary>
    public string InterfaceName { get; }

    /// <summary>The BPF filter, or null when every frame is captured.</summary>
    public string? Filter { get; }

    /// <summary>How many frames were captured so far.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _frames.Count;
            }
        }
    }

    /// <summary>A snapshot of the frames captured so far, in capture order.</summary>
    public IReadOnlyList<CapturedFrame> Frames
    {
        get
        {
            lock (_gate)
            {
                return _frames.ToArray();
            }
        }
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> frames were captured and returns the
    /// frames captured so far.
    /// </summary>
    /// <param name="count">How many frames to wait for.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <returns>A snapshot of every frame captured so far (at least <paramref name="count"/>).</returns>
    /// <exception cref="TimeoutException">Fewer frames arrived in time; the message says how many.</exception>
    /// <exception cref="NetworkLabException">The capture failed (for example, its interface was deleted).</exception>
    public IReadOnlyList<CapturedFrame> WaitForFrames(int count, TimeSpan timeout) => WaitForFrames(_ => true, count, timeout);

    /// <summary>
    /// Waits until at least <paramref name="count"/> captured frames satisfy
    /// <paramref name="match"/> and returns those frames.
    /// </summary>
    /// <param name="match">Which frames count.</param>
    /// <param name="count">How many matching frames to wait for.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <returns>Every matching frame captured so far (at least <paramref name="count"/>), in capture order.</returns>
    /// <exception cref="TimeoutException">Fewer matching frames arrived in time; the message says how many.</exception>
    /// <exception cref="NetworkLabException">The capture failed (for example, its interface was deleted).</exception>
    public IReadOnlyList<CapturedFrame> WaitForFrames(Func<CapturedFrame, bool> match, int count, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (true)
            {
                List<CapturedFrame> matching = _frames.Where(match).ToList();
                if (matching.Count >= count)
                {
                    return matching;
                }

                if (_error is not null)
                {
                    throw new NetworkLabException(
                        $"The capture on {InterfaceName} stopped ({_error}) with {matching.Count} of {count} frames.");
                }

                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException(
                        $"The capture on {InterfaceName}{(Filter is null ? "" : $" (filter '{Filter}')")} got {matching.Count} "
                        + $"of {count} matching frames ({_frames.Count} in all) within {timeout.TotalMilliseconds} ms.");
                }

                Monitor.Wait(_gate, left);
            }
        }
    }

    /// <summary>Forgets the frames captured so far.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _frames.Clear();
        }
    }

    /// <summary>Writes the frames captured so far to a classic pcap file (for tcpdump or Wireshark).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    public void WritePcap(string path)
    {
        using var writer = new PcapFileWriter(path);
        foreach (CapturedFrame frame in Frames)
        {
            writer.Write(frame.Data, frame.Timestamp);
        }
    }

    /// <summary>Stops the capture (within about 100 ms) and closes the libpcap handle. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping = true;
        if (_thread is not null && !_thread.Join(TimeSpan.FromSeconds(5)))
        {
            // Closing the handle under a thread still reading it would be unsafe: leave both.
            return;
        }

        _device.Dispose();
        lock (_gate)
        {
            _error ??= "disposed";
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Opens <paramref name="interfaceName"/> in the calling thread's network namespace:
    /// promiscuous (frames to any MAC), immediate (no batching), with the filter applied.
    /// </summary>
    internal static LabCapture Open(string interfaceName, string? filter)
    {
        LibPcapLiveDevice device;
        try
        {
            // Enumerates in the calling thread's namespace; only the lab's interface is opened.
            device = LibPcapLiveDeviceList.New().FirstOrDefault(d => d.Name == interfaceName)
                ?? throw new NetworkLabException($"libpcap does not list the interface {interfaceName}.");
        }
        catch (DllNotFoundException e)
        {
            throw new NetworkLabException(
                "Capturing needs the native libpcap (Debian/Ubuntu: apt-get install libpcap0.8).", e);
        }

        try
        {
            device.Open(new DeviceConfiguration
            {
                Mode = DeviceModes.Promiscuous,
                ReadTimeout = ReadTimeoutMilliseconds,
                Immediate = true,
                Snaplen = PcapFileWriter.SnapshotLength,
            });
            if (filter is not null)
            {
                device.Filter = filter;
            }
        }
        catch (PcapException e)
        {
            device.Dispose();
            throw new NetworkLabException($"Could not capture on {interfaceName}{(filter is null ? "" : $" with filter '{filter}'")}: {e.Message}", e);
        }
        catch
        {
            device.Dispose();
            throw;
        }

        return new LabCapture(device, interfaceName, filter);
    }

    internal void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "lab capture " + InterfaceName };
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                GetPacketStatus status = _device.GetNextPacket(out PacketCapture packet);
                if (status == GetPacketStatus.PacketRead)
                {
                    PosixTimeval time = packet.Header.Timeval;
                    var frame = new CapturedFrame(
                        DateTimeOffset.FromUnixTimeSeconds((long)time.Seconds).AddTicks((long)time.MicroSeconds * TimeSpan.TicksPerMicrosecond),
                        packet.Data.ToArray());
                    lock (_gate)
                    {
                        _frames.Add(frame);
                        Monitor.PulseAll(_gate);
                    }
                }
                else if (status == GetPacketStatus.Error)
                {
                    Fail(_device.LastError);
                    return;
                }
            }
        }
        catch (Exception e) when (e is PcapException or InvalidOperationException)
        {
            Fail(e.Message);
        }
    }

    private void Fail(string error)
    {
        lock (_gate)
        {
            _error = string.IsNullOrEmpty(error) ? "unknown libpcap error" : error;
            Monitor.PulseAll(_gate);
        }
    }
}
