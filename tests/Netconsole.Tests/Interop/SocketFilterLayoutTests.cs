using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Netconsole.Interop;

namespace Netconsole.Tests.Interop;

/// <summary>
/// The capture socket's filter has the kernel's layout (include/uapi/linux/filter.h): struct
/// sock_filter is 8 bytes (code, jt, jf, k), struct sock_fprog 16 on 64-bit Linux (a 16-bit count,
/// padding, a pointer). A filter the kernel reads one field off is refused, or filters wrongly.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SocketFilterLayoutTests
{
    [Fact]
    public void An_instruction_is_code_jt_jf_k_in_8_bytes()
    {
        Marshal.SizeOf<PacketSocket.SocketFilter>().Should().Be(8);
        Marshal.OffsetOf<PacketSocket.SocketFilter>(nameof(PacketSocket.SocketFilter.Code)).Should().Be(0);
        Marshal.OffsetOf<PacketSocket.SocketFilter>(nameof(PacketSocket.SocketFilter.JumpTrue)).Should().Be(2);
        Marshal.OffsetOf<PacketSocket.SocketFilter>(nameof(PacketSocket.SocketFilter.JumpFalse)).Should().Be(3);
        Marshal.OffsetOf<PacketSocket.SocketFilter>(nameof(PacketSocket.SocketFilter.Constant)).Should().Be(4);
    }

    [Fact]
    public void The_program_is_a_count_then_a_pointer_at_8()
    {
        Marshal.SizeOf<PacketSocket.SocketFilterProgram>().Should().Be(16);
        Marshal.OffsetOf<PacketSocket.SocketFilterProgram>(nameof(PacketSocket.SocketFilterProgram.Filter)).Should().Be(8);
    }
}
