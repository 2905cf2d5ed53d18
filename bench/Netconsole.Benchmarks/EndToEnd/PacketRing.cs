using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using Netconsole.Interop;
using Netconsole.Transport;
using Native = Netconsole.Interop.PacketSocket;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// A raw packet socket with a memory-mapped transmit ring (PACKET_TX_RING, TPACKET_V2), optionally
/// with PACKET_QDISC_BYPASS: rows (k) and (l) of the e2e harness (issue 19), against sendmmsg(2).
/// The frames are copied into the ring's slots, marked TP_STATUS_SEND_REQUEST, and one
/// send(fd, NULL, 0, 0) hands a batch to the kernel, which sends them from its head on and, the
/// call being blocking, waits until they are freed, when their slots read TP_STATUS_AVAILABLE again.
/// </summary>
/// <remarks>
/// TPACKET_V2, not V3: V3's blocks of variable-size frames are a receive feature; for sending, V3
/// (Linux 4.11+) walks the same fixed-size frame slots as V2 with a header that has the same fields
/// the sender writes (status, length), and refuses what V2 takes (tp_next_offset must be 0). V2
/// works since 2.6.31 (TX_RING) and is what netsniff-ng's trafgen and libpcap's injection-capable
/// paths use.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class PacketRing : IDisposable
{
    // 2 KiB slots hold a 1514-byte frame after the 32-byte header; 64 KiB blocks (a multiple of
    // every page size Linux uses) of 32 slots; 8 blocks: 256 slots, room for four batches of 64.
    private const int FrameSize = 2048;
    private const int BlockSize = 64 * 1024;
    private const int BlockCount = 8;
    private const int FrameCount = BlockSize / FrameSize * BlockCount;
    private const int SlotWaitMilliseconds = 1000; // a slot the kernel does not give back within this is an error, not a spin
    private const int MaxRetries = 1000; // ENOBUFS: the kernel keeps the frame for the next send; this many tries, then it counts as dropped

    private readonly string _deviceName;
    private readonly int _deviceIndex;
    private SafeSocketHandle _handle;
    private byte* _ring;

    private int _head; // the next slot to fill: the kernel's head follows it, slot by slot

    private PacketRing(string deviceName, int deviceIndex, bool bypassQdisc)
    {
        _deviceName = deviceName;
        _deviceIndex = deviceIndex;
        BypassesQdisc = bypassQdisc;
        (_handle, IntPtr ring) = OpenRing(deviceName, deviceIndex, bypassQdisc);
        _ring = (byte*)ring;
    }

    /// <summary>True when the socket has PACKET_QDISC_BYPASS set.</summary>
    public bool BypassesQdisc { get; }

    /// <summary>Frames the kernel marked TP_STATUS_WRONG_FORMAT (each stops the ring: it is made again).</summary>
    public long WrongFormat { get; private set; }

    /// <summary>Frames not sent: wrong ones, those behind them in their batch, and frames refused (ENOBUFS) <see cref="MaxRetries"/> times.</summary>
    public long Dropped { get; private set; }

    /// <summary>send(2) calls that returned ENOBUFS (the frame stays in its slot and goes with the next call).</summary>
    public long NoBufferRetries { get; private set; }

    /// <summary>Times a slot was still the kernel's when it was to be filled, and the ring was polled for it.</summary>
    public long SlotWaits { get; private set; }

    /// <summary>The number of send(2) calls made.</summary>
    public long Calls { get; private set; }

    /// <summary>Opens a packet socket bound to the device, with a TPACKET_V2 transmit ring (and qdisc bypass when asked).</summary>
    /// <exception cref="InvalidOperationException">A system call failed; the message says which and why.</exception>
    public static PacketRing Open(string deviceName, int deviceIndex, bool bypassQdisc) => new(deviceName, deviceIndex, bypassQdisc);

    /// <summary>
    /// Sends <paramref name="count"/> frames from <paramref name="first"/> of the arena (back to back,
    /// as <see cref="PacketSocket.Prepare"/> made it): <paramref name="perCall"/> slots filled, then one
    /// send(2), until all went.
    /// </summary>
    public void Send(byte[] arena, int[] lengths, int[] offsets, int first, int count, int perCall)
    {
        int next = first;
        int end = first + count;
        fixed (byte* frames = arena)
        {
            while (next < end)
            {
                int batch = Math.Min(perCall, end - next);
                int slot0 = _head;
                for (int k = 0; k < batch; k++)
                {
                    byte* slot = Slot(_head);
                    WaitAvailable(slot);
                    int length = lengths[next + k];
                    if (length > FrameSize - Native.TransmitFrameDataOffset)
                    {
                        throw new InvalidOperationException($"a {length}-byte frame does not fit a {FrameSize}-byte ring slot");
                    }

                    Buffer.MemoryCopy(frames + offsets[next + k], slot + Native.TransmitFrameDataOffset, length, length);
                    ref TransmitRingHeader header = ref Header(slot);
                    header.Length = (uint)length;
                    Volatile.Write(ref header.Status, Native.StatusSendRequest); // last: the frame is the kernel's from here
                    _head = (_head + 1) % FrameCount;
                }

                Flush(slot0, batch);
                next += batch;
            }
        }
    }

    /// <summary>Closes the socket and unmaps the ring.</summary>
    public void Dispose()
    {
        Close();
        _ring = null;
    }

    // One blocking send(2) for the batch in slots slot0.. (slot0 + batch - 1) % FrameCount.
    private void Flush(int slot0, int batch)
    {
        for (int attempt = 0; ; attempt++)
        {
            Calls++;
            int errno = Native.SendRing(_handle, 0);
            if (errno == 0)
            {
                return;
            }

            if (errno == PacketSocketErrors.NoBufferSpace && attempt < MaxRetries)
            {
                // tpacket_snd put the refused frame's slot back to SEND_REQUEST: the next call sends it.
                NoBufferRetries++;
                continue;
            }

            // A frame marked WRONG_FORMAT (or one refused MaxRetries times): the kernel's head stays on
            // it (tpacket_snd without PACKET_LOSS), so nothing after it would ever go. Count the batch's
            // frames that did not go and make the ring again.
            long wrong = 0;
            long unsent = 0;
            for (int k = 0; k < batch; k++)
            {
                uint status = Owner(ref Header(Slot((slot0 + k) % FrameCount)).Status);
                if ((status & Native.StatusWrongFormat) != 0)
                {
                    wrong++;
                }
                else if (status == Native.StatusSendRequest)
                {
                    unsent++;
                }
            }

            if (wrong == 0 && unsent == 0)
            {
                throw new InvalidOperationException($"send(2) on the transmit ring of {_deviceName} failed: {Errno.Text(errno)}");
            }

            WrongFormat += wrong;
            Dropped += wrong + unsent;
            Close();
            (_handle, IntPtr ring) = OpenRing(_deviceName, _deviceIndex, BypassesQdisc);
            _ring = (byte*)ring;
            _head = 0;
            return;
        }
    }

    // The slot is the kernel's until it reads AVAILABLE: poll (POLLOUT: the slot at the kernel's head
    // is free), at most SlotWaitMilliseconds, never a spin.
    private void WaitAvailable(byte* slot)
    {
        ref uint status = ref Header(slot).Status;
        if (Owner(ref status) == Native.StatusAvailable)
        {
            return;
        }

        SlotWaits++;
        long deadline = Environment.TickCount64 + SlotWaitMilliseconds;
        while (Owner(ref status) != Native.StatusAvailable)
        {
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                throw new TimeoutException($"a transmit ring slot of {_deviceName} stayed the kernel's (status {Volatile.Read(ref status)}) for {SlotWaitMilliseconds} ms");
            }

            if (Owner(ref status) == Native.StatusSendRequest)
            {
                // Left from a send that stopped early (ENOBUFS): have the kernel send it.
                Calls++;
                _ = Native.SendRing(_handle, 0);
                continue;
            }

            _ = Native.PollWritable(_handle, (int)remaining, out _);
        }
    }

    private byte* Slot(int index) => _ring + ((long)index * FrameSize);

    private static ref TransmitRingHeader Header(byte* slot) => ref Unsafe.AsRef<TransmitRingHeader>(slot);

    private void Close()
    {
        if (_ring != null)
        {
            Native.UnmapRing((IntPtr)_ring, (nuint)((long)BlockSize * BlockCount));
        }

        _handle.Dispose();
    }

    private static (SafeSocketHandle Handle, IntPtr Ring) OpenRing(string deviceName, int deviceIndex, bool bypassQdisc)
    {
        SafeSocketHandle handle = Native.Open(deviceIndex, out int errno, out string call)
            ?? throw new InvalidOperationException($"{call} on {deviceName} (#{deviceIndex}) failed: {Errno.Text(errno)}; it needs root or CAP_NET_RAW.");
        try
        {
            Check(bypassQdisc ? Native.SetPacketOption(handle, Native.OptionQdiscBypass, 1) : 0, "setsockopt(PACKET_QDISC_BYPASS)", deviceName);
            Check(Native.SetPacketOption(handle, Native.OptionVersion, Native.TPacketVersion2), "setsockopt(PACKET_VERSION, TPACKET_V2)", deviceName);
            var request = new TransmitRingRequest { BlockSize = BlockSize, BlockCount = BlockCount, FrameSize = FrameSize, FrameCount = FrameCount };
            Check(Native.SetTransmitRing(handle, request), "setsockopt(PACKET_TX_RING)", deviceName);
            IntPtr ring = Native.MapRing(handle, (nuint)((long)BlockSize * BlockCount), out errno);
            Check(ring == IntPtr.Zero ? errno : 0, "mmap(PACKET_TX_RING)", deviceName);
            return (handle, ring);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void Check(int errno, string call, string deviceName)
    {
        if (errno != 0)
        {
            throw new InvalidOperationException($"{call} on {deviceName} failed: {Errno.Text(errno)}");
        }
    }

    // The status without the timestamp bits (TP_STATUS_TS_*, 1 << 29..31) the kernel may add when it frees a slot.
    private static uint Owner(ref uint status) => Volatile.Read(ref status) & (Native.StatusSendRequest | Native.StatusSending | Native.StatusWrongFormat);
}
