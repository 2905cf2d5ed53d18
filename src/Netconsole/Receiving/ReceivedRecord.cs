using System.Globalization;
using System.Net;
using System.Text;

namespace Netconsole.Receiving;

/// <summary>
/// One record as a receiver sees it: reassembled from its fragments, and a continued group
/// (<c>c</c> then <c>+</c> records) joined into one.
/// </summary>
public sealed class ReceivedRecord
{
    /// <summary>The level given to basic-format records, which carry none: 4 (warning), the kernel's default message level.</summary>
    public const int BasicLevel = 4;

    private string? _textString;

    /// <summary>
    /// The managed memory a record holds once decoded, in bytes (an estimate on the side of more):
    /// the record object, its text, the dictionary list and each entry's two strings. Budgets
    /// (the reassembler's held groups, a receiver's queue) count this, not the wire bytes: short
    /// dictionary lines take ~20 times their wire size once decoded.
    /// </summary>
    internal static long MemoryCost(int textLength, IReadOnlyList<KeyValuePair<string, string>> dictionary)
    {
        const int RecordObject = 128; // the record's fields, the sender reference, object header
        const int ArrayOverhead = 24;
        const int StringOverhead = 24;
        const int EntrySlot = 16; // a KeyValuePair<string, string> in the list's array
        long cost = RecordObject + ArrayOverhead + textLength + 32 + ArrayOverhead;
        foreach (KeyValuePair<string, string> entry in dictionary)
        {
            cost += EntrySlot + StringOverhead + (2L * entry.Key.Length) + StringOverhead + (2L * entry.Value.Length);
        }

        return cost;
    }

    /// <summary>This record's <see cref="MemoryCost"/>, computed once (queues count it in and out).</summary>
    internal long Cost { get; }

    internal ReceivedRecord(
        IPEndPoint sender,
        bool isExtended,
        string? release,
        int priority,
        ulong sequence,
        ulong timestamp,
        RecordContinuation continuation,
        byte[] text,
        IReadOnlyList<KeyValuePair<string, string>> dictionary,
        int partCount,
        int fragmentCount,
        long receivedTimestamp,
        RecordSignature signature = RecordSignature.NotSigned,
        string? signingKeyId = null)
    {
        Signature = signature;
        SigningKeyId = signingKeyId;
        Sender = sender;
        IsExtended = isExtended;
        Release = release;
        Level = priority & 7;
        Facility = priority >> 3;
        Sequence = sequence;
        TimestampMicroseconds = timestamp;
        Continuation = continuation;
        Text = text;
        Dictionary = dictionary;
        PartCount = partCount;
        FragmentCount = fragmentCount;
        ReceivedTimestamp = receivedTimestamp;
        Cost = MemoryCost(text.Length, dictionary);
    }

    /// <summary>What the record's signature says, checked against <see cref="RecordReassemblerOptions.SigningKeys"/>; <see cref="RecordSignature.NotSigned"/> when it has none.</summary>
    public RecordSignature Signature { get; }

    /// <summary>The key id the record's signature names, or <see langword="null"/> when it is unsigned.</summary>
    public string? SigningKeyId { get; }

    /// <summary>The sender, as given to <see cref="RecordReassembler.Add"/>.</summary>
    public IPEndPoint Sender { get; }

    /// <summary>True for the extended format; false for basic-format text, which has no header, sequence number or dictionary.</summary>
    public bool IsExtended { get; }

    /// <summary>The release prefix of the extended header (the kernel's <c>r</c> option), or <see langword="null"/>.</summary>
    public string? Release { get; }

    /// <summary>The syslog level, 0 (emerg) to 7 (debug); <see cref="BasicLevel"/> for basic-format text.</summary>
    public int Level { get; }

    /// <summary>The syslog facility (priority &gt;&gt; 3); 0 for basic-format text.</summary>
    public int Facility { get; }

    /// <summary>The sequence number (of the first part, for a continued group); 0 for basic-format text.</summary>
    public ulong Sequence { get; }

    /// <summary>The timestamp in microseconds (of the first part, for a continued group); 0 for basic-format text.</summary>
    public ulong TimestampMicroseconds { get; }

    /// <summary>
    /// The flag of the (first) record: <see cref="RecordContinuation.First"/> for a continued
    /// group, <see cref="RecordContinuation.Continuation"/> for a <c>+</c> record that arrived
    /// without its group, <see cref="RecordContinuation.None"/> otherwise.
    /// </summary>
    public RecordContinuation Continuation { get; }

    /// <summary>The text bytes, unescaped (usually UTF-8), without the trailing newline; a continued group's parts joined in order.</summary>
    public ReadOnlyMemory<byte> Text { get; }

    /// <summary>The text decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string TextString => _textString ??= Encoding.UTF8.GetString(Text.Span);

    /// <summary>
    /// The dictionary lines in order, unescaped: the record's own dictionary, then userdata, then
    /// sysdata (a receiver cannot tell them apart). A continued group's parts each carry their
    /// own userdata and sysdata; their lines follow in part order. Empty for basic-format text.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Dictionary { get; }

    /// <summary>How many records (sequence numbers) this one was joined from: 1, or the parts of a continued group.</summary>
    public int PartCount { get; }

    /// <summary>How many datagrams carried this record.</summary>
    public int FragmentCount { get; }

    /// <summary>The sequence number of the last part: <see cref="Sequence"/> + <see cref="PartCount"/> - 1.</summary>
    public ulong LastSequence => unchecked(Sequence + (ulong)(PartCount - 1));

    /// <summary>The receive timestamp of the datagram that completed the record (the caller's clock, as given to <see cref="RecordReassembler.Add"/>).</summary>
    public long ReceivedTimestamp { get; }

    /// <summary>The <c>cpu</c> sysdata value, or <see langword="null"/> when absent or not a number.</summary>
    public int? SysdataCpu => int.TryParse(FindValue("cpu"), NumberStyles.None, CultureInfo.InvariantCulture, out int cpu) ? cpu : null;

    /// <summary>The <c>taskname</c> sysdata value, or <see langword="null"/>.</summary>
    public string? SysdataTaskName => FindValue("taskname");

    /// <summary>The <c>release</c> sysdata value, or <see langword="null"/>.</summary>
    public string? SysdataRelease => FindValue("release");

    /// <summary>The <c>msgid</c> sysdata value, or <see langword="null"/> when absent or not a number.</summary>
    public uint? SysdataMessageId => uint.TryParse(FindValue("msgid"), NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id : null;

    /// <summary>
    /// The value of the last dictionary line with this key (ordinal comparison), or
    /// <see langword="null"/>. The last, because sysdata lines come after the dictionary and
    /// userdata; for a continued group that is the last part's.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    public string? FindValue(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (int i = Dictionary.Count - 1; i >= 0; i--)
        {
            if (string.Equals(Dictionary[i].Key, key, StringComparison.Ordinal))
            {
                return Dictionary[i].Value;
            }
        }

        return null;
    }

    /// <summary>A one-line summary: sender, level, sequence, flag and text.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() => IsExtended
        ? string.Create(CultureInfo.InvariantCulture, $"{Sender} <{Facility}.{Level}> #{Sequence} {FlagOf(Continuation)} {TextString}")
        : string.Create(CultureInfo.InvariantCulture, $"{Sender} basic {TextString}");

    private static char FlagOf(RecordContinuation continuation) => continuation switch
    {
        RecordContinuation.First => 'c',
        RecordContinuation.Continuation => '+',
        _ => '-',
    };
}
