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
