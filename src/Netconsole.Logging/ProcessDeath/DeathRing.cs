using System.Runtime.CompilerServices;
using System.Text;

namespace Netconsole.Logging.ProcessDeath;

/// <summary>
/// The memory the application shares with its watchdog (<c>NetconsoleLoggerOptions.CaptureProcessDeath</c>):
/// a header, the watchdog's settings, and a ring of fixed-size record slots. Compiled into both
/// Netconsole.Logging (the writer) and Netconsole.Watchdog (the reader), so the layout has one
/// definition.
/// </summary>
/// <remarks>
/// <para>
/// Layout (all little-endian, native order of the one machine both run on):
/// <c>[0, 4096)</c> the header: magic, version, slot count and size, the settings' length, the
/// state word (<see cref="StateStarting"/> ...), the watchdog's failure text, and, on a cache line
/// of their own, what the sender thread has handed to the targets (the queue position after the
/// last record sent, the next sequence number, each target's sequence skew);
/// <c>[4096, 65536)</c> the settings (UTF-8 text, <see cref="WatchdogSettings"/>), cleared by the
/// watchdog once read (a signing secret stays in it only that long);
/// <c>[65536, ...)</c> <see cref="SlotCount"/> slots of <see cref="SlotSize"/> bytes.
/// </para>
/// <para>
/// A slot holds the record queued at a position p, at index p mod <see cref="SlotCount"/>: so
/// the ring's order is the queue's. The logging thread that queued the record writes its slot
/// after the queue took it, with plain stores: it clears the slot's word, writes the fields and
/// the text (UTF-16, no encoding on the logging thread), then publishes the word (p, marked
/// valid) with a release store. No system call, no lock, no allocation. A process killed in the
/// middle of a slot leaves its word clear: the watchdog skips that one slot. The watchdog reads
/// the ring only after the application is dead, so nothing is read while it is written.
/// </para>
/// </remarks>
internal sealed unsafe class DeathRing
{
    /// <summary>"NCWATCH1" as a little-endian word.</summary>
    public const ulong Magic = 0x3148435441574E43;

    public const int Version = 1;

    public const int HeaderSize = 4096;
    public const int SettingsOffset = HeaderSize;
    public const int SettingsCapacity = 65536 - HeaderSize;
    public const int RingOffset = 65536;

    /// <summary>
    /// Slots in the ring: records queued and not yet sent beyond this many overwrite the oldest.
    /// 1024 slots of 512 bytes (512 KiB) stay within a core's L2 cache on the VM measured: 2048 of
    /// 1 KiB (2 MiB) cost the logging call 1.3-1.45x instead of 1.04-1.08x, in cache misses
    /// (bench death-cost, 64 slots: 1.02-1.05x).
    /// </summary>
    public const int SlotCount = 1024;

    /// <summary>Bytes per slot.</summary>
    public const int SlotSize = 512;

    /// <summary>The size of the shared file: 512 KiB of ring plus 64 KiB.</summary>
    public const int TotalSize = RingOffset + SlotCount * SlotSize;

    /// <summary>Targets whose sequence skew is kept (the first ones configured).</summary>
    public const int MaxTargets = 32;

    public const int StateStarting = 0;
    public const int StateReady = 1;
    public const int StateCleanExit = 2;
    public const int StateFailed = 3;

    // Header fields.
    private const int MagicAt = 0;
    private const int VersionAt = 8;
    private const int SlotCountAt = 12;
    private const int SlotSizeAt = 16;
    private const int SettingsLengthAt = 20;
    private const int StateAt = 24;
    private const int FailureLengthAt = 28;
    private const int FailureAt = 32;
    private const int FailureCapacity = 960;
    private const int SentPositionAt = 1024; // own cache line: the sender thread writes it per record
    private const int NextSequenceAt = 1032;
    private const int SkewsAt = 1040;

    // Slot fields.
    private const int WordAt = 0;
    private const int TimestampAt = 8;
    private const int LevelAt = 16;
    private const int EventIdAt = 20;
    private const int CpuAt = 24;
    private const int ThreadIdAt = 28;
    private const int CategoryCharsAt = 32;
    private const int ThreadNameCharsAt = 34;
    private const int EventNameCharsAt = 36;
    private const int TextCharsAt = 38;
    private const int FlagsAt = 40;
    private const int TextTotalAt = 44;
    private const int CharsAt = 48;

    /// <summary>UTF-16 characters a slot holds in all (category, thread name, event name and text).</summary>
    public const int SlotChars = (SlotSize - CharsAt) / 2;

    /// <summary>The most characters of a category, thread name or event name kept in a slot.</summary>
    public const int MaxNameChars = 96;

    public const ushort NoThreadName = 0xFFFF;
    public const ushort FlagTruncated = 1;
    public const ushort FlagException = 2;

    private const ulong ValidBit = 1UL << 32;

    private readonly byte* _base;

    /// <summary>Wraps mapped memory of at least <see cref="TotalSize"/> bytes.</summary>
    public DeathRing(byte* memory) => _base = memory;

    public int State
    {
        get => Volatile.Read(ref Int(StateAt));
        set => Volatile.Write(ref Int(StateAt), value);
    }

    /// <summary>The watchdog: <see cref="StateStarting"/> becomes <see cref="StateReady"/>; false when the application already moved on.</summary>
    public bool TryMarkReady() => Interlocked.CompareExchange(ref Int(StateAt), StateReady, StateStarting) == StateStarting;

    /// <summary>Writes the header of a new ring and the settings text.</summary>
    public void Initialize(ReadOnlySpan<byte> settings)
    {
        if (settings.Length > SettingsCapacity)
        {
            throw new ArgumentException($"The watchdog's settings take {settings.Length} bytes; at most {SettingsCapacity} fit.", nameof(settings));
        }

        Long(MagicAt) = (long)Magic;
        Int(VersionAt) = Version;
        Int(SlotCountAt) = SlotCount;
        Int(SlotSizeAt) = SlotSize;
        settings.CopyTo(new Span<byte>(_base + SettingsOffset, SettingsCapacity));
        Int(SettingsLengthAt) = settings.Length;
        Long(SentPositionAt) = 0;
        State = StateStarting;
    }

    /// <summary>Whether the memory holds a ring of this version and shape.</summary>
    public bool IsValid =>
        (ulong)Long(MagicAt) == Magic && Int(VersionAt) == Version && Int(SlotCountAt) == SlotCount && Int(SlotSizeAt) == SlotSize
        && Int(SettingsLengthAt) is >= 0 and <= SettingsCapacity;

    /// <summary>The settings text.</summary>
    public string ReadSettings() => Encoding.UTF8.GetString(_base + SettingsOffset, Int(SettingsLengthAt));

    /// <summary>Clears the settings (the watchdog, once it has read them: a signing secret stays no longer in the file).</summary>
    public void ClearSettings()
    {
        new Span<byte>(_base + SettingsOffset, SettingsCapacity).Clear();
        Int(SettingsLengthAt) = 0;
    }

    /// <summary>The watchdog's failure, then <see cref="StateFailed"/>.</summary>
    public void Fail(string message)
    {
        Span<byte> text = new(_base + FailureAt, FailureCapacity);
        int length = Encoding.UTF8.GetBytes(message.AsSpan(0, Math.Min(message.Length, FailureCapacity / 3)), text);
        Int(FailureLengthAt) = length;
        State = StateFailed;
    }

    /// <summary>The watchdog's failure text (after <see cref="StateFailed"/>).</summary>
    public string FailureText => Encoding.UTF8.GetString(_base + FailureAt, Math.Clamp(Int(FailureLengthAt), 0, FailureCapacity));

    /// <summary>The queue position after the last record the sender handed to the targets.</summary>
    public long SentPosition => Volatile.Read(ref Long(SentPositionAt));

    /// <summary>The sequence number the next record would have had.</summary>
    public ulong NextSequence => (ulong)Volatile.Read(ref Long(NextSequenceAt));

    /// <summary>Target <paramref name="index"/>'s sequence skew (continued groups) when the last record was sent.</summary>
    public ulong Skew(int index) => (ulong)Long(SkewsAt + 8 * index);

    /// <summary>Sender thread: what it has sent so far (plain stores; the watchdog reads them after the death).</summary>
    public void PublishSent(long position, ulong nextSequence)
    {
        Long(NextSequenceAt) = (long)nextSequence;
        Volatile.Write(ref Long(SentPositionAt), position);
    }

    /// <summary>A record sent outside the queue took a sequence number.</summary>
    public void PublishSequence(ulong nextSequence) => Volatile.Write(ref Long(NextSequenceAt), (long)nextSequence);

    /// <summary>Sender thread: target <paramref name="index"/>'s sequence skew.</summary>
    public void PublishSkew(int index, ulong skew) => Long(SkewsAt + 8 * index) = (long)skew;

    /// <summary>
    /// Logging thread: the record queued at <paramref name="position"/> into its slot. Long texts
    /// are cut (marked); an exception keeps its type and message only (its stack trace is made on
    /// the sender thread, too costly here).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(uint position, int level, ulong timestamp, int eventId, string? eventName, string category, int cpu, int threadId, string? threadName, string message, Exception? exception)
    {
        byte* slot = _base + RingOffset + (long)(position & (SlotCount - 1)) * SlotSize;
        ref ulong word = ref *(ulong*)slot;
        word = 0;
        *(ulong*)(slot + TimestampAt) = timestamp;
        *(int*)(slot + LevelAt) = level;
        *(int*)(slot + EventIdAt) = eventId;
        *(int*)(slot + CpuAt) = cpu;
        *(int*)(slot + ThreadIdAt) = threadId;
        char* chars = (char*)(slot + CharsAt);
        int used = 0;
        *(ushort*)(slot + CategoryCharsAt) = Copy(category, chars, ref used, MaxNameChars);
        *(ushort*)(slot + ThreadNameCharsAt) = threadName is null ? NoThreadName : Copy(threadName, chars, ref used, MaxNameChars);
        *(ushort*)(slot + EventNameCharsAt) = Copy(eventName, chars, ref used, MaxNameChars);
        int room = SlotChars - used;
        ushort flags = 0;
        int total = message.Length;
        int kept = Math.Min(message.Length, room);
        message.AsSpan(0, kept).CopyTo(new Span<char>(chars + used, room));
        if (exception is not null)
        {
            flags |= FlagException;
            kept += AppendException(exception, chars + used + kept, room - kept, ref total);
        }

        if (kept < total)
        {
            flags |= FlagTruncated;
        }

        *(ushort*)(slot + TextCharsAt) = (ushort)kept;
        *(ushort*)(slot + FlagsAt) = flags;
        *(int*)(slot + TextTotalAt) = total;
        Volatile.Write(ref word, ValidBit | position);
    }

    /// <summary>Reads the slot that holds <paramref name="position"/>; false when it holds another position or none.</summary>
    public bool TryRead(uint position, out RingRecord record)
    {
        byte* slot = _base + RingOffset + (long)(position & (SlotCount - 1)) * SlotSize;
        ulong word = Volatile.Read(ref *(ulong*)slot);
        if (word != (ValidBit | position))
        {
            record = default;
            return false;
        }

        char* chars = (char*)(slot + CharsAt);
        int used = 0;
        string category = Take(chars, ref used, *(ushort*)(slot + CategoryCharsAt));
        ushort threadNameChars = *(ushort*)(slot + ThreadNameCharsAt);
        string? threadName = threadNameChars == NoThreadName ? null : Take(chars, ref used, threadNameChars);
        string eventName = Take(chars, ref used, *(ushort*)(slot + EventNameCharsAt));
        string text = Take(chars, ref used, *(ushort*)(slot + TextCharsAt));
        record = new RingRecord(
            *(int*)(slot + LevelAt),
            *(ulong*)(slot + TimestampAt),
            *(int*)(slot + EventIdAt),
            eventName.Length == 0 ? null : eventName,
            category,
            *(int*)(slot + CpuAt),
            *(int*)(slot + ThreadIdAt),
            threadName,
            text,
            *(ushort*)(slot + FlagsAt),
            *(int*)(slot + TextTotalAt));
        return true;
    }

    /// <summary>The newest position found in the ring (a scan of every slot's word), or false when the ring is empty.</summary>
    public bool TryFindNewest(uint near, out uint newest)
    {
        bool found = false;
        newest = 0;
        for (int i = 0; i < SlotCount; i++)
        {
            ulong word = Volatile.Read(ref *(ulong*)(_base + RingOffset + (long)i * SlotSize));
            if ((word & ValidBit) == 0)
            {
                continue;
            }

            uint position = (uint)word;

            // Positions compare by wrapping difference from a position known to be close.
            if (!found || (int)(position - near) > (int)(newest - near))
            {
                newest = position;
                found = true;
            }
        }

        return found;
    }

    private static ushort Copy(string? value, char* chars, ref int used, int max)
    {
        if (value is null)
        {
            return 0;
        }

        int length = Math.Min(value.Length, max);
        value.AsSpan(0, length).CopyTo(new Span<char>(chars + used, length));
        used += length;
        return (ushort)length;
    }

    private static string Take(char* chars, ref int used, int length)
    {
        length = Math.Clamp(length, 0, SlotChars - used);
        string value = new string(chars, used, length);
        used += length;
        return value;
    }

    // The type of the last exception written and its name: an application logs the same few
    // exception types over and over, and Type.FullName is a lookup each time.
    private static TypeName s_lastExceptionType = new(typeof(Exception), typeof(Exception).FullName);

    // "\n" + the type's full name + ": " + the message, as far as it fits; returns the chars written.
    private static int AppendException(Exception exception, char* destination, int room, ref int total)
    {
        Type exceptionType = exception.GetType();
        TypeName last = Volatile.Read(ref s_lastExceptionType); // one reference: never a type with another's name
        string? type = ReferenceEquals(last.Type, exceptionType) ? last.Name : exceptionType.FullName;
        if (!ReferenceEquals(last.Type, exceptionType))
        {
            Volatile.Write(ref s_lastExceptionType, new TypeName(exceptionType, type));
        }

        string message;
        try
        {
            message = exception.Message;
        }
        catch (Exception)
        {
            message = string.Empty; // a Message that throws: its type is still worth the slot
        }

        int written = 0;
        Append("\n", destination, room, ref written);
        Append(type, destination, room, ref written);
        Append(": ", destination, room, ref written);
        Append(message, destination, room, ref written);
        total += 1 + (type?.Length ?? 0) + 2 + message.Length;
        return written;
    }

    private static void Append(string? value, char* destination, int room, ref int written)
    {
        if (value is null)
        {
            return;
        }

        int length = Math.Min(value.Length, room - written);
        if (length > 0)
        {
            value.AsSpan(0, length).CopyTo(new Span<char>(destination + written, length));
            written += length;
        }
    }

    private sealed record TypeName(Type Type, string? Name);

    private ref int Int(int offset) => ref *(int*)(_base + offset);

    private ref long Long(int offset) => ref *(long*)(_base + offset);
}

/// <summary>A record read back from the ring by the watchdog.</summary>
internal readonly record struct RingRecord(
    int Level,
    ulong TimestampMicroseconds,
    int EventId,
    string? EventName,
    string Category,
    int Cpu,
    int ThreadId,
    string? ThreadName,
    string Text,
    ushort Flags,
    int TextTotalChars)
{
    /// <summary>The text, with <c> [+N chars]</c> when the ring cut it.</summary>
    public string FullText => (Flags & DeathRing.FlagTruncated) != 0 && TextTotalChars > Text.Length
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Text} [+{TextTotalChars - Text.Length} chars]")
        : Text;
}
