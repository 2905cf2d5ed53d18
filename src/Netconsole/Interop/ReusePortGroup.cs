using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Netconsole.Interop;

/// <summary>
/// Several UDP sockets bound to one endpoint with SO_REUSEPORT (Linux), the kernel choosing the
/// socket of each datagram by a classic BPF program attached to the group
/// (SO_ATTACH_REUSEPORT_CBPF) that hashes the sender's address, and its port when senders are
/// keyed by address and port: every datagram of one sender reaches the same socket, whatever
/// local address it was sent to and however many sockets there are.
/// </summary>
/// <remarks>
/// The first socket is bound without SO_REUSEPORT, so a port some other socket already holds is
/// refused as with one socket (and port 0 gets a port no other group uses: the kernel's search
/// for a free port skips ports of compatible SO_REUSEPORT groups); the option is set on it after
/// the bind, and the others join it. The kernel then keeps the group in bind order, which is
/// the index the program returns; an index beyond the group falls back to the kernel's own hash.
/// The program and its arithmetic (<see cref="SocketOf"/>) are plain code; binding is Linux's.
/// </remarks>
internal static class ReusePortGroup
{
    // include/uapi/asm-generic/socket.h (x86-64, arm64, arm, s390x, ppc64le, riscv64, loongarch64).
    private const int ReusePort = 15;
    private const int AttachReusePortCbpf = 51;

    // include/uapi/linux/filter.h: classic BPF opcodes and SKF_NET_OFF (loads relative to the IP header).
    private const ushort LoadWordAbsolute = 0x20; // BPF_LD | BPF_W | BPF_ABS
    private const ushort LoadHalfAbsolute = 0x28; // BPF_LD | BPF_H | BPF_ABS
    private const ushort LoadByteAbsolute = 0x30; // BPF_LD | BPF_B | BPF_ABS
    private const ushort LoadHalfIndirect = 0x48; // BPF_LD | BPF_H | BPF_IND
    private const ushort LoadMemory = 0x60; // BPF_LD | BPF_MEM
    private const ushort LoadIndexHeaderLength = 0xb1; // BPF_LDX | BPF_B | BPF_MSH: X = 4 * (byte & 0xf)
    private const ushort Store = 0x02; // BPF_ST
    private const ushort AddIndex = 0x0c; // BPF_ALU | BPF_ADD | BPF_X
    private const ushort Multiply = 0x24; // BPF_ALU | BPF_MUL | BPF_K
    private const ushort ShiftRight = 0x74; // BPF_ALU | BPF_RSH | BPF_K
    private const ushort Modulo = 0x94; // BPF_ALU | BPF_MOD | BPF_K
    private const ushort XorIndex = 0xac; // BPF_ALU | BPF_XOR | BPF_X
    private const ushort JumpAlways = 0x05; // BPF_JMP | BPF_JA
    private const ushort JumpIfEqual = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort CopyToIndex = 0x07; // BPF_MISC | BPF_TAX
    private const ushort ReturnAccumulator = 0x16; // BPF_RET | BPF_A
    private const int NetworkHeader = -0x100000; // SKF_NET_OFF

    /// <summary>
    /// Creates <paramref name="count"/> sockets bound to <paramref name="endpoint"/> in one
    /// SO_REUSEPORT group steered by sender; the caller disposes them.
    /// </summary>
    /// <exception cref="SocketException">A socket cannot be created, bound, or steered.</exception>
    [SupportedOSPlatform("linux")]
    public static Socket[] Bind(IPEndPoint endpoint, int count, bool byPort)
    {
        var sockets = new List<Socket>(count);
        try
        {
            IPEndPoint bound = endpoint;
            for (int i = 0; i < count; i++)
            {
                var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                sockets.Add(socket);
                if (endpoint.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }

                if (i > 0)
                {
                    SetReusePort(socket);
                }

                socket.Bind(bound);
                if (i == 0)
                {
                    SetReusePort(socket);
                    bound = (IPEndPoint)socket.LocalEndPoint!; // the port the system chose for port 0
                }
            }

            if (count > 1)
            {
                AttachSteering(sockets[0], count, byPort);
            }

            return [.. sockets];
        }
        catch
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }

            throw;
        }
    }

    [SupportedOSPlatform("linux")]
    private static void SetReusePort(Socket socket) =>
        socket.SetRawSocketOption(SocketConstants.LevelSocket, ReusePort, BitConverter.GetBytes(1));

    [SupportedOSPlatform("linux")]
    private static void AttachSteering(Socket socket, int count, bool byPort)
    {
        ulong[] program = Program(count, byPort);
        GCHandle pinned = GCHandle.Alloc(program, GCHandleType.Pinned);
        try
        {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer aligned after the length.
            Span<byte> fprog = stackalloc byte[2 * IntPtr.Size];
            fprog.Clear();
            MemoryMarshal.Write(fprog, (ushort)program.Length);
            MemoryMarshal.Write(fprog[IntPtr.Size..], pinned.AddrOfPinnedObject());
            socket.SetRawSocketOption(SocketConstants.LevelSocket, AttachReusePortCbpf, fprog);
        }
        finally
        {
            pinned.Free();
        }
    }

    /// <summary>
    /// The steering program: the socket index is a multiplicative hash of the sender's IPv4
    /// address (or the four words of its IPv6 address XORed), plus its UDP port when
    /// <paramref name="byPort"/>, modulo <paramref name="count"/>. An IPv4 datagram reaching a
    /// dual-stack socket is hashed by its IPv4 header, like the key the receiver gives it.
    /// </summary>
    internal static ulong[] Program(int count, bool byPort)
    {
        var p = new List<ulong>
        {
            Instruction(LoadByteAbsolute, NetworkHeader),
            Instruction(ShiftRight, 4), // the IP version
        };
        int versionCheck = p.Count;
        p.Add(0); // jeq #4: patched below
        p.Add(Instruction(LoadWordAbsolute, NetworkHeader + 12)); // IPv4 source address
        if (byPort)
        {
            p.Add(Instruction(Store, 0));
            p.Add(Instruction(LoadIndexHeaderLength, NetworkHeader));
            p.Add(Instruction(LoadHalfIndirect, NetworkHeader)); // the UDP source port, after the IPv4 header and its options
        }

        int jumpToJoin = p.Count;
        p.Add(0); // ja: patched below
        int ipv6 = p.Count;
        p.Add(Instruction(LoadWordAbsolute, NetworkHeader + 8)); // IPv6 source address, four words
        for (int word = 1; word < 4; word++)
        {
            p.Add(Instruction(CopyToIndex, 0));
            p.Add(Instruction(LoadWordAbsolute, NetworkHeader + 8 + (4 * word)));
            p.Add(Instruction(XorIndex, 0));
        }

        if (byPort)
        {
            p.Add(Instruction(Store, 0));
            p.Add(Instruction(LoadHalfAbsolute, NetworkHeader + 40)); // the UDP source port, after the fixed IPv6 header
        }

        int join = p.Count;
        if (byPort)
        {
            // A = port here, M[0] = address: add them.
            p.Add(Instruction(CopyToIndex, 0));
            p.Add(Instruction(LoadMemory, 0));
            p.Add(Instruction(AddIndex, 0));
        }

        p.Add(Instruction(Multiply, unchecked((int)0x9E3779B1)));
        p.Add(Instruction(ShiftRight, 16));
        p.Add(Instruction(Modulo, count));
        p.Add(Instruction(ReturnAccumulator, 0));
        p[versionCheck] = Instruction(JumpIfEqual, 4, 0, (byte)(ipv6 - versionCheck - 1));
        p[jumpToJoin] = Instruction(JumpAlways, join - jumpToJoin - 1);
        return [.. p];
    }

    /// <summary>
    /// The socket index <see cref="Program"/> gives a datagram from <paramref name="sender"/>
    /// (IPv4, or IPv4-mapped, by its IPv4 header): the same arithmetic, for tests.
    /// </summary>
    internal static int SocketOf(IPEndPoint sender, int count, bool byPort)
    {
        IPAddress address = sender.Address.IsIPv4MappedToIPv6 ? sender.Address.MapToIPv4() : sender.Address;
        byte[] bytes = address.GetAddressBytes();
        uint a = 0;
        for (int word = 0; word < bytes.Length / 4; word++)
        {
            a ^= System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(word * 4));
        }

        if (byPort)
        {
            a = unchecked(a + (uint)sender.Port);
        }

        return (int)((unchecked(a * 0x9E3779B1) >> 16) % (uint)count);
    }

    // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } in the machine's byte order.
    private static ulong Instruction(ushort code, int k, byte jumpIfTrue = 0, byte jumpIfFalse = 0)
    {
        Span<byte> bytes = stackalloc byte[8];
        MemoryMarshal.Write(bytes, code);
        bytes[2] = jumpIfTrue;
        bytes[3] = jumpIfFalse;
        MemoryMarshal.Write(bytes[4..], k);
        return MemoryMarshal.Read<ulong>(bytes);
    }
}
