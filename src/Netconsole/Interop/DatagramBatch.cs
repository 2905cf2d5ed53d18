using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Netconsole.Interop;

/// <summary>
/// Receives up to <see cref="Capacity"/> datagrams waiting on a UDP socket with one system call
/// (recvmmsg(2) with MSG_DONTWAIT, Linux), as netconsd's listener does: under load a receiver
/// otherwise spends more time entering and leaving the kernel, one datagram at a time, than
/// reassembling records. Never waits: when nothing is waiting it says so, and the caller waits
/// the portable way. One batch per receive thread; not thread-safe.
/// </summary>
/// <remarks>
/// Every datagram gets a 64 KiB slot, so none is ever cut short (the largest UDP payload fits).
/// The slots, the source addresses and the kernel's message headers live in pinned arrays
/// (2 MiB of address space per batch; only what datagrams fill is ever touched).
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class DatagramBatch
{
    /// <summary>The most datagrams one call receives.</summary>
    public const int Capacity = 32;

    private const int SlotSize = 64 * 1024;
    private const int AddressSize = 128; // sizeof(struct sockaddr_storage)
    private const int DontWait = 0x40; // MSG_DONTWAIT
    private const int Again = 11; // EAGAIN, EWOULDBLOCK
    private const int Interrupted = 4; // EINTR

    private readonly byte[] _slots = GC.AllocateUninitializedArray<byte>(Capacity * SlotSize, pinned: true);
    private readonly byte[] _addresses = GC.AllocateArray<byte>(Capacity * AddressSize, pinned: true);
    private readonly IoVector[] _vectors = GC.AllocateArray<IoVector>(Capacity, pinned: true);
    private readonly MultipleMessageHeader[] _headers = GC.AllocateArray<MultipleMessageHeader>(Capacity, pinned: true);
    private readonly IntPtr _headersAddress;

    public DatagramBatch()
    {
        IntPtr slots = Marshal.UnsafeAddrOfPinnedArrayElement(_slots, 0);
        IntPtr addresses = Marshal.UnsafeAddrOfPinnedArrayElement(_addresses, 0);
        IntPtr vectors = Marshal.UnsafeAddrOfPinnedArrayElement(_vectors, 0);
        for (int i = 0; i < Capacity; i++)
        {
            _vectors[i] = new IoVector { Base = slots + (i * SlotSize), Length = SlotSize };
            _headers[i].Header.Vectors = vectors + (i * Marshal.SizeOf<IoVector>());
            _headers[i].Header.VectorCount = 1;
            _headers[i].Header.Name = addresses + (i * AddressSize);
        }

        _headersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_headers, 0);
    }

    /// <summary>
    /// Takes the datagrams waiting on <paramref name="socket"/>, up to <see cref="Capacity"/>:
    /// their number, 0 when none is waiting, or -1 when the socket reported an error (an ICMP
    /// error on a connected socket, for one), which the call consumed.
    /// </summary>
    public int Receive(SafeSocketHandle socket)
    {
        for (int i = 0; i < Capacity; i++)
        {
            // The kernel writes back each address's length and each message's flags.
            _headers[i].Header.NameLength = AddressSize;
            _headers[i].Header.Flags = 0;
        }

        while (true)
        {
            int count = Libc.ReceiveMultipleMessages(socket, _headersAddress, Capacity, DontWait, IntPtr.Zero);
            if (count >= 0)
            {
                return count;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interrupted)
            {
                return errno == Again ? 0 : -1;
            }
        }
    }

    /// <summary>The payload of datagram <paramref name="index"/> of the last <see cref="Receive"/>.</summary>
    public ReadOnlySpan<byte> Datagram(int index) => _slots.AsSpan(index * SlotSize, (int)Math.Min(_headers[index].Length, SlotSize));

    /// <summary>Copies the source address of datagram <paramref name="index"/> into <paramref name="address"/> (of the socket's family).</summary>
    public void CopySource(int index, SocketAddress address)
    {
        int length = Math.Min(Math.Min(_headers[index].Header.NameLength, AddressSize), address.Buffer.Length);
        _addresses.AsSpan(index * AddressSize, length).CopyTo(address.Buffer.Span);
        address.Size = length;
    }
}
