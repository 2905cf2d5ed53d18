using System.Globalization;
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
/// Per record, in steady state, nothing is allocated: the lists, the text buffer and the value
/// texts are reused. Allocated: an exception's text (<see cref="Exception.ToString"/>), a drop
/// notice's text, the text of a value not seen recently, and buffers growing to the largest
/// record so far.
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
    private readonly List<KeyValuePair<string, string>> _dictionary = new();
    private readonly List<KeyValuePair<string, object?>> _values = new();
    private readonly ValueTexts _texts = new();
    private byte[] _text = new byte[1024];
    private ulong _sequence; // the last sequence number used
    private long _recordsSent;
    private volatile int _facility = NetconsoleTargetOptions.DefaultFacility;

    /// <summary>Creates a writer sending through <paramref name="manager"/>.</summary>
    /// <param name="manager">The provider's targets.</param>
    /// <param name="wantsDictionary">Whether some target is extended, so dictionary lines are worth making.</param>
    /// <param name="sequenceBase">The sequence number before the first record's (which gets <paramref name="sequenceBase"/> + 1).</param>
    public LogRecordWriter(TargetManager manager, bool wantsDictionary, ulong sequenceBase)
    {
        _manager = manager;
        _wantsDictionary = wantsDictionary;
        _sequence = sequenceBase;
    }

    /// <summary>The syslog facility of the next records (live: the provider sets it on reload).</summary>
    public int Facility
    {
        get => _facility;
        set => _facility = value;
    }

    /// <summary>Records handed to the targets, not counting drop notices.</summary>
    public long RecordsSent => Interlocked.Read(ref _recordsSent);

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

    /// <summary>Leaves the writer.</summary>
    public void Exit() => Monitor.Exit(_lock);

    /// <summary>Caller inside: sends the warning-level notice <c>netconsole: N records dropped (queue full)</c>.</summary>
    /// <param name="dropped">The records dropped.</param>
    public void WriteNotice(long dropped)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"netconsole: {dropped} records dropped (queue full)");
        ClearPairs();
        if (_wantsDictionary)
        {
            _dictionary.Add(new("CATEGORY", ProviderCategory));
        }

        Send(NoticeLevel, text, null, NetconsoleRecord.GetTimestampMicroseconds(), null, null);
    }

    /// <summary>Caller inside: sends a logged entry (its dictionary lines, CPU and task name as captured on the logging thread).</summary>
    /// <param name="entry">The entry.</param>
    public void WriteEntry(LogEntry entry)
    {
        ClearPairs();
        if (_wantsDictionary)
        {
            AddHeaderPairs(entry.Category, entry.EventId);
            List<KeyValuePair<string, object?>> pairs = entry.Pairs;
            for (int i = 0; i < pairs.Count; i++)
            {
                _values.Add(new(pairs[i].Key, _texts.ForRecord(pairs[i].Value)));
            }
        }

        Send(entry.Level, entry.Message, entry.Exception, entry.TimestampMicroseconds, entry.Cpu, entry.ThreadName ?? _texts.Of(entry.ThreadId));
        Interlocked.Increment(ref _recordsSent);
    }

    /// <summary>Caller inside: sends a record made here and now (<see cref="NetconsoleLoggerProvider.SendNow"/>, crash reports): no CPU, no task name, no scopes.</summary>
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

        Send(level, message, exception, timestamp, null, null);
        Interlocked.Increment(ref _recordsSent);
    }

    /// <summary>Forgets the scope texts remembered, so an idle sender holds no reference to the scopes it saw.</summary>
    public void ForgetScopes()
    {
        Enter();
        try
        {
            _texts.ForgetScopes();
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

    // Every record starts without pairs (Send sends both lists).
    private void ClearPairs()
    {
        _dictionary.Clear();
        _values.Clear();
    }

    // The dictionary is ready. The text is the message, then "\n" and the exception.
    private void Send(int level, string message, object? exception, ulong timestamp, int? cpu, string? taskName)
    {
        string? exceptionText = exception?.ToString();
        int length = Utf8.GetMaxByteCount(message.Length + 1 + (exceptionText?.Length ?? 0));
        if (_text.Length < length)
        {
            _text = new byte[Math.Max(length, _text.Length * 2)];
        }

        int written = Utf8.GetBytes(message, _text);
        if (exceptionText is not null)
        {
            _text[written++] = (byte)'\n';
            written += Utf8.GetBytes(exceptionText, _text.AsSpan(written));
        }

        var record = new NetconsoleRecord(level, _text.AsMemory(0, written))
        {
            Facility = _facility,
            Sequence = ++_sequence,
            TimestampMicroseconds = timestamp,
            Dictionary = _dictionary.Count > 0 ? _dictionary : null,
            Values = _values.Count > 0 ? _values : null,
            Cpu = cpu,
            TaskName = taskName,
        };
        _manager.Send(record);
    }
}
