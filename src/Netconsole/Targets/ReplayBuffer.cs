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

        DropExpired(now, drop);
        while (_count >= _maxRecords || _bytes + cost > _maxBytes)
        {
            DropOldest(drop, TargetDropReason.ReplayBufferFull);
        }

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

        if (_count == _entries.Length)
        {
            Grow();
        }

        _entries[(_head + _count) % _entries.Length] = new Entry(data, at, now);
        _count++;
        _bytes += at;
        return true;
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
