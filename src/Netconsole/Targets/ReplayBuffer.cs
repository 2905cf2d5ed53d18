using System.Buffers;
using System.Buffers.Binary;
using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>
/// A target's replay buffer: records formatted while the target could not send, kept as their
/// datagrams (so sequence numbers, timestamps and a continued group's numbers are fixed when the
/// record was offered), oldest first, within limits in records, bytes and age. Owned by the
/// target's send lock: not thread-safe.
/// </summary>
/// <remarks>
/// Each record's datagrams sit in one array rented from <see cref="ArrayPool{T}.Shared"/>, each
/// datagram behind its length (two bytes, big-endian): memory is taken only while an outage lasts
/// and given back as records go out, and an enabled target with an empty buffer never touches it.
/// The byte limit counts the datagrams' bytes (the lengths included), not the pool's rounding.
/// </remarks>
internal sealed class ReplayBuffer
{
    private const int LengthBytes = 2;

    private int _maxRecords;
    private long _maxBytes;
    private long _maxAgeTicks;
    private Entry[] _entries = [];
    private int _head;
    private int _count;
    private long _bytes;

    // The spool (null while nothing waits, or without a spool directory); after a failed write
    // none until the buffer is next empty.
    private string? _spoolDirectory;
    private string _spoolTarget = "";
    private bool _spoolExtended;
    private SpoolFile? _spool;
    private bool _spoolBroken;

    /// <param name="maxRecords">At most this many records (at least 1).</param>
    /// <param name="maxBytes">At most this many bytes of datagrams (at least 1).</param>
    /// <param name="maxAgeTicks">A record older than this, in the clock's timestamp ticks, is dropped (at least 1).</param>
    public ReplayBuffer(int maxRecords, long maxBytes, long maxAgeTicks)
    {
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        _maxAgeTicks = maxAgeTicks;
    }

    /// <summary>Takes new limits (a reconfigured target), dropping the oldest records beyond them.</summary>
    public void Limit(int maxRecords, long maxBytes, long maxAgeTicks, Action<TargetDropReason> drop)
    {
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
        _maxAgeTicks = maxAgeTicks;
        while (_count > 0 && (_count > _maxRecords || _bytes > _maxBytes))
        {
            DropOldest(drop, TargetDropReason.ReplayBufferFull);
        }

        if (_count == 0)
        {
            _entries = [];
            _head = 0;
        }
    }

    /// <summary>Records waiting.</summary>
    public int Count => _count;

    /// <summary>Spool operations that failed (a file that could not be created or written); the records stay in memory.</summary>
    public long SpoolErrors { get; private set; }

    /// <summary>The spool file while records wait in it (tests).</summary>
    internal string? SpoolPath => _spool?.Path;

    /// <summary>
    /// Keeps what waits in a spool file in <paramref name="directory"/> too (null: no spool), for
    /// the target named <paramref name="targetName"/>, whose records are in the extended format or
    /// not. A new directory moves what waits there at the next record.
    /// </summary>
    public void SetSpool(string? directory, string targetName, bool extended)
    {
        if (_spoolDirectory == directory && _spoolTarget == targetName && _spoolExtended == extended)
        {
            return;
        }

        DeleteSpool();
        _spoolDirectory = directory;
        _spoolTarget = targetName;
        _spoolExtended = extended;
    }

    /// <summary>This process stops: the spool file stays, unlocked, for the next process to send what waits.</summary>
    public void DetachSpool()
    {
        _spool?.Dispose();
        _spool = null;
        _spoolDirectory = null;
    }

    /// <summary>Bytes of datagrams waiting (lengths included).</summary>
    public long Bytes => _bytes;

    /// <summary>Datagrams of the oldest record already sent (a replay stopped part way resumes after them).</summary>
    public int HeadDatagramsSent
    {
        get => _entries[_head].DatagramsSent;
        set => _entries[_head].DatagramsSent = value;
    }

    /// <summary>The bytes a record takes in the buffer.</summary>
    public static long Cost(FormattedRecord formatted, int fromDatagram)
    {
        long bytes = 0;
        int index = 0;
        foreach (ReadOnlySpan<byte> datagram in formatted)
        {
            if (index++ >= fromDatagram)
            {
                bytes += LengthBytes + datagram.Length;
            }
        }

        return bytes;
    }

    /// <summary>
    /// Appends a record's datagrams from <paramref name="fromDatagram"/> on (the earlier ones went
    /// out), dropping the oldest records first to make room; <paramref name="drop"/> counts each.
    /// </summary>
    /// <returns>False when the record alone is larger than the byte limit: it is not kept (the caller counts it).</returns>
    public bool Add(FormattedRecord formatted, int fromDatagram, long now, Action<TargetDropReason> drop)
    {
        long cost = Cost(formatted, fromDatagram);
        if (cost > _maxBytes)
        {
            return false;
        }

        MakeRoom(cost, now, drop);
        byte[] data = ArrayPool<byte>.Shared.Rent((int)cost);
        int at = 0;
        int index = 0;
        foreach (ReadOnlySpan<byte> datagram in formatted)
        {
            if (index++ < fromDatagram)
            {
                continue;
            }

            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), (ushort)datagram.Length);
            datagram.CopyTo(data.AsSpan(at + LengthBytes));
            at += LengthBytes + datagram.Length;
        }

        Store(data, at, now);
        return true;
    }

    /// <summary>
    /// Appends a record as stored (its datagrams behind their lengths: one an earlier process
    /// left in its spool), dropping the oldest first to make room.
    /// </summary>
    /// <returns>False when the record alone is larger than the byte limit: it is not kept (the caller counts it).</returns>
    public bool AddStored(ReadOnlySpan<byte> stored, long now, Action<TargetDropReason> drop)
    {
        if (stored.Length > _maxBytes)
        {
            return false;
        }

        MakeRoom(stored.Length, now, drop);
        byte[] data = ArrayPool<byte>.Shared.Rent(stored.Length);
        stored.CopyTo(data);
        Store(data, stored.Length, now);
        return true;
    }

    private void MakeRoom(long cost, long now, Action<TargetDropReason> drop)
    {
        DropExpired(now, drop);
        while (_count >= _maxRecords || _bytes + cost > _maxBytes)
        {
            DropOldest(drop, TargetDropReason.ReplayBufferFull);
        }
    }

    private void Store(byte[] data, int length, long now)
    {
        if (_count == _entries.Length)
        {
            Grow();
        }

        _entries[(_head + _count) % _entries.Length] = new Entry(data, length, now);
        _count++;
        _bytes += length;
        if (_spoolDirectory is not null && !_spoolBroken)
        {
            Spool(data.AsSpan(0, length));
        }
    }

    // The record just stored goes to the spool too: a new file holds everything that waits.
    private void Spool(ReadOnlySpan<byte> record)
    {
        try
        {
            if (_spool is null)
            {
                _spool = SpoolFile.Create(_spoolDirectory!, _spoolTarget, _spoolExtended);
                foreach (ReadOnlyMemory<byte> waiting in Waiting())
                {
                    _spool.Append(waiting.Span);
                }
            }
            else
            {
                _spool.Append(record);

                // Consumed records stay in the file until it is rewritten: at twice what waits (and
                // 64 KiB), so each byte appended is rewritten about once at most.
                if (_spool.Length > (2 * (_bytes + ((long)_count * SpoolFile.RecordHeaderSize))) + (64 * 1024))
                {
                    _spool.Rewrite(Waiting());
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            SpoolFailed();
        }
    }

    private IEnumerable<ReadOnlyMemory<byte>> Waiting()
    {
        for (int i = 0; i < _count; i++)
        {
            Entry entry = _entries[(_head + i) % _entries.Length];
            yield return entry.Data.AsMemory(0, entry.Length);
        }
    }

    // A spool that could not be written is worse than none (a crash would resend what went out):
    // it goes, and none is kept until the buffer is next empty. The records stay in memory.
    private void SpoolFailed()
    {
        SpoolErrors++;
        _spoolBroken = true;
        DeleteSpool();
    }

    private void DeleteSpool()
    {
        SpoolFile? spool = _spool;
        _spool = null;
        spool?.Delete();
    }

    /// <summary>Drops the records that waited longer than the age limit, oldest first.</summary>
    public void DropExpired(long now, Action<TargetDropReason> drop)
    {
        while (_count > 0 && now - _entries[_head].Added > _maxAgeTicks)
        {
            DropOldest(drop, TargetDropReason.ReplayExpired);
        }
    }

    /// <summary>The datagrams of the oldest record (the buffer must not be empty); valid until it is removed.</summary>
    public DatagramReader PeekOldest()
    {
        Entry entry = _entries[_head];
        return new DatagramReader(entry.Data.AsSpan(0, entry.Length));
    }

    /// <summary>Removes the oldest record (it went out, or the caller counted it dropped).</summary>
    public void RemoveOldest()
    {
        ref Entry entry = ref _entries[_head];
        _bytes -= entry.Length;
        ArrayPool<byte>.Shared.Return(entry.Data);
        entry = default;
        _head = (_head + 1) % _entries.Length;
        _count--;
        if (_spool is not null)
        {
            try
            {
                if (_count == 0)
                {
                    DeleteSpool(); // nothing waits: no file
                }
                else
                {
                    _spool.Consume();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                SpoolFailed();
            }
        }

        if (_count == 0)
        {
            _spoolBroken = false;
        }
    }

    /// <summary>Drops every record, counting each under <paramref name="reason"/>.</summary>
    public void Clear(Action<TargetDropReason> drop, TargetDropReason reason)
    {
        while (_count > 0)
        {
            DropOldest(drop, reason);
        }
    }

    private void DropOldest(Action<TargetDropReason> drop, TargetDropReason reason)
    {
        RemoveOldest();
        drop(reason);
    }

    // Doubles, up to the record limit: a short outage takes little.
    private void Grow()
    {
        var entries = new Entry[Math.Min(_maxRecords, Math.Max(16, _entries.Length * 2))];
        for (int i = 0; i < _count; i++)
        {
            entries[i] = _entries[(_head + i) % _entries.Length];
        }

        _entries = entries;
        _head = 0;
    }

    private record struct Entry(byte[] Data, int Length, long Added)
    {
        public int DatagramsSent { get; set; }
    }

    /// <summary>Walks a buffered record's datagrams.</summary>
    public ref struct DatagramReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        /// <summary>The next datagram, or false at the end.</summary>
        public bool TryNext(out ReadOnlySpan<byte> datagram)
        {
            if (_rest.IsEmpty)
            {
                datagram = default;
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(_rest);
            datagram = _rest.Slice(LengthBytes, length);
            _rest = _rest[(LengthBytes + length)..];
            return true;
        }
    }
}
