using System.Globalization;
using System.Numerics;
using System.Text;
using Microsoft.Extensions.Logging;
using Netconsole.Targets;

namespace Netconsole.Logging;

/// <summary>
/// Turns a log entry (or a drop notice, or a record sent at once) into a <see cref="NetconsoleRecord"/>
/// and hands it to the targets. Owns the send-side buffers (the text bytes, the dictionary and
/// value lists, <see cref="ValueTexts"/>) and the provider's sequence numbers.
/// </summary>
/// <remarks>
/// <para>
/// One thread at a time: the sender thread and <see cref="NetconsoleLoggerProvider.SendNow"/>
/// take turns through <see cref="Enter"/> / <see cref="TryEnter"/> and <see cref="Exit"/>; the
/// <c>Write</c> methods need the caller to be inside. Sending alongside would share the buffers
/// and break the order of sequence numbers.
/// </para>
/// <para>
/// Records are staged, then handed to the targets together (<see cref="TargetManager.SendBatch"/>:
/// their frames go out back to back, up to 64 per system call with the packet-socket transport):
/// when <see cref="RunLength"/> are staged, and when the caller leaves the writer
/// (<see cref="Exit"/>). A caller inside for one record (a record sent at once) sends it alone; the
/// sender thread stays inside while it takes what the queue holds, so a burst goes in runs and a
/// lone record leaves as soon as it is written.
/// </para>
/// <para>
/// Per record, in steady state, nothing is allocated: the lists, the text buffer and the value
/// texts are reused. Allocated: an exception's text (<see cref="Exception.ToString"/>), a drop
/// notice's text, the text of a value not seen recently, the text of an enum or BigInteger
/// value over the cap (below), and buffers growing to the largest record so far.
/// </para>
/// <para>
/// Dictionary values from a log call (the state's and the scopes') longer than
/// <see cref="MaxDictionaryValueBytes"/> are cut here, once per record whatever the number of
/// targets, into a reused <see cref="TruncatedValue"/>: a string is measured and cut without
/// being copied; an enum or a BigInteger (the only values kept by reference whose text may be
/// long) is formatted into a reused buffer to be measured, and only one over the limit gets its
/// text made.
/// </para>
/// </remarks>
internal sealed class LogRecordWriter
{
    /// <summary>The <c>CATEGORY=</c> of drop notices and of records sent at once without a category.</summary>
    internal const string ProviderCategory = "Netconsole.Logging";

    private const int NoticeLevel = 4; // warning: records were lost

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly object _lock = new();
    private readonly TargetManager _manager;
    private readonly bool _wantsDictionary;
    // Per staged record: its dictionary and value lists and its text buffer, reused run after run.
    private readonly List<KeyValuePair<string, string>>[] _dictionaries = NewLists<KeyValuePair<string, string>>();
    private readonly List<KeyValuePair<string, object?>>[] _valueLists = NewLists<KeyValuePair<string, object?>>();
    private readonly byte[][] _textBuffers = NewTextBuffers();
    private readonly NetconsoleRecord[] _staged = new NetconsoleRecord[RunLength];
    private readonly bool[] _stagedIsNotice = new bool[RunLength];
    private readonly int[] _sentTo = new int[RunLength];
    private int _stagedCount;
    private List<KeyValuePair<string, string>> _dictionary; // the lists of the record being written: those of slot _stagedCount
    private List<KeyValuePair<string, object?>> _values;
    private readonly ValueTexts _texts = new();
    private readonly List<TruncatedValue> _truncated = new();
    private int _truncatedInRun; // TruncatedValues handed out to the records staged
    // The largest text buffer an idle writer keeps.
    private const int KeptTextBytes = 64 * 1024;

    private char[] _formatted = [];
    private ulong _sequence; // the last sequence number used
    private long _recordsDelivered;
    private long _recordsUndelivered;
    private long _valuesTruncated;
    private volatile int _facility = NetconsoleTargetOptions.DefaultFacility;
    private volatile int _maxValueBytes = NetconsoleLoggerOptions.DefaultMaxDictionaryValueBytes;

    /// <summary>Creates a writer sending through <paramref name="manager"/>.</summary>
    /// <param name="manager">The provider's targets.</param>
    /// <param name="wantsDictionary">Whether some target is extended, so dictionary lines are worth making.</param>
    /// <param name="sequenceBase">The sequence number before the first record's (which gets <paramref name="sequenceBase"/> + 1).</param>
    public LogRecordWriter(TargetManager manager, bool wantsDictionary, ulong sequenceBase)
    {
        _manager = manager;
        _wantsDictionary = wantsDictionary;
        _sequence = sequenceBase;
        _dictionary = _dictionaries[0];
        _values = _valueLists[0];
    }

    /// <summary>The most records staged before they are handed to the targets together (a target's run: 64 frames).</summary>
    public const int RunLength = 64;

    /// <summary>Records written and not yet handed to the targets (tests).</summary>
    public int Staged => _stagedCount;

    /// <summary>The syslog facility of the next records (live: the provider sets it on reload).</summary>
    public int Facility
    {
        get => _facility;
        set => _facility = value;
    }

    /// <summary>The cap on a dictionary value from a log call, in UTF-8 bytes, 0 for none (live: the provider sets it on reload).</summary>
    public int MaxDictionaryValueBytes
    {
        get => _maxValueBytes;
        set => _maxValueBytes = value;
    }

    /// <summary>Dictionary values cut to <see cref="MaxDictionaryValueBytes"/>, one per value per record.</summary>
    public long DictionaryValuesTruncated => Interlocked.Read(ref _valuesTruncated);

    /// <summary>Records (not drop notices) handed to the targets that at least one target sent.</summary>
    public long RecordsDelivered => Interlocked.Read(ref _recordsDelivered);

    /// <summary>Records (not drop notices) handed to the targets that no target sent: none enabled, or each dropped it.</summary>
    public long RecordsUndelivered => Interlocked.Read(ref _recordsUndelivered);

    /// <summary>The sequence number the next record will get (the process-death watchdog continues from it).</summary>
    public ulong NextSequence => Volatile.Read(ref _sequence) + 1;

    /// <summary>Waits for the writer.</summary>
    public void Enter() => Monitor.Enter(_lock);

    /// <summary>Waits at most <paramref name="timeout"/> for the writer.</summary>
    /// <param name="timeout">The longest to wait.</param>
    /// <returns>Whether the caller is inside (then <see cref="Exit"/> is due).</returns>
    public bool TryEnter(TimeSpan timeout)
    {
        bool entered = false;
        Monitor.TryEnter(_lock, timeout, ref entered);
        return entered;
    }

    /// <summary>Hands the records staged to the targets (never throws), then leaves the writer.</summary>
    public void Exit()
    {
        try
        {
            SendStaged();
        }
        finally
        {
            Monitor.Exit(_lock);
        }
    }

    /// <summary>
    /// Caller inside: hands the records staged to the targets now, together, and counts them.
    /// Never throws. The entries they came from may be reused once it returns.
    /// </summary>
    public void SendStaged()
    {
        int count = _stagedCount;
        if (count == 0)
        {
            return;
        }

        Span<int> sentTo = _sentTo.AsSpan(0, count);
        try
        {
            _manager.SendBatch(_staged.AsSpan(0, count), sentTo);
        }
        catch (Exception)
        {
            sentTo.Clear(); // SendBatch never throws; were it to, the records count as undelivered
        }

        for (int i = 0; i < count; i++)
        {
            if (!_stagedIsNotice[i])
            {
                Count(sentTo[i]);
            }

            _staged[i] = default; // no reference kept to the record's lists or values
            _dictionaries[i].Clear();
            _valueLists[i].Clear();
        }

        for (int i = 0; i < _truncatedInRun; i++)
        {
            _truncated[i].Clear();
        }

        _truncatedInRun = 0;
        _stagedCount = 0;
        _dictionary = _dictionaries[0];
        _values = _valueLists[0];
    }

    /// <summary>
    /// Caller inside: sends the warning-level notice <c>netconsole: N records dropped (queue full), T since start</c>
    /// (numbers in the invariant culture, no separators, <c>records</c> even for 1, so a receiver greps and parses it).
    /// </summary>
    /// <param name="dropped">N: the records dropped since the previous notice.</param>
    /// <param name="total">T: the records announced dropped since the provider was created, this notice's included.</param>
    public void WriteNotice(long dropped, long total)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"netconsole: {dropped} records dropped (queue full), {total} since start");
        ClearPairs();
        if (_wantsDictionary)
        {
            _dictionary.Add(new("CATEGORY", ProviderCategory));
        }

        Stage(NoticeLevel, text, null, NetconsoleRecord.GetTimestampMicroseconds(), null, null, notice: true);
    }

    /// <summary>Caller inside: stages a logged entry (its dictionary lines, CPU and task name as captured on the logging thread). The entry's objects must stay as they are until <see cref="SendStaged"/> or <see cref="Exit"/>.</summary>
    /// <param name="entry">The entry.</param>
    public void WriteEntry(LogEntry entry)
    {
        ClearPairs();
        if (_wantsDictionary)
        {
            AddHeaderPairs(entry.Category, entry.EventId);
            List<KeyValuePair<string, object?>> pairs = entry.Pairs;
            int cap = _maxValueBytes;
            for (int i = 0; i < pairs.Count; i++)
            {
                object? value = _texts.ForRecord(pairs[i].Value);
                _values.Add(new(pairs[i].Key, cap == 0 ? value : Capped(value, cap)));
            }
        }

        Stage(entry.Level, entry.Message, entry.Exception, entry.TimestampMicroseconds, entry.Cpu, entry.ThreadName ?? _texts.Of(entry.ThreadId), notice: false);
    }

    /// <summary>Caller inside: stages a record made here and now (<see cref="NetconsoleLoggerProvider.SendNow"/>, crash reports): no CPU, no task name, no scopes.</summary>
    /// <param name="level">The syslog level.</param>
    /// <param name="message">The text.</param>
    /// <param name="exception">An exception (or the object an unhandled-exception event carries) to append, or null.</param>
    /// <param name="category">The <c>CATEGORY=</c>.</param>
    /// <param name="timestamp">When it was asked for (microseconds, <see cref="NetconsoleRecord.GetTimestampMicroseconds"/>).</param>
    public void WriteMessage(int level, string message, object? exception, string category, ulong timestamp)
    {
        ClearPairs();
        if (_wantsDictionary)
        {
            AddHeaderPairs(category, default);
        }

        Stage(level, message, exception, timestamp, null, null, notice: false);
    }

    /// <summary>
    /// For an idle sender: forgets the scope texts remembered, so it holds no reference to the
    /// scopes it saw, and gives back the text buffers an outlier record grew (one 10 MiB message
    /// kept ~86 MiB for good before; the targets' formatters give theirs back after each send).
    /// </summary>
    public void ReleaseAfterIdle()
    {
        Enter();
        try
        {
            _texts.ForgetScopes();
            for (int i = 0; i < _textBuffers.Length; i++)
            {
                if (_textBuffers[i].Length > KeptTextBytes)
                {
                    _textBuffers[i] = [];
                }
            }

            if (_formatted.Length > KeptTextBytes / sizeof(char))
            {
                _formatted = [];
            }

        }
        finally
        {
            Exit();
        }
    }

    private void AddHeaderPairs(string category, EventId eventId)
    {
        _dictionary.Add(new("CATEGORY", category));
        if (eventId.Id != 0)
        {
            _dictionary.Add(new("EVENT_ID", _texts.Of(eventId.Id)));
        }

        if (!string.IsNullOrEmpty(eventId.Name))
        {
            _dictionary.Add(new("EVENT_NAME", eventId.Name));
        }
    }

    // Every record starts without pairs: those of its staging slot (emptied when the slot's last record was sent).
    private void ClearPairs()
    {
        _dictionary.Clear();
        _values.Clear();
    }

    // The value, or a TruncatedValue when its text is longer than the cap (at least 64 bytes).
    private object? Capped(object? value, int cap) => value switch
    {
        // A UTF-16 character is at most 3 UTF-8 bytes: most strings need no counting.
        string text => text.Length <= cap / 3 ? text : Capped(text, cap),
        Enum or BigInteger => Capped((ISpanFormattable)value, cap),

        // Every other value kept by reference (numbers, dates, times, Guid, Half, Int128 ...) has
        // at most 48 characters of text: within the smallest cap.
        _ => value,
    };

    private object Capped(ISpanFormattable value, int cap)
    {
        if (_formatted.Length <= cap)
        {
            _formatted = new char[cap + 1];
        }

        // Formatted as the record formatter will (invariant culture); only a text over the cap is made into a string.
        return value.TryFormat(_formatted, out int length, default, CultureInfo.InvariantCulture)
            && Utf8.GetByteCount(_formatted, 0, length) <= cap
                ? value
                : Capped(value.ToString(null, CultureInfo.InvariantCulture), cap);
    }

    // Cut between characters, so the kept text and the marker take at most `cap` bytes.
    private object Capped(string text, int cap)
    {
        int total = Utf8.GetByteCount(text);
        if (total <= cap)
        {
            return text;
        }

        int room = cap - TruncatedValue.MarkerLength(total);
        int kept = 0;
        int chars = 0;
        while (chars < text.Length)
        {
            // A lone surrogate decodes as U+FFFD (3 bytes), as the encoder writes it.
            Rune.DecodeFromUtf16(text.AsSpan(chars), out Rune rune, out int used);
            if (kept + rune.Utf8SequenceLength > room)
            {
                break;
            }

            kept += rune.Utf8SequenceLength;
            chars += used;
        }

        if (_truncatedInRun == _truncated.Count)
        {
            _truncated.Add(new TruncatedValue());
        }

        TruncatedValue truncated = _truncated[_truncatedInRun++];
        truncated.Set(text, chars, total - kept);
        Interlocked.Increment(ref _valuesTruncated);
        return truncated;
    }

    private void Count(int targetsThatSent) =>
        Interlocked.Increment(ref targetsThatSent > 0 ? ref _recordsDelivered : ref _recordsUndelivered);

    // The dictionary is ready. The text is the message, then "\n" and the exception. Staged in
    // the slot whose lists were filled; the run goes to the targets when it is full.
    private void Stage(int level, string message, object? exception, ulong timestamp, int? cpu, string? taskName, bool notice)
    {
        int slot = _stagedCount;
        string? exceptionText = exception?.ToString();
        int length = Utf8.GetMaxByteCount(message.Length + 1 + (exceptionText?.Length ?? 0));
        byte[] text = _textBuffers[slot];
        if (text.Length < length)
        {
            _textBuffers[slot] = text = new byte[Math.Max(length, Math.Max(InitialTextBytes, text.Length * 2))];
        }

        int written = Utf8.GetBytes(message, text);
        if (exceptionText is not null)
        {
            text[written++] = (byte)'\n';
            written += Utf8.GetBytes(exceptionText, text.AsSpan(written));
        }

        _staged[slot] = new NetconsoleRecord(level, text.AsMemory(0, written))
        {
            Facility = _facility,
            Sequence = ++_sequence,
            TimestampMicroseconds = timestamp,
            Dictionary = _dictionary.Count > 0 ? _dictionary : null,
            Values = _values.Count > 0 ? _values : null,
            Cpu = cpu,
            TaskName = taskName,
        };
        _stagedIsNotice[slot] = notice;
        _stagedCount = slot + 1;
        if (_stagedCount == RunLength)
        {
            SendStaged();
        }
        else
        {
            _dictionary = _dictionaries[_stagedCount];
            _values = _valueLists[_stagedCount];
        }
    }

    private const int InitialTextBytes = 1024;

    private static List<T>[] NewLists<T>()
    {
        var lists = new List<T>[RunLength];
        for (int i = 0; i < lists.Length; i++)
        {
            lists[i] = new List<T>();
        }

        return lists;
    }

    private static byte[][] NewTextBuffers()
    {
        var buffers = new byte[RunLength][];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = []; // grown on first use: a provider that logs one record at a time uses one
        }

        return buffers;
    }
}
