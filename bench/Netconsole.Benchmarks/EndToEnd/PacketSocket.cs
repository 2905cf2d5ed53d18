using System.Runtime.InteropServices;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// A raw Linux packet socket (AF_PACKET, SOCK_RAW) bound to one interface, for sending whole
/// Ethernet frames with plain send(2): the syscall ceiling that libpcap's injection (itself a
/// send(2) on such a socket) is compared with. Protocol 0: the socket receives nothing.
/// Benchmark code (issue 7): it lives here until a packet-socket transport is decided on.
/// </summary>
internal sealed partial class PacketSocket : IDisposable
{
    private const int AfPacket = 17;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NoBufferSpace = 105; // ENOBUFS: the device (or the veth peer's backlog) dropped the frame

    private readonly SafePacketSocketHandle _handle;
    private PreparedFrames? _prepared;

    private PacketSocket(SafePacketSocketHandle handle, string deviceName)
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
    public static PacketSocket Open(string deviceName, int interfaceIndex)
    {
        SafePacketSocketHandle handle = Socket(AfPacket, SockRaw | SockCloexec, 0);
        if (handle.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new InvalidOperationException(
                $"socket(AF_PACKET, SOCK_RAW) failed: {ErrorText(errno)}; it needs root or CAP_NET_RAW.");
        }

        var address = new SocketAddressLinkLayer
        {
            Family = AfPacket,
            Protocol = 0,
            InterfaceIndex = interfaceIndex,
        };
        if (Bind(handle, address, Marshal.SizeOf<SocketAddressLinkLayer>()) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new InvalidOperationException($"bind(AF_PACKET) to {deviceName} (#{interfaceIndex}) failed: {ErrorText(errno)}.");
        }

        return new PacketSocket(handle, deviceName);
    }

    /// <summary>Sends one frame; a frame the kernel drops (ENOBUFS) is counted in <see cref="Dropped"/>.</summary>
    /// <exception cref="InvalidOperationException">send(2) failed otherwise, or sent part of the frame.</exception>
    public unsafe void Send(ReadOnlySpan<byte> frame)
    {
        nint sent;
        fixed (byte* bytes = frame)
        {
            sent = SendNative(_handle, bytes, (nuint)frame.Length, 0);
        }

        if (sent == frame.Length)
        {
            return;
        }

        if (sent < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == NoBufferSpace)
            {
                Dropped++;
                return;
            }

            throw new InvalidOperationException($"send(2) of a {frame.Length}-byte frame on {DeviceName} failed: {ErrorText(errno)}.");
        }

        throw new InvalidOperationException($"send(2) on {DeviceName} sent {sent} of {frame.Length} bytes.");
    }

    /// <summary>
    /// Copies <paramref name="frames"/> into pinned memory with a message header each, so
    /// <see cref="SendPrepared"/> hands them to the kernel with sendmmsg(2) and no copy: the
    /// ceiling of batched injection (issue 19). Replaces what was prepared before.
    /// </summary>
    public void Prepare(byte[][] frames)
    {
        _prepared = new PreparedFrames(frames);
    }

    /// <summary>
    /// Sends prepared frames <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1
    /// with sendmmsg(2), as many per call as the kernel takes; a frame the kernel drops (ENOBUFS)
    /// is counted in <see cref="Dropped"/> and skipped.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing was prepared, or sendmmsg(2) failed otherwise.</exception>
    public void SendPrepared(int first, int count)
    {
        PreparedFrames prepared = _prepared ?? throw new InvalidOperationException("Prepare the frames first.");
        int next = first;
        int end = first + count;
        while (next < end)
        {
            int sent = SendMultiple(_handle, prepared.Headers + (next * Marshal.SizeOf<MultipleMessageHeader>()), (uint)(end - next), 0);
            if (sent > 0)
            {
                next += sent;
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != NoBufferSpace)
            {
                throw new InvalidOperationException($"sendmmsg(2) of {end - next} frames on {DeviceName} failed: {ErrorText(errno)}.");
            }

            Dropped++;
            next++;
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _handle.Dispose();

    private static string ErrorText(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial SafePacketSocketHandle Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(SafePacketSocketHandle socket, in SocketAddressLinkLayer address, int length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint SendNative(SafePacketSocketHandle socket, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMultiple(SafePacketSocketHandle socket, IntPtr headers, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(nint fd);

    // struct sockaddr_ll (20 bytes): family, protocol (big-endian), ifindex, hatype, pkttype, halen, addr[8].
    [StructLayout(LayoutKind.Sequential)]
    private struct SocketAddressLinkLayer
    {
        public ushort Family;
        public ushort Protocol;
        public int InterfaceIndex;
        public ushort HardwareType;
        public byte PacketType;
        public byte AddressLength;
        public uint AddressLow;
        public uint AddressHigh;
    }

    // struct iovec.
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public IntPtr Base;
        public nuint Length;
    }

    // struct mmsghdr (x86-64 and arm64): struct msghdr (56 bytes), then msg_len; 64 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct MultipleMessageHeader
    {
        public IntPtr Name;
        public uint NameLength;
        public IntPtr Vectors;
        public nuint VectorCount;
        public IntPtr Control;
        public nuint ControlLength;
        public int Flags;
        public uint Length;
    }

    // The frames in one pinned arena, an iovec and a message header each (the socket is bound: no address).
    private sealed class PreparedFrames
    {
        private readonly byte[] _arena;
        private readonly IoVector[] _vectors;
        private readonly MultipleMessageHeader[] _headers;

        public PreparedFrames(byte[][] frames)
        {
            _arena = GC.AllocateUninitializedArray<byte>(frames.Sum(f => f.Length), pinned: true);
            _vectors = GC.AllocateArray<IoVector>(frames.Length, pinned: true);
            _headers = GC.AllocateArray<MultipleMessageHeader>(frames.Length, pinned: true);
            IntPtr arena = Marshal.UnsafeAddrOfPinnedArrayElement(_arena, 0);
            IntPtr vectors = Marshal.UnsafeAddrOfPinnedArrayElement(_vectors, 0);
            int offset = 0;
            for (int i = 0; i < frames.Length; i++)
            {
                frames[i].CopyTo(_arena, offset);
                _vectors[i] = new IoVector { Base = arena + offset, Length = (nuint)frames[i].Length };
                _headers[i].Vectors = vectors + (i * Marshal.SizeOf<IoVector>());
                _headers[i].VectorCount = 1;
                offset += frames[i].Length;
            }

            Headers = Marshal.UnsafeAddrOfPinnedArrayElement(_headers, 0); // on the pinned heap: never moves
        }

        public IntPtr Headers { get; }
    }

    /// <summary>A file descriptor closed exactly once, even when a send is in flight on another thread.</summary>
    private sealed class SafePacketSocketHandle : SafeHandle
    {
        public SafePacketSocketHandle()
            : base(invalidHandleValue: -1, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => CloseNative(handle) == 0;
    }
}
