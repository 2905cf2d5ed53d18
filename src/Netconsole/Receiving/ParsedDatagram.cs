using System.Text;

namespace Netconsole.Receiving;

/// <summary>What a netconsole datagram turned out to be.</summary>
internal enum DatagramKind
{
    /// <summary>
    /// Not extended format: the basic format's plain text (netconsd calls it legacy text; this library says basic, as the kernel's documentation does).
    /// The datagram is a record of its own; there is nothing to reassemble.
    /// </summary>
    Basic = 0,

    /// <summary>An extended-format record, or one fragment of one (<c>ncfrag</c>).</summary>
    Extended = 1,

    /// <summary>It starts like an extended header but breaks the format: see <see cref="MalformedReason"/>.</summary>
    Malformed = 2,
}

/// <summary>Why a datagram that starts like an extended header was rejected.</summary>
internal enum MalformedReason
{
    /// <summary>The datagram is not malformed.</summary>
    None = 0,

    /// <summary>The header ends before the sequence number, timestamp or flag field.</summary>
    MissingField = 1,

    /// <summary>The priority does not fit in a 32-bit signed integer.</summary>
    BadPriority = 2,

    /// <summary>The sequence number is not a decimal u64.</summary>
    BadSequence = 3,

    /// <summary>The timestamp is not a decimal u64.</summary>
    BadTimestamp = 4,

    /// <summary>The <c>ncfrag</c> field is not <c>ncfrag=OFFSET/TOTAL</c>, appears twice, has a total of 0 or carries no data.</summary>
    BadFragment = 5,

    /// <summary>The <c>ncfrag</c> total is over 8191 bytes, the most netconsd reassembles (the kernel never sends more).</summary>
    FragmentTooLarge = 6,

    /// <summary>The fragment starts at or beyond its total, or its data runs past the total.</summary>
    FragmentOutOfRange = 7,
}

/// <summary>
/// One datagram as <see cref="DatagramParser.Parse"/> read it: a view of the datagram's bytes
/// (valid as long as they are), allocating nothing.
/// </summary>
internal readonly ref struct ParsedDatagram
{
    internal ParsedDatagram(DatagramKind kind, MalformedReason reason, ReadOnlySpan<byte> data)
    {
        Kind = kind;
        MalformedReason = reason;
        Data = data;
    }

    internal ParsedDatagram(
        ReadOnlySpan<byte> release,
        bool hasRelease,
        int priority,
        ulong sequence,
        ulong timestamp,
        RecordContinuation continuation,
        bool isFragment,
        int fragmentOffset,
        int fragmentTotal,
        ReadOnlySpan<byte> data,
        ReadOnlySpan<byte> signedHeader = default)
    {
        Kind = DatagramKind.Extended;
        SignedHeader = signedHeader;
        Release = release;
        HasRelease = hasRelease;
        Priority = priority;
        Sequence = sequence;
        TimestampMicroseconds = timestamp;
        Continuation = continuation;
        IsFragment = isFragment;
        FragmentOffset = fragmentOffset;
        FragmentTotal = fragmentTotal;
        Data = data;
    }

    /// <summary>
    /// The header as a record signature covers it: the release prefix and the header fields
    /// before <c>;</c>, without the <c>ncfrag</c> field (which a sender adds when it cuts the
    /// signed record). Empty when the <c>ncfrag</c> field is not the header's last, so no sender
    /// of this rule wrote it (such a record cannot verify).
    /// </summary>
    public ReadOnlySpan<byte> SignedHeader { get; }

    /// <summary>Extended record or fragment, basic-format text, or malformed.</summary>
    public DatagramKind Kind { get; }

    /// <summary>Why the datagram is <see cref="DatagramKind.Malformed"/>; <see cref="MalformedReason.None"/> otherwise.</summary>
    public MalformedReason MalformedReason { get; }

    /// <summary>True when the extended header starts with a release string (the kernel's <c>r</c> option).</summary>
    public bool HasRelease { get; }

    /// <summary>The release string's bytes (empty when <see cref="HasRelease"/> is false).</summary>
    public ReadOnlySpan<byte> Release { get; }

    /// <summary>The syslog priority, <c>(facility &lt;&lt; 3) | level</c> (extended only).</summary>
    public int Priority { get; }

    /// <summary>The syslog level, 0 (emerg) to 7 (debug): <c>Priority &amp; 7</c>.</summary>
    public int Level => Priority & 7;

    /// <summary>The syslog facility: <c>Priority &gt;&gt; 3</c>.</summary>
    public int Facility => Priority >> 3;

    /// <summary>The record's sequence number (extended only).</summary>
    public ulong Sequence { get; }

    /// <summary>The record's timestamp in microseconds (extended only).</summary>
    public ulong TimestampMicroseconds { get; }

    /// <summary>The flag field: <c>-</c>, <c>c</c> or <c>+</c>. Any other flag reads as <see cref="RecordContinuation.None"/>.</summary>
    public RecordContinuation Continuation { get; }

    /// <summary>True when the header carries <c>ncfrag=OFFSET/TOTAL</c>: <see cref="Data"/> is then one piece of the record's data.</summary>
    public bool IsFragment { get; }

    /// <summary>Where <see cref="Data"/> starts in the record's data (fragments only).</summary>
    public int FragmentOffset { get; }

    /// <summary>The length of the whole record's data, 1 to 8191 (fragments only).</summary>
    public int FragmentTotal { get; }

    /// <summary>
    /// Extended: the bytes after the header's <c>;</c> (the whole escaped record data, or this
    /// fragment's piece of it). Basic: the text, without one trailing newline. Malformed: empty.
    /// </summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The release as a string, or <see langword="null"/> when there is none.</summary>
    /// <returns>The UTF-8 decoded release.</returns>
    public string? GetReleaseString() => HasRelease ? Encoding.UTF8.GetString(Release) : null;
}
