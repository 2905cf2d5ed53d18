using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Netconsole.Interop;

namespace Netconsole.Tests.Interop;

/// <summary>
/// The transmit ring's structures have the kernel's layout (include/uapi/linux/if_packet.h):
/// struct tpacket_req four 32-bit fields, struct tpacket2_hdr 32 bytes with tp_len at 4, tp_mac
/// at 12 and tp_padding at 28; the frame data at 32. A status or length written one field off is a
/// frame the kernel never sends, or sends with the wrong length.
/// </summary>
[SupportedOSPlatform("linux")] // the constants live with the packet socket
public sealed class TransmitRingLayoutTests
{
    [Fact]
    public void The_ring_request_is_four_32_bit_fields()
    {
        Marshal.SizeOf<TransmitRingRequest>().Should().Be(16);
        Marshal.OffsetOf<TransmitRingRequest>(nameof(TransmitRingRequest.BlockSize)).Should().Be(0);
        Marshal.OffsetOf<TransmitRingRequest>(nameof(TransmitRingRequest.BlockCount)).Should().Be(4);
        Marshal.OffsetOf<TransmitRingRequest>(nameof(TransmitRingRequest.FrameSize)).Should().Be(8);
        Marshal.OffsetOf<TransmitRingRequest>(nameof(TransmitRingRequest.FrameCount)).Should().Be(12);
    }

    [Fact]
    public void The_version_2_header_has_the_offsets_of_tpacket2_hdr()
    {
        Marshal.SizeOf<TransmitRingHeader>().Should().Be(32);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.Status)).Should().Be(0);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.Length)).Should().Be(4);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.CaptureLength)).Should().Be(8);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.MacOffset)).Should().Be(12);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.NetworkOffset)).Should().Be(14);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.Seconds)).Should().Be(16);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.Nanoseconds)).Should().Be(20);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.VlanTci)).Should().Be(24);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.VlanProtocol)).Should().Be(26);
        Marshal.OffsetOf<TransmitRingHeader>(nameof(TransmitRingHeader.Padding)).Should().Be(28);
    }

    [Fact]
    public void A_transmit_frame_starts_after_the_header_aligned_to_16()
    {
        // TPACKET2_HDRLEN = TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) + sizeof(struct sockaddr_ll) = 32 + 20;
        // tpacket_snd reads the data at tp_hdrlen - sizeof(struct sockaddr_ll).
        int aligned = (Marshal.SizeOf<TransmitRingHeader>() + 15) & ~15;
        PacketSocket.TransmitFrameDataOffset.Should().Be(aligned).And.Be(32);
    }
}
