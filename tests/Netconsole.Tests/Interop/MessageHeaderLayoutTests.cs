using System.Runtime.InteropServices;
using Netconsole.Interop;

namespace Netconsole.Tests.Interop;

/// <summary>
/// The sendmmsg/recvmmsg structures have the kernel's sizes on 64-bit Linux: struct iovec 16
/// bytes, struct msghdr 56, struct mmsghdr 64. A benchmark's own mmsghdr of 56 bytes once made
/// sendmmsg send one frame per call without an error.
/// </summary>
public sealed class MessageHeaderLayoutTests
{
    [SkippableFact]
    public void The_structures_have_the_sizes_of_64_bit_Linux()
    {
        Skip.IfNot(Environment.Is64BitProcess, "the sizes are those of a 64-bit process");

        Marshal.SizeOf<IoVector>().Should().Be(16);
        Marshal.SizeOf<MessageHeader>().Should().Be(56);
        Marshal.SizeOf<MultipleMessageHeader>().Should().Be(64, "msghdr, the 4-byte length and the padding to 8");
    }
}
