using System.Buffers.Binary;

namespace Netconsole.Wire;

/// <summary>
/// Writes Ethernet frames to a classic pcap file (the libpcap format tcpdump and Wireshark
/// read), in pure managed code, so frames can be captured to a file on a machine without
/// libpcap.
/// </summary>
/// <remarks>
/// The file is little-endian, version 2.4, microsecond timestamps, link type 1 (Ethernet),
/// snapshot length <see cref="SnapshotLength"/>. The global header is written by the
/// constructor. <see cref="Write(ReadOnlySpan{byte}, DateTimeOffset)"/> may be called from
/// several threads: records are never interleaved.
/// </remarks>
public sealed class PcapFileWriter : IDisposable
{
    /// <summary>
    /// The snapshot length written in the header, in bytes: 65535, the classic maximum. A
    /// longer frame is stored truncated to it, with its original length recorded.
    /// </summary>
    public const int SnapshotLength = 65535;

    internal const uint MagicMicroseconds = 0xa1b2c3d4;
    internal const uint MagicNanoseconds = 0xa1b23c4d;
    internal const uint LinkTypeEthernet = 1;
    internal const int GlobalHeaderLength = 24;
    internal const int RecordHeaderLength = 16;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Creates (or truncates) the pcap file at <paramref name="path"/> and writes its header.</summary>
    /// <param name="path">The file path.</param>
    public PcapFileWriter(string path)
        : this(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), leaveOpen: false)
    {
    }

    /// <summary>Writes a pcap file to <paramref name="stream"/>, starting with its header.</summary>
    /// <param name="stream">A writable stream, positioned where the file starts.</param>
    /// <param name="leaveOpen">
    /// Whether <see cref="Dispose"/> leaves the stream open. The default is false: the writer
    /// owns the stream.
    /// </param>
    /// <exception cref="ArgumentException">The stream is not writable.</exception>
    public PcapFileWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;

        Span<byte> header = stackalloc byte[GlobalHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, MagicMicroseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2); // version major
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4); // version minor
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0); // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapshotLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        _stream.Write(header);
    }

    /// <summary>Appends <paramref name="frame"/> with the current time as its timestamp.</summary>
    /// <param name="frame">The Ethernet frame.</param>
    public void Write(ReadOnlySpan<byte> frame) => Write(frame, DateTimeOffset.UtcNow);

    /// <summary>Appends <paramref name="frame"/> with the given timestamp.</summary>
    /// <param name="frame">The Ethernet frame.</param>
    /// <param name="timestamp">
    /// The capture time; stored as UTC seconds and microseconds since 1970-01-01 (anything
    /// finer is truncated).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The timestamp is before 1970 or after 2106 (pcap stores unsigned 32-bit seconds).
    /// </exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    public void Write(ReadOnlySpan<byte> frame, DateTimeOffset timestamp)
    {
        long microseconds = (timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
        long seconds = Math.DivRem(microseconds, 1_000_000, out long fraction);
        if (microseconds < 0 || seconds > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timestamp), timestamp, "A pcap timestamp lies between 1970 and 2106.");
        }

        int included = Math.Min(frame.Length, SnapshotLength);
        Span<byte> header = stackalloc byte[RecordHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)fraction);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)included);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)frame.Length);

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Write(header);
            _stream.Write(frame[..included]);
        }
    }

    /// <summary>Flushes the written records to the stream's underlying storage.</summary>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    public void Flush()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Flush();
        }
    }

    /// <summary>Flushes, and closes the stream unless it was opened with leaveOpen.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stream.Flush();
            if (!_leaveOpen)
            {
                _stream.Dispose();
            }
        }
    }
}

/// <summary>One frame read back from a pcap file.</summary>
/// <param name="Timestamp">The capture time (UTC).</param>
/// <param name="Frame">The stored frame bytes (possibly truncated to the file's snapshot length).</param>
/// <param name="OriginalLength">The frame's length on the wire, in bytes.</param>
internal readonly record struct PcapRecord(DateTimeOffset Timestamp, byte[] Frame, int OriginalLength);

/// <summary>
/// Reads classic pcap files of Ethernet frames (both byte orders, microsecond or nanosecond
/// timestamps): what tests need to check what <see cref="PcapFileWriter"/> and the send
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
