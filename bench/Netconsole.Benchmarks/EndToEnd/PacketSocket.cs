using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Transport;
using Native = Netconsole.Interop.PacketSocket;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// A raw Linux packet socket (AF_PACKET, SOCK_RAW) bound to one interface, for sending whole
/// Ethernet frames with plain send(2) or sendmmsg(2): the syscall ceilings that libpcap's
/// injection and the library's packet-socket transport are compared with. The system calls are
/// the library's own (Netconsole.Interop.PacketSocket); this adds no checks, only drop counting.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PacketSocket : IDisposable
{
    private readonly SafeSocketHandle _handle;
    private byte[] _arena = [];
    private int[] _lengths = [];
    private int[] _offsets = [];

    private PacketSocket(SafeSocketHandle handle, string deviceName)
    {
        _handle = handle;
        DeviceName = deviceName;
    }

    /// <summary>The interface the socket is bound to.</summary>
    public string DeviceName { get; }

    /// <summary>Frames the kernel refused with ENOBUFS (dropped, counted here).</summary>
    public long Dropped { get; private set; }

    /// <summary>Opens a packet socket bound to the interface with index <paramref name="interfaceIndex"/>.</summary>
    /// <exception cref="InvalidOperationException">socket(2) or bind(2) failed; the message says which and why.</exception>
    /// <param name="deviceName">The interface's name, for messages.</param>
    /// <param name="interfaceIndex">The interface's index.</param>
    /// <param name="bypassQdisc">True to set PACKET_QDISC_BYPASS: frames go to the driver without traffic control (row (j)).</param>
    public static PacketSocket Open(string deviceName, int interfaceIndex, bool bypassQdisc = false)
    {
        SafeSocketHandle handle = Native.Open(interfaceIndex, out int errno, out string call)
            ?? throw new InvalidOperationException($"{call} on {deviceName} (#{interfaceIndex}) failed: {Netconsole.Interop.Errno.Text(errno)}; it needs root or CAP_NET_RAW.");
        if (bypassQdisc && (errno = Native.SetPacketOption(handle, Native.OptionQdiscBypass, 1)) != 0)
        {
            handle.Dispose();
            throw new InvalidOperationException($"setsockopt(PACKET_QDISC_BYPASS) on {deviceName} failed: {Netconsole.Interop.Errno.Text(errno)}");
        }

        return new PacketSocket(handle, deviceName);
    }

    /// <summary>Sends one frame; a frame the kernel drops (ENOBUFS) is counted in <see cref="Dropped"/>.</summary>
    /// <exception cref="InvalidOperationException">send(2) failed otherwise, or sent part of the frame.</exception>
    public void Send(ReadOnlySpan<byte> frame)
    {
        int errno = Native.Send(_handle, frame);
        if (errno == 0)
        {
            return;
        }

        if (errno == PacketSocketErrors.NoBufferSpace)
        {
            Dropped++;
            return;
        }

        throw new InvalidOperationException($"send(2) of a {frame.Length}-byte frame on {DeviceName} failed: errno {errno}.");
    }

    /// <summary>
    /// Copies <paramref name="frames"/> back to back into one array, so <see cref="SendPrepared"/>
    /// hands them to the kernel with sendmmsg(2) without gathering them first: the ceiling of
    /// batched injection (issue 19). Replaces what was prepared before.
    /// </summary>
    public void Prepare(byte[][] frames)
    {
        _lengths = [.. frames.Select(f => f.Length)];
        _offsets = new int[frames.Length];
        _arena = GC.AllocateUninitializedArray<byte>(frames.Sum(f => f.Length));
        int offset = 0;
        for (int i = 0; i < frames.Length; i++)
        {
            _offsets[i] = offset;
            frames[i].CopyTo(_arena, offset);
            offset += frames[i].Length;
        }
    }

    /// <summary>Uses the frames <paramref name="other"/> prepared (the same arrays, not a copy).</summary>
    public void PrepareAs(PacketSocket other) => (_arena, _lengths, _offsets) = other.Prepared;

    /// <summary>The prepared frames back to back, and their lengths (for the transport's SendBatch).</summary>
    public (byte[] Frames, int[] Lengths, int[] Offsets) Prepared => (_arena, _lengths, _offsets);

    /// <summary>
    /// Sends prepared frames <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1
    /// with sendmmsg(2), as many per call as the kernel takes (at most 64); a frame the kernel drops
    /// (ENOBUFS) is counted in <see cref="Dropped"/> and skipped.
    /// </summary>
    /// <exception cref="InvalidOperationException">sendmmsg(2) failed otherwise.</exception>
    public void SendPrepared(int first, int count)
    {
        int next = first;
        int end = first + count;
        while (next < end)
        {
            int sent = Native.SendBatch(_handle, _arena.AsSpan(_offsets[next]), _lengths.AsSpan(next, end - next), out int errno);
            if (sent > 0)
            {
                next += sent;
                continue;
            }

            if (errno != PacketSocketErrors.NoBufferSpace)
            {
                throw new InvalidOperationException($"sendmmsg(2) of {end - next} frames on {DeviceName} failed: errno {errno}.");
            }

            Dropped++;
            next++;
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _handle.Dispose();
}
