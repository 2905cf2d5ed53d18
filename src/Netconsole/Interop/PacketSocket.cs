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
        SafeSocketHandle socket = Libc.Socket(AddressFamilyPacket, SocketConstants.TypeRaw | SocketConstants.CloseOnExec, 0);
        if (socket.IsInvalid)
        {
            errno = Marshal.GetLastPInvokeError();
            failedCall = "socket(AF_PACKET, SOCK_RAW)";
            socket.Dispose();
            return null;
        }

        // struct sockaddr_ll: family, protocol (0: receive nothing), ifindex; the rest unused by bind.
        Span<byte> address = stackalloc byte[LinkLayerAddressLength];
        address.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(address, AddressFamilyPacket);
        MemoryMarshal.Write(address[4..], in interfaceIndex);
        if (Libc.Bind(socket, address, LinkLayerAddressLength) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            failedCall = "bind(AF_PACKET)";
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

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint SendNative(SafeSocketHandle socket, ReadOnlySpan<byte> buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SendMultipleNative(SafeSocketHandle socket, IntPtr messages, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int GetSocketName(SafeSocketHandle socket, Span<byte> address, ref int addressLength);
}
