using System.Diagnostics;

namespace Netconsole;

/// <summary>
/// One log record as netconsole carries it: level, facility, sequence number, timestamp,
/// continuation flag, text and dictionary.
/// </summary>
/// <remarks>
/// The text is bytes, as in the kernel: it is usually UTF-8, but any byte value is carried
/// (the extended format escapes it). <see cref="FromString"/> encodes a string as UTF-8.
/// A record is a small value; it does not copy its text or dictionary.
/// </remarks>
public readonly struct NetconsoleRecord
{
    // Stopwatch ticks per microsecond when that is a whole number (1000 on Linux), else 0.
    private static readonly long TicksPerMicrosecond = Stopwatch.Frequency % 1_000_000 == 0 ? Stopwatch.Frequency / 1_000_000 : 0;
    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly int _level;
    private readonly int? _facility;

    /// <summary>Creates a record with the given level (0-7) and text bytes.</summary>
    /// <param name="level">Syslog level, 0 (emerg) to 7 (debug).</param>
    /// <param name="text">The text bytes, usually UTF-8.</param>
    public NetconsoleRecord(int level, ReadOnlyMemory<byte> text)
    {
        Level = level;
        Text = text;
    }

    /// <summary>Creates a record whose text is <paramref name="text"/> encoded as UTF-8 (allocates the bytes).</summary>
    /// <param name="level">Syslog level, 0 (emerg) to 7 (debug).</param>
    /// <param name="text">The text.</param>
    /// <returns>The record.</returns>
    public static NetconsoleRecord FromString(int level, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new NetconsoleRecord(level, System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// The monotonic clock now, in microseconds: the value for <see cref="TimestampMicroseconds"/>.
    /// On Linux it is the time since boot (CLOCK_MONOTONIC), as the kernel's own records carry, so
    /// records of several processes on one host compare. Allocates nothing; never goes back.
    /// </summary>
    /// <returns>Microseconds on the monotonic clock.</returns>
    public static ulong GetTimestampMicroseconds()
    {
        long ticks = Stopwatch.GetTimestamp();
        return TicksPerMicrosecond != 0 ? (ulong)(ticks / TicksPerMicrosecond) : (ulong)(ticks * MicrosecondsPerTick);
    }

    /// <summary>Syslog level, 0 (emerg) to 7 (debug). The default is 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0-7.</exception>
    public int Level
    {
        get => _level;
        init => _level = value is >= 0 and <= 7
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A record's level must be 0 (emerg) to 7 (debug).");
    }

    /// <summary>
    /// Syslog facility, 0 (kern) to 23 (local7), or <see langword="null"/> to use the target's
    /// facility. The default is <see langword="null"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0-23.</exception>
    public int? Facility
    {
        get => _facility;
        init => _facility = value is null or (>= 0 and <= 23)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A record's facility must be 0 (kern) to 23 (local7).");
    }

    /// <summary>
    /// Sequence number, monotonic per sender (the extended format's <c>seq</c>). The default is 0.
    /// A sender that may restart starts its numbers from <see cref="GetTimestampMicroseconds"/>
    /// (as the logging provider and <c>netconsole-send</c> do), so a new run continues above the
    /// last one: netconsd discards a number up to 512 behind the newest it saw from the source
    /// address within 5 seconds as a duplicate. Two senders sharing a source address at the same
    /// time still interleave their numbers: give each its own address.
    /// </summary>
    public ulong Sequence { get; init; }

    /// <summary>
    /// Monotonic timestamp in microseconds (the extended format's <c>ts_usec</c>); see
    /// <see cref="GetTimestampMicroseconds"/>. The default is 0.
    /// </summary>
    public ulong TimestampMicroseconds { get; init; }

    /// <summary>Continuation flag. The default is <see cref="RecordContinuation.None"/>.</summary>
    public RecordContinuation Continuation { get; init; }

    /// <summary>The text bytes (usually UTF-8), without a trailing newline.</summary>
    public ReadOnlyMemory<byte> Text { get; init; }

    /// <summary>
    /// Dictionary: ordered KEY=VALUE pairs sent as lines after the text (extended format only).
    /// Pairs with an empty value are omitted on the wire. The default is <see langword="null"/> (none).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Dictionary { get; init; }

    /// <summary>
    /// More dictionary pairs, sent after those of <see cref="Dictionary"/>, whose values become text
    /// only when the record is formatted: a string as it is; an <see cref="IUtf8SpanFormattable"/>
    /// or <see cref="ISpanFormattable"/> value (numbers, dates, Guid, enums ...) with the invariant
    /// culture, written straight into the datagram without a string; anything else through
    /// <see cref="object.ToString"/>. A null or empty value is omitted, as in <see cref="Dictionary"/>.
    /// Only for values that cannot change until the record is sent. The default is <see langword="null"/> (none).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object?>>? Values { get; init; }

    /// <summary>
    /// The CPU number sent in the <c>cpu=</c> sysdata line, or <see langword="null"/> to take the
    /// processor the formatting thread runs on. The default is <see langword="null"/>.
    /// </summary>
    public int? Cpu { get; init; }

    /// <summary>
    /// The task name sent in the <c>taskname=</c> sysdata line, or <see langword="null"/> to take
    /// the formatting thread's name (or the process name when it has none). The default is
    /// <see langword="null"/>. Capture it on the logging thread when the record is formatted elsewhere.
    /// </summary>
    public string? TaskName { get; init; }
}
