using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>
/// One place in a queue's ring: a record's fields stored inline, so that a producer's write and
/// the consumer's read touch consecutive memory and follow no pointer. Up to
/// <see cref="LogQueue.InlinePairs"/> dictionary pairs go into the ring's pair array at the
/// slot's index; a record with more uses the slot's own overflow array (kept for reuse).
/// </summary>
internal struct LogSlot
{
    /// <summary>The slot's publication number (see <see cref="LogQueue"/>).</summary>
    public uint Sequence;
    public int Level;
    public int ThreadId;
    public int Cpu;
    public int PairCount;
    public ulong TimestampMicroseconds;
    public long DroppedBefore;
    public EventId EventId;
    public string Category;
    public string Message;
    public Exception? Exception;
    public string? ThreadName;
    public KeyValuePair<string, object?>[]? Overflow;

    /// <summary>A ring's pair array: <see cref="LogQueue.InlinePairs"/> places per slot, at the slot's index.</summary>
    public static KeyValuePair<string, object?>[] NewPairs(int capacity) => new KeyValuePair<string, object?>[capacity * LogQueue.InlinePairs];

    public void Store(LogEntry entry, KeyValuePair<string, object?>[] pairs, uint index)
    {
        Level = entry.Level;
        ThreadId = entry.ThreadId;
        Cpu = entry.Cpu;
        TimestampMicroseconds = entry.TimestampMicroseconds;
        EventId = entry.EventId;
        Category = entry.Category;
        Message = entry.Message;
        Exception = entry.Exception;
        ThreadName = entry.ThreadName;
        ReadOnlySpan<KeyValuePair<string, object?>> source = CollectionsMarshal.AsSpan(entry.Pairs);
        PairCount = source.Length;
        if (source.Length <= LogQueue.InlinePairs)
        {
            source.CopyTo(pairs.AsSpan((int)index * LogQueue.InlinePairs, LogQueue.InlinePairs));
        }
        else
        {
            if (Overflow is null || Overflow.Length < source.Length)
            {
                Overflow = new KeyValuePair<string, object?>[Math.Max(source.Length, LogQueue.InlinePairs * 4)];
            }

            source.CopyTo(Overflow);
        }
    }

    /// <summary>
    /// After <see cref="Load"/>: a message or string value longer than <see cref="LogQueue.LargeMessage"/>
    /// chars is let go now instead of when the slot's next record overwrites it (a 10 MiB message
    /// was kept so, twice: as the message and as its value). Writes only when one is found.
    /// </summary>
    public void ReleaseLarge(KeyValuePair<string, object?>[] pairs, uint index)
    {
        if (Message.Length > LogQueue.LargeMessage)
        {
            Message = string.Empty;
        }

        Span<KeyValuePair<string, object?>> stored = PairCount <= LogQueue.InlinePairs
            ? pairs.AsSpan((int)index * LogQueue.InlinePairs, PairCount)
            : Overflow.AsSpan(0, PairCount);
        foreach (ref KeyValuePair<string, object?> pair in stored)
        {
            if (pair.Value is string { Length: > LogQueue.LargeMessage })
            {
                pair = new KeyValuePair<string, object?>(pair.Key, null);
            }
        }
    }

    public readonly void Load(LogEntry entry, KeyValuePair<string, object?>[] pairs, uint index)
    {
        entry.Level = Level;
        entry.ThreadId = ThreadId;
        entry.Cpu = Cpu;
        entry.TimestampMicroseconds = TimestampMicroseconds;
        entry.EventId = EventId;
        entry.Category = Category;
        entry.Message = Message;
        entry.Exception = Exception;
        entry.ThreadName = ThreadName;
        entry.DroppedBefore = DroppedBefore;
        entry.Pairs.Clear();
        entry.Pairs.AddRange(PairCount <= LogQueue.InlinePairs
            ? pairs.AsSpan((int)index * LogQueue.InlinePairs, PairCount)
            : Overflow.AsSpan(0, PairCount));
    }
}
