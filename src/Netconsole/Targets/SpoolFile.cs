using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Netconsole.Targets;

/// <summary>
/// A target's spool: the records waiting in its replay buffer, also in a file, so that the next
/// process with the same target (same <see cref="NetconsoleTargetOptions.SpoolDirectory"/> and
/// target name) sends what a crash left unsent. Owned by the replay buffer (the target's send lock).
/// </summary>
/// <remarks>
/// <para>
/// Layout: a 32-byte header (<c>NCSPOOL1</c>, version, the writer's pid, the number of records
/// already consumed), then records appended one write each: magic, payload length, ordinal,
/// CRC-32 of ordinal and payload, payload (the record's datagrams, each behind its 2-byte
/// big-endian length). A record sent or dropped is consumed by rewriting the header's counter
/// (8 bytes in one page: a kill cannot tear it).
/// </para>
/// <para>
/// Crash consistency: a process killed while appending leaves a record cut short or half
/// written; its length or CRC does not match, and a reader stops there. Nothing half is ever
/// sent. Records live in the page cache once written, so they survive the death of the process
/// (kill -9, an abort), not the loss of the machine's power: the file is never synced.
/// </para>
/// <para>
/// The file is locked (flock, taken by opening it with <see cref="FileShare.None"/>) while its
/// process lives; the kernel releases the lock when the process dies, however it dies. A file
/// of this target whose lock can be taken belongs to a dead process and is adopted.
/// </para>
/// </remarks>
internal sealed class SpoolFile : IDisposable
{
    internal const int HeaderSize = 32;
    internal const int RecordHeaderSize = 20;
    internal const string Extension = ".spool";
    private const string TemporaryExtension = ".new";
    private const uint RecordMagic = 0x4E435245; // "NCRE"
    private const int Version = 1;
    private const int ConsumedOffset = 16;
    private const int FormatOffset = 24;
    private static readonly byte[] FileMagic = "NCSPOOL1"u8.ToArray();
    private static int s_instances;

    private readonly bool _extended;
    private SafeFileHandle _handle;
    private long _length;
    private ulong _consumed;
    private ulong _next;
    private byte[] _scratch = new byte[256];

    private SpoolFile(string path, SafeFileHandle handle, long length, bool extended)
    {
        Path = path;
        _extended = extended;
        _handle = handle;
        _length = length;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length => _length;

    /// <summary>The file name prefix of a target's spools: its name, made safe for a file name.</summary>
    internal static string Prefix(string targetName)
    {
        var name = new StringBuilder(targetName.Length);
        foreach (char c in targetName)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        // Names that differ only in unsafe characters must not share files: a hash of the real name follows.
        uint hash = Crc32(Encoding.UTF8.GetBytes(targetName), 0);
        return string.Create(CultureInfo.InvariantCulture, $"{name}-{hash:x8}.");
    }

    /// <summary>Creates this process's spool file for the target in <paramref name="directory"/> (created if missing), locked.</summary>
    /// <param name="directory">The spool directory.</param>
    /// <param name="targetName">The target's name.</param>
    /// <param name="extended">Whether its records are in the extended format (a later process marks those it sends).</param>
    /// <exception cref="IOException">The directory or the file cannot be created or written.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission.</exception>
    public static SpoolFile Create(string directory, string targetName, bool extended)
    {
        CreateDirectory(directory);
        int pid = Environment.ProcessId;
        string path = System.IO.Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix(targetName)}{pid}-{Interlocked.Increment(ref s_instances)}{Extension}"));
        SafeFileHandle handle = OpenPrivate(path);
        try
        {
            var spool = new SpoolFile(path, handle, 0, extended);
            spool.WriteHeader(handle, 0);
            spool._length = HeaderSize;
            return spool;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Appends a record (its payload: datagrams behind their lengths) in one write.</summary>
    public void Append(ReadOnlySpan<byte> payload)
    {
        int size = RecordHeaderSize + payload.Length;
        if (_scratch.Length < size)
        {
            _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
        }

        Span<byte> record = _scratch.AsSpan(0, size);
        WriteRecord(record, _next, payload);
        RandomAccess.Write(_handle, record, _length);
        _length += size;
        _next++;
    }

    /// <summary>The oldest record went out or was dropped: the header's counter moves past it.</summary>
    public void Consume()
    {
        _consumed++;
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(counter, _consumed);
        RandomAccess.Write(_handle, counter, ConsumedOffset);
    }

    /// <summary>
    /// Replaces the file by one holding only <paramref name="live"/> (the records still waiting,
    /// oldest first): written beside it, locked, then renamed over it, so a kill at any point leaves
    /// one whole file.
    /// </summary>
    public void Rewrite(IEnumerable<ReadOnlyMemory<byte>> live)
    {
        string temporary = Path + TemporaryExtension;
        SafeFileHandle handle = OpenPrivate(temporary);
        try
        {
            WriteHeader(handle, _consumed);
            long length = HeaderSize;
            ulong ordinal = _consumed;
            foreach (ReadOnlyMemory<byte> payload in live)
            {
                int size = RecordHeaderSize + payload.Length;
                if (_scratch.Length < size)
                {
                    _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
                }

                WriteRecord(_scratch.AsSpan(0, size), ordinal++, payload.Span);
                RandomAccess.Write(handle, _scratch.AsSpan(0, size), length);
                length += size;
            }

            File.Move(temporary, Path, overwrite: true);
            _handle.Dispose();
            _handle = handle;
            _length = length;
            _next = ordinal;
        }
        catch
        {
            handle.Dispose();
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Nothing waits any more: the file goes.</summary>
    public void Delete()
    {
        TryDelete(Path);
        _handle.Dispose();
    }

    /// <summary>Closes the file and leaves it for the next process (this one stops).</summary>
    public void Dispose() => _handle.Dispose();

    /// <summary>
    /// The spools of this target left by processes that are gone (their lock is free), each
    /// opened and locked: read its records, then <see cref="Adopted.Delete"/> it. Files that
    /// cannot be read are skipped (<paramref name="errors"/> counts them).
    /// </summary>
    public static List<Adopted> FindOrphans(string directory, string targetName, ref long errors)
    {
        var found = new List<Adopted>();
        if (!Directory.Exists(directory))
        {
            return found; // nothing spooled yet (or not a directory: the first write says so)
        }

        string[] paths;
        try
        {
            paths = Directory.GetFiles(directory, Prefix(targetName) + "*" + Extension);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors++;
            return found;
        }

        // A rewrite cut short by the death of its process leaves its temporary file: unlocked, it goes.
        try
        {
            foreach (string temporary in Directory.GetFiles(directory, Prefix(targetName) + "*" + Extension + TemporaryExtension))
            {
                try
                {
                    using SafeFileHandle unused = File.OpenHandle(temporary, FileMode.Open, FileAccess.Read, FileShare.None);
                    TryDelete(temporary);
                }
                catch (IOException)
                {
                    // Locked: a live process is rewriting its spool.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors++;
        }

        Array.Sort(paths, StringComparer.Ordinal);
        foreach (string path in paths)
        {
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.None);
            }
            catch (IOException)
            {
                continue; // locked: a live process's own spool (this one's included); or gone meanwhile
            }
            catch (UnauthorizedAccessException)
            {
                errors++;
                continue;
            }

            try
            {
                found.Add(Read(path, handle));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors++;
                handle.Dispose();
            }
        }

        return found;
    }

    /// <summary>Reads a spool: its writer's pid and its whole records not yet consumed, up to the first that is torn.</summary>
    internal static Adopted Read(string path, SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        byte[] file = new byte[(int)Math.Min(length, int.MaxValue)];
        int read = 0;
        while (read < file.Length)
        {
            int n = RandomAccess.Read(handle, file.AsSpan(read), read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        var adopted = new Adopted(path, handle);
        ReadOnlySpan<byte> data = file.AsSpan(0, read);
        if (data.Length < HeaderSize || !data[..8].SequenceEqual(FileMagic) || BinaryPrimitives.ReadInt32LittleEndian(data[8..]) != Version)
        {
            adopted.TornRecords = data.Length > 0 ? 1 : 0; // not a spool this version wrote whole
            return adopted;
        }

        adopted.Pid = BinaryPrimitives.ReadInt32LittleEndian(data[12..]);
        adopted.Extended = data[FormatOffset] == 1;
        ulong consumed = BinaryPrimitives.ReadUInt64LittleEndian(data[ConsumedOffset..]);
        int at = HeaderSize;
        while (at < data.Length)
        {
            ReadOnlySpan<byte> rest = data[at..];
            if (rest.Length < RecordHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(rest) != RecordMagic)
            {
                adopted.TornRecords++;
                break;
            }

            int payloadLength = BinaryPrimitives.ReadInt32LittleEndian(rest[4..]);
            ulong ordinal = BinaryPrimitives.ReadUInt64LittleEndian(rest[8..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[16..]);
            if (payloadLength <= 0 || payloadLength > rest.Length - RecordHeaderSize
                || crc != Crc32(rest.Slice(RecordHeaderSize, payloadLength), Crc32(rest.Slice(8, 8), 0))
                || !WholeDatagrams(rest.Slice(RecordHeaderSize, payloadLength)))
            {
                adopted.TornRecords++;
                break; // records are appended in order: nothing whole follows a torn one
            }

            if (ordinal >= consumed)
            {
                adopted.Records.Add(rest.Slice(RecordHeaderSize, payloadLength).ToArray());
            }

            at += RecordHeaderSize + payloadLength;
        }

        return adopted;
    }

    // Datagrams behind their lengths, filling the payload exactly, none empty.
    private static bool WholeDatagrams(ReadOnlySpan<byte> payload)
    {
        while (!payload.IsEmpty)
        {
            if (payload.Length < 2)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (length == 0 || length > payload.Length - 2)
            {
                return false;
            }

            payload = payload[(2 + length)..];
        }

        return true;
    }

    private void WriteHeader(SafeFileHandle handle, ulong consumed)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        header.Clear();
        FileMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], Environment.ProcessId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ConsumedOffset..], consumed);
        header[FormatOffset] = _extended ? (byte)1 : (byte)0;
        RandomAccess.Write(handle, header, 0);
    }

    private static void WriteRecord(Span<byte> record, ulong ordinal, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], ordinal);
        BinaryPrimitives.WriteUInt32LittleEndian(record[16..], Crc32(payload, Crc32(record.Slice(8, 8), 0)));
        payload.CopyTo(record[RecordHeaderSize..]);
    }

    // Logs may be confidential: the directory (when this creates it) and the files are the user's alone.
    private static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    // Created (or emptied) and locked, readable and writable by the user alone, before anything is written.
    private static SafeFileHandle OpenPrivate(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                File.SetUnixFileMode(handle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        return handle;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next process adopts it, or it was gone already.
        }
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>CRC-32 (IEEE 802.3, reflected, as zlib's), continued from <paramref name="crc"/> (0 to start).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data, uint crc)
    {
        uint[] table = CrcTable;
        crc = ~crc;
        foreach (byte b in data)
        {
            crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    /// <summary>A spool of a process that is gone, locked by this one until deleted or disposed.</summary>
    internal sealed class Adopted(string path, SafeFileHandle handle) : IDisposable
    {
        /// <summary>The file.</summary>
        public string Path { get; } = path;

        /// <summary>The pid of the process that wrote it (0 when the header is unreadable).</summary>
        public int Pid { get; set; }

        /// <summary>Whether its records are in the extended format.</summary>
        public bool Extended { get; set; }

        /// <summary>Its whole records not yet consumed, oldest first (each: datagrams behind their lengths).</summary>
        public List<byte[]> Records { get; } = [];

        /// <summary>Records found torn (cut short or damaged by a kill during a write) and ignored: 0 or 1.</summary>
        public int TornRecords { get; set; }

        /// <summary>Its records are in this process's care: the file goes.</summary>
        public void Delete()
        {
            TryDelete(Path);
            handle.Dispose();
        }

        /// <summary>Leaves the file (unlocked) for another try.</summary>
        public void Dispose() => handle.Dispose();
    }
}
