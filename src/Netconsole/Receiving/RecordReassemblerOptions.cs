using Netconsole.Wire;

namespace Netconsole.Receiving;

/// <summary>
/// Time and memory limits of a <see cref="RecordReassembler"/>. Every limit is on by default;
/// exceeding one drops state and counts it, never grows memory or throws.
/// </summary>
public sealed class RecordReassemblerOptions
{
    /// <summary>The default <see cref="Timeout"/>, 200 ms (netconsd's wait for missing fragments and sequence numbers).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>The default <see cref="MaxSenders"/>, 1024.</summary>
    public const int DefaultMaxSenders = 1024;

    /// <summary>The default <see cref="MaxInFlightRecordsPerSender"/>, 64.</summary>
    public const int DefaultMaxInFlightRecordsPerSender = 64;

    /// <summary>The default <see cref="MaxGroupBytes"/>, 1 MiB.</summary>
    public const int DefaultMaxGroupBytes = 1024 * 1024;

    /// <summary>The default <see cref="MaxBufferedBytes"/>, 32 MiB.</summary>
    public const long DefaultMaxBufferedBytes = 32L * 1024 * 1024;

    private TimeSpan _timeout = DefaultTimeout;
    private int _maxSenders = DefaultMaxSenders;
    private int _maxInFlight = DefaultMaxInFlightRecordsPerSender;
    private int _maxGroupBytes = DefaultMaxGroupBytes;
    private long _maxBufferedBytes = DefaultMaxBufferedBytes;
    private int _maxDictionaryEntries = DefaultMaxDictionaryEntries;

    /// <summary>The default <see cref="MaxDictionaryEntries"/>, 256.</summary>
    public const int DefaultMaxDictionaryEntries = 256;

    /// <summary>
    /// How long an incomplete record waits for its missing fragments (from its first fragment),
    /// and a continued group for its next part (from its last part). The default is
    /// <see cref="DefaultTimeout"/> (200 ms). Must be positive.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan Timeout
    {
        get => _timeout;
        set => _timeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The timeout must be positive.");
    }

    /// <summary>
    /// How many senders are tracked at once; a new sender beyond it evicts the least recently
    /// heard one (its held group is delivered, its incomplete records dropped, its statistics
    /// folded into the totals). The default is <see cref="DefaultMaxSenders"/> (1024). At least 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxSenders
    {
        get => _maxSenders;
        set => _maxSenders = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one sender must be tracked.");
    }

    /// <summary>
    /// How many records of one sender may wait for fragments at once; one more evicts the
    /// sender's oldest (counted as dropped). The default is
    /// <see cref="DefaultMaxInFlightRecordsPerSender"/> (64). At least 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxInFlightRecordsPerSender
    {
        get => _maxInFlight;
        set => _maxInFlight = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one in-flight record must be allowed.");
    }

    /// <summary>
    /// The most memory, in bytes, one continued group may hold, decoded (its parts' texts,
    /// dictionary entries and strings; see <see cref="MaxBufferedBytes"/>). A part that would exceed
    /// it closes the group as it stands and is delivered on its own (counted as an oversized
    /// group). The default is <see cref="DefaultMaxGroupBytes"/> (1 MiB). At least 8191 (one record).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 8191.</exception>
    public int MaxGroupBytes
    {
        get => _maxGroupBytes;
        set => _maxGroupBytes = value >= RecordFormatter.MaxRecordData ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A group must hold at least one record (8191 bytes).");
    }

    /// <summary>
    /// The keys signed records are checked with (a keyring: several at once, so keys can be
    /// rotated), each record marked in <see cref="ReceivedRecord.Signature"/>. Empty by default:
    /// a signed record is then <see cref="RecordSignature.UnknownKey"/>. A verified record taken
    /// before (same key, run and sequence number), or more than 64 numbers below the highest of
    /// its run, is a replay, whatever address or port it comes from: not delivered, counted in
    /// <see cref="ReceiveStatistics.ReplaysRejected"/>; a copy from the same sender within its
    /// last 64 numbers is a duplicate, as an unsigned one (<see cref="ReceiveStatistics.DuplicatesIgnored"/>).
    /// The reassembler remembers the 4096 runs (signing processes) most recently
    /// heard. Taken when the reassembler is created.
    /// </summary>
    public IList<Wire.RecordSigningKey> SigningKeys { get; } = new List<Wire.RecordSigningKey>();

    /// <summary>
    /// Deliver only <see cref="RecordSignature.Verified"/> records: every other one (unsigned,
    /// unknown key, invalid) is dropped and counted in <see cref="ReceiveStatistics.RecordsRejectedUnverified"/>.
    /// The default is <see langword="false"/>: every record is delivered, marked.
    /// </summary>
    public bool RequireVerifiedRecords { get; set; }

    /// <summary>
    /// The most dictionary entries (<c>KEY=value</c> lines) kept of one record. The lines after
    /// them are left out, not decoded, and counted
    /// (<see cref="ReceiveStatistics.DictionaryEntriesDropped"/>); the record is delivered. A
    /// datagram of short lines would otherwise decode into one entry and two strings per 2-4 wire
    /// bytes, ~20 times its size in memory and in work. The default is
    /// <see cref="DefaultMaxDictionaryEntries"/> (256: the kernel sends a handful, this library's
    /// provider a few dozen). At least 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxDictionaryEntries
    {
        get => _maxDictionaryEntries;
        set => _maxDictionaryEntries = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The dictionary entry limit cannot be negative.");
    }

    /// <summary>
    /// The most memory held for all senders together, in bytes: fragment buffers (with their
    /// bookkeeping) and continued groups as decoded (each part's text, dictionary entries and
    /// strings, as .NET holds them: short dictionary lines take ~20 times their wire size).
    /// Beyond it, the least recently heard other senders are evicted until it fits. The default
    /// is <see cref="DefaultMaxBufferedBytes"/> (32 MiB: ~4,000 incomplete records of 8191 bytes; a
    /// flood of first fragments that fills it keeps the GC heap at about twice that). At least 8191.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 8191.</exception>
    public long MaxBufferedBytes
    {
        get => _maxBufferedBytes;
        set => _maxBufferedBytes = value >= RecordFormatter.MaxRecordData ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The buffer limit must hold at least one record (8191 bytes).");
    }
}
