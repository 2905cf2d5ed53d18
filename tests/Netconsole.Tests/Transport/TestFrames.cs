using System.Buffers.Binary;
using System.Net.NetworkInformation;

namespace Netconsole.Tests.Transport;

/// <summary>Frames of any length that no protocol stack acts on.</summary>
internal static class TestFrames
{
    /// <summary>EtherType 0x88b5, IEEE 802 local experimental: no stack processes it.</summary>
    public const ushort ExperimentalEtherType = 0x88b5;

    /// <summary>The capture filter matching <see cref="Experimental"/> frames.</summary>
    public const string ExperimentalFilter = "ether proto 0x88b5";

    private static int _marker;

    /// <summary>
    /// A broadcast frame of exactly <paramref name="length"/> bytes from <paramref name="source"/>,
    /// EtherType 0x88b5, with a marker no other frame of this run carries.
    /// </summary>
    public static byte[] Experimental(PhysicalAddress source, int length)
    {
        var frame = new byte[length];
        frame.AsSpan(0, 6).Fill(0xff);
        source.GetAddressBytes().CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), ExperimentalEtherType);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(14), Interlocked.Increment(ref _marker));
        for (int i = 18; i < length; i++)
        {
            frame[i] = (byte)i;
        }

        return frame;
    }
}
