using System.Buffers.Binary;
using Netconsole.Wire;

namespace Netconsole.Tests.Support;

/// <summary>One frame read back from a pcap file.</summary>
/// <param name="Timestamp">The capture time (UTC).</param>
/// <param name="Frame">The stored frame bytes (possibly truncated to the file's snapshot length).</param>
/// <param name="OriginalLength">The frame's length on the wire, in bytes.</param>
internal readonly record struct PcapRecord(DateTimeOffset Timestamp, byte[] Frame, int OriginalLength);

/// <summary>
/// Reads classic pcap files of Ethernet frames (both byte orders, microsecond or nanosecond
/// timestamps): what tests need to check what <c>PcapFileWriter</c> and the send
/// tool wrote.
/// </summary>
internal static class PcapFileReader
{
    /// <summary>Reads every record of the pcap file at <paramref name="path"/>.</summary>
    public static List<PcapRecord> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return Read(stream);
    }

    /// <summary>Reads every record of the pcap file in <paramref name="stream"/>, from its current position.</summary>
    /// <exception cref="InvalidDataException">Not a pcap file of Ethernet frames, or truncated.</exception>
    public static List<PcapRecord> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[PcapFileWriter.GlobalHeaderLength];
        if (!ReadFully(stream, header))
        {
            throw new InvalidDataException("The pcap file is shorter than its 24-byte header.");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        bool bigEndian = magic is 0xd4c3b2a1 or 0x4d3cb2a1;
        if (bigEndian)
        {
            magic = BinaryPrimitives.ReverseEndianness(magic);
        }

        if (magic is not (PcapFileWriter.MagicMicroseconds or PcapFileWriter.MagicNanoseconds))
        {
            throw new InvalidDataException($"Not a classic pcap file (magic 0x{magic:x8}).");
        }

        long ticksPerFraction = magic == PcapFileWriter.MagicNanoseconds ? 0 : TimeSpan.TicksPerMicrosecond;
        uint linkType = Read32(header[20..], bigEndian);
        if (linkType != PcapFileWriter.LinkTypeEthernet)
        {
            throw new InvalidDataException($"The pcap file's link type is {linkType}, not 1 (Ethernet).");
        }

        var records = new List<PcapRecord>();
        Span<byte> recordHeader = stackalloc byte[PcapFileWriter.RecordHeaderLength];
        while (true)
        {
            int n = stream.ReadAtLeast(recordHeader, recordHeader.Length, throwOnEndOfStream: false);
            if (n == 0)
            {
                return records;
            }

            if (n < recordHeader.Length)
            {
                throw new InvalidDataException($"Record {records.Count} has a truncated header.");
            }

            uint seconds = Read32(recordHeader, bigEndian);
            uint fraction = Read32(recordHeader[4..], bigEndian);
            uint included = Read32(recordHeader[8..], bigEndian);
            uint original = Read32(recordHeader[12..], bigEndian);
            if (included > int.MaxValue || original > int.MaxValue)
            {
                throw new InvalidDataException($"Record {records.Count} claims {included} bytes.");
            }

            var frame = new byte[included];
            if (!ReadFully(stream, frame))
            {
                throw new InvalidDataException($"Record {records.Count} is truncated.");
            }

            long fractionTicks = ticksPerFraction == 0 ? fraction / 100 : fraction * ticksPerFraction;
            var timestamp = DateTimeOffset.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + fractionTicks);
            records.Add(new PcapRecord(timestamp, frame, (int)original));
        }
    }

    private static uint Read32(ReadOnlySpan<byte> bytes, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private static bool ReadFully(Stream stream, Span<byte> buffer) =>
        stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
}
