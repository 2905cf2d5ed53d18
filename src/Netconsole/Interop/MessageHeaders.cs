using System.Runtime.InteropServices;

namespace Netconsole.Interop;

// The structures of recvmmsg(2) and sendmmsg(2) on 64-bit Linux, shared by the receive batch
// (DatagramBatch) and the packet socket's send batch (PacketSocket). MessageHeaderLayoutTests pins
// their sizes: a wrong size makes the kernel read every message but the first from the wrong place.

/// <summary>struct iovec: one buffer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoVector
{
    public IntPtr Base;
    public nuint Length;
}

/// <summary>struct msghdr: the address (none for a bound socket's sends), the buffers, control data, flags.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MessageHeader
{
    public IntPtr Name;
    public int NameLength;
    public IntPtr Vectors;
    public nuint VectorCount;
    public IntPtr Control;
    public nuint ControlLength;
    public int Flags;
}

/// <summary>struct mmsghdr: the header, then the length the kernel sent or received (after the header's own padding).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MultipleMessageHeader
{
    public MessageHeader Header;
    public uint Length;
}
