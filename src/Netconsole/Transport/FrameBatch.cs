using Netconsole.Wire;

namespace Netconsole.Transport;

/// <summary>What every <see cref="IFrameTransport.SendBatch"/> checks before anything is sent.</summary>
internal static class FrameBatch
{
    /// <summary>Throws when a length is shorter than an Ethernet header or the lengths add up to more than <paramref name="frames"/> holds.</summary>
    /// <exception cref="ArgumentException">The batch is not well formed; nothing was sent.</exception>
    public static void Validate(ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths)
    {
        long total = 0;
        for (int i = 0; i < frameLengths.Length; i++)
        {
            if (frameLengths[i] < Ethernet.HeaderLength)
            {
                throw new ArgumentException(
                    $"A frame is at least an Ethernet header ({Ethernet.HeaderLength} bytes); frame {i} of the batch is {frameLengths[i]} bytes.", nameof(frameLengths));
            }

            total += frameLengths[i];
        }

        if (total > frames.Length)
        {
            throw new ArgumentException(
                $"The frame lengths add up to {total} bytes; the frames hold {frames.Length}.", nameof(frameLengths));
        }
    }

    /// <summary>
    /// <see cref="IFrameTransport.SendBatch"/> done frame by frame through <paramref name="transport"/>'s
    /// <see cref="IFrameTransport.Send"/> (the interface's default, and what a transport without a
    /// batched system call may call): validated first; a failure after the first frame ends the
    /// batch with the count sent, the first frame's is thrown.
    /// </summary>
    public static int SendEach(IFrameTransport transport, ReadOnlySpan<byte> frames, ReadOnlySpan<int> frameLengths)
    {
        Validate(frames, frameLengths);
        int offset = 0;
        for (int i = 0; i < frameLengths.Length; i++)
        {
            try
            {
                transport.Send(frames.Slice(offset, frameLengths[i]));
            }
            catch (FrameTransportException) when (i > 0)
            {
                return i;
            }

            offset += frameLengths[i];
        }

        return frameLengths.Length;
    }
}
