using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Netconsole.Interop;

/// <summary>
/// Linux packet sockets (AF_PACKET, SOCK_RAW) for sending whole Ethernet frames: what libpcap's
/// injection is underneath (pcap_inject is a send(2) on such a socket), without libpcap. Protocol
/// 0 and bound to one interface index: the socket receives nothing and sends on that device only,
/// even after it is renamed. Every call returns the errno instead of throwing; the transport
/// says what it means (packet(7), net/packet/af_packet.c).
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class PacketSocket
{
    /// <summary>ARPHRD_ETHER: an Ethernet device.</summary>
    public const ushort HardwareEthernet = 1;

    /// <summary>ARPHRD_LOOPBACK: <c>lo</c>, which libpcap (and the kernel) treat as Ethernet.</summary>
    public const ushort HardwareLoopback = 772;

    /// <summary>The most frames one sendmmsg(2) call is given: the message headers live on the sender's stack.</summary>
    public const int BatchCapacity = 64;

    private const int AddressFamilyPacket = 17; // AF_PACKET
    private const int LinkLayerAddressLength = 20; // sizeof(struct sockaddr_ll)
    private const int Interrupted = 4; // EINTR

    /// <summary>
    /// Opens a packet socket bound to interface <paramref name="interfaceIndex"/>: the socket, or an
    /// null with <paramref name="errno"/> and the call that failed in <paramref name="failedCall"/>.
    /// </summary>
    public static SafeSocketHandle? Open(int interfaceIndex, out int errno, out string failedCall)
    {
        SafeSocketHandle? socket = NewSocket(out errno, out failedCall);
        return socket is null ? null : Bound(socket, interfaceIndex, protocol: 0, out errno, out failedCall);
    }

    // socket(AF_PACKET, SOCK_RAW) with protocol 0: it receives nothing until bound with a protocol.
    private static SafeSocketHandle? NewSocket(out int errno, out string failedCall)
    {
        SafeSocketHandle socket = Libc.Socket(AddressFamilyPacket, SocketConstants.TypeRaw | SocketConstants.CloseOnExec, 0);
        if (socket.IsInvalid)
        {
            errno = Marshal.GetLastPInvokeError();
            failedCall = "socket(AF_PACKET, SOCK_RAW)";
            socket.Dispose();
            return null;
        }

        errno = 0;
        failedCall = "";
        return socket;
    }

    // Binds the socket to the interface and protocol (host order; 0: receive nothing): the socket,
    // or null (it is closed) with the errno.
    private static SafeSocketHandle? Bound(SafeSocketHandle socket, int interfaceIndex, ushort protocol, out int errno, out string failedCall)
    {
        // struct sockaddr_ll: family, protocol (network order), ifindex; the rest unused by bind.
        Span<byte> address = stackalloc byte[LinkLayerAddressLength];
        address.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(address, AddressFamilyPacket);
        BinaryPrimitives.WriteUInt16BigEndian(address[2..], protocol);
        MemoryMarshal.Write(address[4..], in interfaceIndex);
        if (Libc.Bind(socket, address, LinkLayerAddressLength) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            failedCall = protocol == 0 ? "bind(AF_PACKET)" : "bind(AF_PACKET, ETH_P_ALL)";
            socket.Dispose();
            return null;
        }

        errno = 0;
        failedCall = "";
        return socket;
    }

    /// <summary>
    /// The hardware type (ARPHRD_*) and address of the device the socket is bound to, as the kernel
    /// has them now (getsockname(2) on a packet socket fills them in); null when it cannot say
    /// (the device is gone).
    /// </summary>
    public static (ushort HardwareType, byte[] Address)? Describe(SafeSocketHandle socket)
    {
        Span<byte> address = stackalloc byte[LinkLayerAddressLength];
        address.Clear();
        int length = LinkLayerAddressLength;
        if (GetSocketName(socket, address, ref length) != 0)
        {
            return null;
        }

        // sll_hatype at 8, sll_halen at 11, sll_addr at 12 (8 bytes).
        ushort hardwareType = MemoryMarshal.Read<ushort>(address[8..]);
        int addressLength = Math.Min(address[11], (byte)8);
        return hardwareType == 0 && addressLength == 0 ? null : (hardwareType, address.Slice(12, addressLength).ToArray());
    }

    /// <summary>Sends one frame with send(2): 0 when all of it went, else the errno (-1: only part of it went).</summary>
    public static int Send(SafeSocketHandle socket, ReadOnlySpan<byte> frame)
    {
        while (true)
        {
            nint sent = SendNative(socket, frame, (nuint)frame.Length, 0);
            if (sent == frame.Length)
            {
                return 0;
            }

            if (sent >= 0)
            {
                return -1;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interrupted)
            {
                return errno;
            }
        }
    }

    /// <summary>
    /// Sends up to <see cref="BatchCapacity"/> frames, back to back in <paramref name="frames"/>
    /// with their lengths in <paramref name="frameLengths"/>, with one sendmmsg(2): how many went,
    /// in order (the kernel stops at the first it refuses and forgets why when some went before
    /// it), or -1 with <paramref name="errno"/> when the first was refused.
    /// </summary>
    public static unsafe int SendBatch(SafeSocketHandle socket, ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths, out int errno)
    {
        int count = Math.Min(frameLengths.Length, BatchCapacity);
        // Stack memory does not move; the frames are pinned for the call.
        MultipleMessageHeader* headers = stackalloc MultipleMessageHeader[count];
        IoVector* vectors = stackalloc IoVector[count];
        new Span<MultipleMessageHeader>(headers, count).Clear();
        fixed (byte* start = frames)
        {
            int offset = 0;
            for (int i = 0; i < count; i++)
            {
                vectors[i].Base = (IntPtr)(start + offset);
                vectors[i].Length = (nuint)frameLengths[i];
                headers[i].Header.Vectors = (IntPtr)(vectors + i);
                headers[i].Header.VectorCount = 1;
                offset += frameLengths[i];
            }

            while (true)
            {
                int sent = SendMultipleNative(socket, (IntPtr)headers, (uint)count, 0);
                if (sent >= 0)
                {
                    errno = 0;
                    return sent;
                }

                errno = Marshal.GetLastPInvokeError();
                if (errno != Interrupted)
                {
                    return -1;
                }
            }
        }
    }

    // The transmit ring (PACKET_TX_RING) and qdisc bypass: what bench/lab.sh e2e measures against
    // sendmmsg(2) (issue 19). Values from include/uapi/linux/if_packet.h and include/linux/socket.h.

    /// <summary>SOL_PACKET: the level of the packet socket options.</summary>
    public const int LevelPacket = 263;

    /// <summary>PACKET_VERSION: the TPACKET_V* header layout of the socket's rings; set before the ring.</summary>
    public const int OptionVersion = 10;

    /// <summary>PACKET_TX_RING: a <see cref="TransmitRingRequest"/> that makes (or, all zero, removes) the transmit ring.</summary>
    public const int OptionTransmitRing = 13;

    /// <summary>PACKET_QDISC_BYPASS: 1 hands frames straight to the driver (dev_direct_xmit), past traffic control and the taps.</summary>
    public const int OptionQdiscBypass = 20;

    /// <summary>TPACKET_V2: frames headed by a <see cref="TransmitRingHeader"/>.</summary>
    public const int TPacketVersion2 = 1;

    /// <summary>TP_STATUS_AVAILABLE: the slot is the application's to fill.</summary>
    public const uint StatusAvailable = 0;

    /// <summary>TP_STATUS_SEND_REQUEST: the slot holds a frame for the kernel to send at the next send(2).</summary>
    public const uint StatusSendRequest = 1;

    /// <summary>TP_STATUS_SENDING: the kernel has the frame in flight; the slot comes back when the frame is freed.</summary>
    public const uint StatusSending = 2;

    /// <summary>TP_STATUS_WRONG_FORMAT: the kernel refused the frame (its length); without PACKET_LOSS the ring stops there.</summary>
    public const uint StatusWrongFormat = 4;

    /// <summary>
    /// Where a TPACKET_V2 transmit frame's data starts in its slot: TPACKET2_HDRLEN (the header aligned
    /// to TPACKET_ALIGNMENT 16, plus a struct sockaddr_ll) minus the sockaddr_ll, as tpacket_snd reads it
    /// without PACKET_TX_HAS_OFF.
    /// </summary>
    public const int TransmitFrameDataOffset = 32;

    private const int ProtectReadWrite = 0x1 | 0x2; // PROT_READ | PROT_WRITE
    private const int MapShared = 0x01; // MAP_SHARED
    private const short PollOut = 0x004; // POLLOUT

    /// <summary>setsockopt(2) of an int option at level SOL_PACKET: 0, or the errno.</summary>
    public static int SetPacketOption(SafeSocketHandle socket, int option, int value) =>
        SetOptionNative(socket, LevelPacket, option, ref value, sizeof(int)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>setsockopt(PACKET_TX_RING) with <paramref name="request"/>: 0, or the errno.</summary>
    public static int SetTransmitRing(SafeSocketHandle socket, TransmitRingRequest request) =>
        SetRingNative(socket, LevelPacket, OptionTransmitRing, ref request, Marshal.SizeOf<TransmitRingRequest>()) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>mmap(2) of the socket's rings, <paramref name="length"/> bytes shared with the kernel: the address, or zero with <paramref name="errno"/>.</summary>
    public static IntPtr MapRing(SafeSocketHandle socket, nuint length, out int errno)
    {
        IntPtr address = MapNative(IntPtr.Zero, length, ProtectReadWrite, MapShared, socket, 0);
        if (address == -1)
        {
            errno = Marshal.GetLastPInvokeError();
            return IntPtr.Zero;
        }

        errno = 0;
        return address;
    }

    /// <summary>munmap(2) of what <see cref="MapRing"/> mapped.</summary>
    public static void UnmapRing(IntPtr address, nuint length) => _ = UnmapNative(address, length);

    /// <summary>
    /// send(fd, NULL, 0, flags) on a socket with a transmit ring: the kernel sends every slot marked
    /// <see cref="StatusSendRequest"/> from its head on; without MSG_DONTWAIT it also waits until they
    /// are freed (their slots <see cref="StatusAvailable"/> again). 0, or the errno.
    /// </summary>
    public static int SendRing(SafeSocketHandle socket, int flags)
    {
        while (true)
        {
            if (SendNative(socket, default, 0, flags) >= 0)
            {
                return 0;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interrupted)
            {
                return errno;
            }
        }
    }

    /// <summary>
    /// poll(2) for POLLOUT, which a packet socket with a transmit ring reports when the slot at the
    /// kernel's head is <see cref="StatusAvailable"/>: true when it is, false when
    /// <paramref name="timeoutMilliseconds"/> passed (or poll failed, <paramref name="errno"/> set).
    /// </summary>
    public static unsafe bool PollWritable(SafeSocketHandle socket, int timeoutMilliseconds, out int errno)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            var descriptor = new PollDescriptor { Descriptor = (int)socket.DangerousGetHandle(), Events = PollOut };
            int ready = PollNative(&descriptor, 1, timeoutMilliseconds);
            errno = ready < 0 ? Marshal.GetLastPInvokeError() : 0;
            return ready > 0;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    // The capture of next-hop resolution (PacketSocketFrameCapture): values from
    // include/uapi/linux/if_ether.h, if_packet.h, asm-generic/socket.h and filter.h.
    private const ushort EthernetAllProtocols = 0x0003; // ETH_P_ALL, host order
    private const int LevelSocket = 1; // SOL_SOCKET
    private const int OptionAttachFilter = 26; // SO_ATTACH_FILTER
    private const int OptionIgnoreOutgoing = 23; // PACKET_IGNORE_OUTGOING (Linux 4.20)
    private const short PollIn = 0x001; // POLLIN
    private const int DontWait = 0x40; // MSG_DONTWAIT
    private const int WouldBlock = 11; // EAGAIN

    // A classic BPF program for "arp or icmp6" on an Ethernet frame without a VLAN tag: what the
    // libpcap capture's filter keeps. {code, jt, jf, k}; the jumps count from the next instruction.
    private static readonly SocketFilter[] ArpOrIcmp6 =
    [
        new(0x28, 0, 0, 12), // ldh [12]: the EtherType
        new(0x15, 3, 0, 0x0806), // ARP: accept
        new(0x15, 0, 3, 0x86DD), // not IPv6: reject
        new(0x30, 0, 0, 20), // ldb [20]: the IPv6 next header
        new(0x15, 0, 1, 58), // ICMPv6: accept, else reject
        new(0x06, 0, 0, 0x40000), // accept (up to 256 KiB of it)
        new(0x06, 0, 0, 0), // reject
    ];

    /// <summary>
    /// Opens a packet socket that receives the ARP and ICMPv6 frames arriving on interface
    /// <paramref name="interfaceIndex"/> (not those sent from this host, when the kernel can leave
    /// them out): the filter is attached before the socket is bound to a protocol, so nothing else
    /// is ever queued on it. Null with <paramref name="errno"/> and the failed call otherwise.
    /// </summary>
    public static unsafe SafeSocketHandle? OpenCapture(int interfaceIndex, out int errno, out string failedCall)
    {
        SafeSocketHandle? socket = NewSocket(out errno, out failedCall);
        if (socket is null)
        {
            return null;
        }

        // Our own requests need not come back; a kernel older than 4.20 refuses the option, and
        // the resolver skips them anyway.
        _ = SetPacketOption(socket, OptionIgnoreOutgoing, 1);
        fixed (SocketFilter* program = ArpOrIcmp6)
        {
            var filter = new SocketFilterProgram { Length = (ushort)ArpOrIcmp6.Length, Filter = (IntPtr)program };
            if (SetFilterNative(socket, LevelSocket, OptionAttachFilter, ref filter, sizeof(SocketFilterProgram)) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                failedCall = "setsockopt(SO_ATTACH_FILTER)";
                socket.Dispose();
                return null;
            }
        }

        return Bound(socket, interfaceIndex, EthernetAllProtocols, out errno, out failedCall);
    }

    /// <summary>
    /// Waits at most <paramref name="timeoutMilliseconds"/> for a frame on a capture socket and
    /// copies it (cut to the buffer): its length, 0 when none came in time, or -1 with
    /// <paramref name="errno"/>.
    /// </summary>
    public static unsafe int Receive(SafeSocketHandle socket, Span<byte> buffer, int timeoutMilliseconds, out int errno)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            var descriptor = new PollDescriptor { Descriptor = (int)socket.DangerousGetHandle(), Events = PollIn };
            while (true)
            {
                int ready = PollNative(&descriptor, 1, timeoutMilliseconds);
                if (ready == 0)
                {
                    errno = 0;
                    return 0;
                }

                if (ready < 0)
                {
                    errno = Marshal.GetLastPInvokeError();
                    if (errno == Interrupted)
                    {
                        continue;
                    }

                    return -1;
                }

                nint received = ReceiveNative(socket, buffer, (nuint)buffer.Length, DontWait);
                if (received >= 0)
                {
                    errno = 0;
                    return (int)received;
                }

                errno = Marshal.GetLastPInvokeError();
                if (errno is not (Interrupted or WouldBlock))
                {
                    return -1;
                }
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SetOptionNative(SafeSocketHandle socket, int level, int option, ref int value, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SetRingNative(SafeSocketHandle socket, int level, int option, ref TransmitRingRequest value, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SetFilterNative(SafeSocketHandle socket, int level, int option, ref SocketFilterProgram value, int length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint ReceiveNative(SafeSocketHandle socket, Span<byte> buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr MapNative(IntPtr address, nuint length, int protection, int flags, SafeSocketHandle socket, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int UnmapNative(IntPtr address, nuint length);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static unsafe partial int PollNative(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint SendNative(SafeSocketHandle socket, ReadOnlySpan<byte> buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SendMultipleNative(SafeSocketHandle socket, IntPtr messages, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int GetSocketName(SafeSocketHandle socket, Span<byte> address, ref int addressLength);

    // struct pollfd.
    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    // struct sock_filter: one classic BPF instruction (8 bytes).
    [StructLayout(LayoutKind.Sequential)]
    internal readonly struct SocketFilter(ushort code, byte jumpTrue, byte jumpFalse, uint constant)
    {
        public readonly ushort Code = code;
        public readonly byte JumpTrue = jumpTrue;
        public readonly byte JumpFalse = jumpFalse;
        public readonly uint Constant = constant;
    }

    // struct sock_fprog: the instruction count and a pointer to them (16 bytes on 64-bit).
    [StructLayout(LayoutKind.Sequential)]
    internal struct SocketFilterProgram
    {
        public ushort Length;
        public IntPtr Filter;
    }
}

/// <summary>
/// struct tpacket_req: the geometry of a packet socket's ring. Blocks are a multiple of the page
/// size; frames a multiple of TPACKET_ALIGNMENT (16) and at least the header; the kernel wants
/// <see cref="FrameCount"/> = blocks x frames per block. TransmitRingLayoutTests pins the layout.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TransmitRingRequest
{
    public uint BlockSize;
    public uint BlockCount;
    public uint FrameSize;
    public uint FrameCount;
}

/// <summary>
/// struct tpacket2_hdr: the head of every slot of a TPACKET_V2 ring. For transmitting, the
/// application writes the frame at <see cref="PacketSocket.TransmitFrameDataOffset"/>, its length
/// in <see cref="Length"/>, then <see cref="PacketSocket.StatusSendRequest"/> in
/// <see cref="Status"/>, last. TransmitRingLayoutTests pins the offsets.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TransmitRingHeader
{
    public uint Status;
    public uint Length;
    public uint CaptureLength;
    public ushort MacOffset;
    public ushort NetworkOffset;
    public uint Seconds;
    public uint Nanoseconds;
    public ushort VlanTci;
    public ushort VlanProtocol;
    public uint Padding;
}
