using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>The bounded queue, the sender thread, flushing, and sending one record.</summary>
public sealed partial class NetconsoleLoggerProvider
{
    internal const string SenderThreadName = "netconsole-logger";
    internal const string ProviderCategory = "Netconsole.Logging";
    private const int MaxPooledEntries = 256;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    // Queue state, guarded by _queueLock; waiters (sender, Wait-mode loggers, Flush) share its monitor.
    private readonly object _queueLock = new();
    private readonly Queue<LogEntry> _queue = new();
    private readonly Stack<LogEntry> _pool = new();
    private readonly Thread _thread;
    private bool _accepting = true;
    private bool _completing;
    private bool _abort;
    private bool _inFlight;
    private bool _senderSleeping; // waiting without a time limit: a new entry must wake it
    private long _pendingDrops;
    private long _enqueued;
    private long _droppedQueueFull;
    private long _droppedDisposed;

    // Sending state, guarded by _sendLock: the sender thread and SendNow never send at the same time.
    private readonly object _sendLock = new();
    private readonly List<KeyValuePair<string, string>> _dictionary = new();
    private byte[] _text = new byte[1024];
    private ulong _sequence;
    private long _sent;
    private long _failures;
    private long _reloadFailures;
    private int _cachedThreadId = -1;
    private string _cachedThreadIdText = string.Empty;

    internal bool IsAccepting => Volatile.Read(ref _accepting);

    internal long ReloadFailures => Interlocked.Read(ref _reloadFailures);

    /// <summary>
    /// Waits until every record queued so far has been handed to the targets (and any pending
    /// drop notice sent). Returns at once, false, on the sender thread itself.
    /// </summary>
    /// <param name="timeout">The longest to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns>True when the queue was empty and nothing was being sent within the time.</returns>
    public bool Flush(TimeSpan timeout)
    {
        if (Thread.CurrentThread == _thread)
        {
            return false;
        }

        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(Math.Max(0, timeout.TotalSeconds) * Stopwatch.Frequency);
        lock (_queueLock)
        {
            while (_queue.Count > 0 || _inFlight || _pendingDrops > 0)
            {
                if (!_thread.IsAlive)
                {
                    return false;
                }

                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    return false;
                }

                int milliseconds = deadline == long.MaxValue ? 100 : (int)Math.Clamp(remaining * 1000 / Stopwatch.Frequency, 1, 100);
                Monitor.Wait(_queueLock, milliseconds);
            }

            return true;
        }
    }

    /// <summary>A snapshot of the provider's counters and queue length.</summary>
    /// <returns>The statistics.</returns>
    public NetconsoleLoggerStatistics GetStatistics()
    {
        lock (_queueLock)
        {
            return new NetconsoleLoggerStatistics(
                _enqueued,
                Interlocked.Read(ref _sent),
                _droppedQueueFull,
                _droppedDisposed,
                Interlocked.Read(ref _failures),
                _queue.Count);
        }
    }

    internal int QueueLength
    {
        get
        {
            lock (_queueLock)
            {
                return _queue.Count;
            }
        }
    }

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    internal LogEntry Rent()
    {
        lock (_queueLock)
        {
            if (_pool.TryPop(out LogEntry? entry))
            {
                return entry;
            }
        }

        return new LogEntry();
    }

    internal void Return(LogEntry entry)
    {
        entry.Clear();
        lock (_queueLock)
        {
            if (_pool.Count < MaxPooledEntries)
            {
                _pool.Push(entry);
            }
        }
    }

    /// <summary>Queues an entry, or waits for room, or drops it (counted), per the queue-full mode.</summary>
    internal void Enqueue(LogEntry entry)
    {
        lock (_queueLock)
        {
            while (true)
            {
                if (!_accepting)
                {
                    _droppedDisposed++;
                    break;
                }

                NetconsoleLoggerOptions options = _options;
                if (_queue.Count < options.MaxQueueLength)
                {
                    entry.DroppedBefore = _pendingDrops;
                    _pendingDrops = 0;
                    _queue.Enqueue(entry);
                    _enqueued++;
                    if (_senderSleeping)
                    {
                        // Only a sender in deep sleep needs waking; a polling one finds the entry within 1 ms,
                        // so a busy application pays no wake-up system call per record.
                        Monitor.PulseAll(_queueLock);
                    }

                    return;
                }

                // The sender thread itself never waits for room it alone could make.
                if (options.QueueFullMode == NetconsoleQueueFullMode.DropWrite || Thread.CurrentThread == _thread)
                {
                    _pendingDrops++;
                    _droppedQueueFull++;
                    break;
                }

                Monitor.Wait(_queueLock);
            }

            entry.Clear();
            if (_pool.Count < MaxPooledEntries)
            {
                _pool.Push(entry);
            }
        }
    }

    // After activity the sender polls the queue every millisecond for a while (MaxIdlePolls x 1 ms)
    // before it sleeps until woken: logging calls then never pay for waking it.
    private const int IdlePollMilliseconds = 1;
    private const int MaxIdlePolls = 100;

    private void RunSender()
    {
        int idlePolls = MaxIdlePolls;
        LogEntry? done = null;
        bool aborted = false;
        bool disposeManager = false;
        while (!aborted)
        {
            LogEntry? entry = null;
            long notice = 0;
            lock (_queueLock)
            {
                if (done is not null)
                {
                    done.Clear();
                    if (_pool.Count < MaxPooledEntries)
                    {
                        _pool.Push(done);
                    }

                    done = null;
                }

                while (true)
                {
                    if (_abort)
                    {
                        _inFlight = false;
                        Monitor.PulseAll(_queueLock);
                        aborted = true;
                        disposeManager = _senderDisposesManager;
                        break;
                    }

                    if (_queue.TryDequeue(out entry))
                    {
                        idlePolls = 0;
                        notice = entry.DroppedBefore;
                        _inFlight = true;
                        Monitor.PulseAll(_queueLock); // room for waiting loggers
                        break;
                    }

                    if (_pendingDrops > 0)
                    {
                        notice = _pendingDrops;
                        _pendingDrops = 0;
                        _inFlight = true;
                        break;
                    }

                    _inFlight = false;
                    Monitor.PulseAll(_queueLock); // idle: wakes Flush
                    if (_completing)
                    {
                        return;
                    }

                    if (idlePolls < MaxIdlePolls)
                    {
                        idlePolls++;
                        Monitor.Wait(_queueLock, IdlePollMilliseconds);
                    }
                    else
                    {
                        _senderSleeping = true;
                        Monitor.Wait(_queueLock);
                        _senderSleeping = false;
                    }
                }
            }

            if (aborted)
            {
                break;
            }

            lock (_sendLock)
            {
                SendNoticeAndEntry(notice, entry);
            }

            done = entry;
        }

        if (disposeManager)
        {
            DisposeManager();
        }
    }

    // Caller holds _sendLock.
    private void SendNoticeAndEntry(long notice, LogEntry? entry)
    {
        try
        {
            if (notice > 0)
            {
                SendNotice(notice);
            }

            if (entry is not null)
            {
                SendEntry(entry);
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
        }
    }

    private void SendNotice(long dropped)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"netconsole: {dropped} records dropped (queue full)");
        _dictionary.Clear();
        if (WantsDictionary)
        {
            _dictionary.Add(new("CATEGORY", ProviderCategory));
        }

        SendText(4, text, null, NetconsoleLogger.NowMicroseconds(), null, null);
    }

    private void SendEntry(LogEntry entry)
    {
        _dictionary.Clear();
        if (WantsDictionary)
        {
            AddHeaderPairs(entry.Category, entry.EventId);
            _dictionary.AddRange(entry.Pairs);
        }

        SendText(entry.Level, entry.Message, entry.Exception, entry.TimestampMicroseconds, entry.Cpu, entry.ThreadName ?? ThreadIdText(entry.ThreadId));
        Interlocked.Increment(ref _sent);
    }

    private void AddHeaderPairs(string category, EventId eventId)
    {
        _dictionary.Add(new("CATEGORY", category));
        if (eventId.Id != 0)
        {
            _dictionary.Add(new("EVENT_ID", eventId.Id.ToString(CultureInfo.InvariantCulture)));
        }

        if (!string.IsNullOrEmpty(eventId.Name))
        {
            _dictionary.Add(new("EVENT_NAME", eventId.Name));
        }
    }

    // Caller holds _sendLock; _dictionary is ready. The text is message, then "\n" and the exception.
    private void SendText(int level, string message, object? exception, ulong timestamp, int? cpu, string? taskName)
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
            Facility = _options.Facility,
            Sequence = ++_sequence,
            TimestampMicroseconds = timestamp,
            Dictionary = _dictionary.Count > 0 ? _dictionary : null,
            Cpu = cpu,
            TaskName = taskName,
        };
        Manager.Send(record);
    }

    private string ThreadIdText(int id)
    {
        if (id != _cachedThreadId)
        {
            _cachedThreadIdText = id.ToString(CultureInfo.InvariantCulture);
            _cachedThreadId = id;
        }

        return _cachedThreadIdText;
    }
}
