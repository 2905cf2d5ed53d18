using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>The bounded queue, the sender thread, flushing, and sending one record.</summary>
/// <remarks>
/// <para>
/// Logging threads hand entries over through <see cref="LogQueue"/> without a lock. In
/// <see cref="NetconsoleQueueFullMode.Wait"/> mode a logging thread that finds the queue full
/// waits on a monitor the sender pulses when it takes an entry (only while someone waits).
/// </para>
/// <para>
/// The sender thread, after activity, polls the queue every millisecond for a while
/// (<see cref="MaxIdlePolls"/> polls) before it sleeps until woken: a busy application pays no
/// wake-up system call per record; only the first record after a sleep wakes it.
/// </para>
/// <para>
/// Per record, in steady state, the sender thread allocates nothing: the dictionary list, the
/// text buffer and the value texts (<see cref="ValueTexts"/>) are reused. Allocated on the
/// sender: an exception's text (<see cref="Exception.ToString"/>), a drop notice's text, the text
/// of a value not seen recently, and buffers growing to the largest record so far.
/// </para>
/// </remarks>
public sealed partial class NetconsoleLoggerProvider
{
    internal const string SenderThreadName = "netconsole-logger";
    internal const string ProviderCategory = "Netconsole.Logging";

    // After activity the sender polls the queue every millisecond for a while (MaxIdlePolls x 1 ms)
    // before it sleeps until woken: logging calls then never pay for waking it.
    private const int IdlePollMilliseconds = 1;
    private const int MaxIdlePolls = 100;

    // How long the sender stays idle before it shrinks a grown queue and forgets the scopes it saw.
    private const int ReleaseAfterIdleMilliseconds = 5000;

    // A waiting logging thread or Flush looks again at least this often, whatever it was told.
    private const int WaitSliceMilliseconds = 10;

    private const int SenderIdle = 0;
    private const int SenderSending = 1;
    private const int SenderAborted = 2;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly LogQueue _queue = new();
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _wake = new(initialState: false, spinCount: 1);
    private readonly object _roomLock = new(); // Wait-mode logging threads wait on it for room
    private readonly object _flushLock = new(); // Flush waits on it for the sender to catch up
    private volatile bool _accepting = true;
    private volatile bool _completing;
    private int _senderSleeping; // 1 while the sender sleeps without a time limit: a new entry must wake it
    private int _roomWaiters;
    private int _flushWaiters;
    private SenderProgress _progress; // written by the sender per record: apart from what logging threads read
    private long _droppedQueueFull;
    private long _droppedDisposed;

    // Sending state, guarded by _sendLock: the sender thread and SendNow never send at the same time.
    private readonly object _sendLock = new();
    private readonly List<KeyValuePair<string, string>> _dictionary = new();
    private readonly List<KeyValuePair<string, object?>> _values = new();
    private readonly ValueTexts _texts = new();
    private byte[] _text = new byte[1024];
    private long _failures;
    private long _reloadFailures;

    internal bool IsAccepting => _accepting;

    internal long ReloadFailures => Interlocked.Read(ref _reloadFailures);

    /// <summary>
    /// Waits until every record queued before the call has been handed to the targets (and the
    /// drops counted before the call announced). Returns at once, false, on the sender thread itself.
    /// </summary>
    /// <param name="timeout">The longest to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns>True when all of it was handed over within the time.</returns>
    public bool Flush(TimeSpan timeout)
    {
        if (Thread.CurrentThread == _thread)
        {
            return false;
        }

        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(Math.Max(0, timeout.TotalSeconds) * Stopwatch.Frequency);
        long target = _queue.TailPosition64();
        long drops = Volatile.Read(ref _droppedQueueFull);
        Interlocked.Increment(ref _flushWaiters);
        try
        {
            lock (_flushLock)
            {
                while (Volatile.Read(ref _progress.Completed) < target || Volatile.Read(ref _progress.Announced) < drops)
                {
                    if (!_thread.IsAlive || Volatile.Read(ref _progress.State) == SenderAborted)
                    {
                        return false;
                    }

                    long remaining = deadline - Stopwatch.GetTimestamp();
                    if (remaining <= 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_flushLock, (int)Math.Clamp(remaining * 1000 / Stopwatch.Frequency, 1, WaitSliceMilliseconds));
                }

                return true;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _flushWaiters);
        }
    }

    /// <summary>A snapshot of the provider's counters and queue length.</summary>
    /// <returns>The statistics.</returns>
    public NetconsoleLoggerStatistics GetStatistics() => new(
        _queue.Enqueued,
        Interlocked.Read(ref _progress.Sent),
        Interlocked.Read(ref _droppedQueueFull),
        Interlocked.Read(ref _droppedDisposed),
        Interlocked.Read(ref _failures),
        _queue.Count);

    internal int QueueLength => _queue.Count;

    /// <summary>The queue itself (tests look at its segments).</summary>
    internal LogQueue Queue => _queue;

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    internal void CountDroppedDisposed() => Interlocked.Increment(ref _droppedDisposed);

    /// <summary>
    /// Queues (a copy of) a filled entry, or waits for room, or drops it (counted), per the
    /// queue-full mode. The entry stays the caller's.
    /// </summary>
    internal void Enqueue(LogEntry entry)
    {
        NetconsoleLoggerOptions options = _options;
        OfferResult result = _queue.Offer(entry, options.MaxQueueLength, options.QueueFullMode == NetconsoleQueueFullMode.DropWrite);
        if (result == OfferResult.Enqueued)
        {
            // Only a sender in deep sleep needs waking; a polling one finds the entry within 1 ms.
            // The offer's compare-and-swap orders this read after the entry's claim (the sender
            // sets the flag, then looks at the queue).
            if (Volatile.Read(ref _senderSleeping) != 0 && Interlocked.Exchange(ref _senderSleeping, 0) != 0)
            {
                _wake.Set();
            }

            return;
        }

        if (result == OfferResult.Full)
        {
            result = WaitForRoom(entry);
        }

        if (result != OfferResult.Enqueued)
        {
            Interlocked.Increment(ref result == OfferResult.Dropped ? ref _droppedQueueFull : ref _droppedDisposed);
        }
    }

    // Wait mode, queue full. The sender thread itself never waits for room it alone could make.
    private OfferResult WaitForRoom(LogEntry entry)
    {
        if (Thread.CurrentThread == _thread)
        {
            return _queue.Offer(entry, _options.MaxQueueLength, dropWhenFull: true);
        }

        Interlocked.Increment(ref _roomWaiters);
        try
        {
            while (true)
            {
                NetconsoleLoggerOptions options = _options;
                OfferResult result = _queue.Offer(entry, options.MaxQueueLength, options.QueueFullMode == NetconsoleQueueFullMode.DropWrite);
                if (result != OfferResult.Full)
                {
                    if (result == OfferResult.Enqueued && Interlocked.Exchange(ref _senderSleeping, 0) != 0)
                    {
                        _wake.Set();
                    }

                    return result;
                }

                lock (_roomLock)
                {
                    // The sender takes an entry, then (after a full fence) pulses when it sees a
                    // waiter and the queue at or below the low-water mark: looking again under the
                    // lock cannot miss that pulse. Waiting for half the queue to drain (not for one
                    // free slot) makes one wake-up per many records instead of one per record.
                    if (_queue.Count > LowWater(options.MaxQueueLength) && _accepting && ReferenceEquals(options, _options))
                    {
                        Monitor.Wait(_roomLock, WaitSliceMilliseconds);
                    }
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _roomWaiters);
        }
    }

    /// <summary>A Wait-mode logging thread that found the queue full sleeps until it holds at most this many records: half the limit.</summary>
    internal static int LowWater(int maxQueueLength) => Math.Max(0, maxQueueLength) / 2;

    private void PulseRoom()
    {
        lock (_roomLock)
        {
            Monitor.PulseAll(_roomLock);
        }
    }

    private void PulseFlush()
    {
        lock (_flushLock)
        {
            Monitor.PulseAll(_flushLock);
        }
    }

    private void WakeSender()
    {
        Volatile.Write(ref _senderSleeping, 0);
        _wake.Set();
    }

    private void RunSender()
    {
        int idlePolls = MaxIdlePolls;
        bool released = true; // nothing grown or remembered since the last release
        bool disposeManager = false;
        while (true)
        {
            TakeResult taken = _queue.TryTake(out LogEntry? entry, out long position, out long dropped);
            if (taken == TakeResult.Taken)
            {
                idlePolls = 0;
                released = false;
                if (Volatile.Read(ref _roomWaiters) != 0 && _queue.Count <= LowWater(_options.MaxQueueLength))
                {
                    PulseRoom(); // the take's compare-and-swap was the fence this read needs
                }

                SendOutcome outcome = Send(dropped, entry!.Level == LogEntry.Broken ? null : entry);
                if (outcome != SendOutcome.Sent)
                {
                    if (outcome == SendOutcome.NotSent)
                    {
                        Interlocked.Increment(ref _droppedDisposed); // taken just as disposal gave up
                    }

                    disposeManager = outcome == SendOutcome.SentAfterDisposal;
                    break;
                }

                Volatile.Write(ref _progress.Completed, position + 1);
                _queue.Recycle(entry!);
                continue;
            }

            if (taken == TakeResult.Drops)
            {
                SendOutcome outcome = Send(dropped, null);
                if (outcome != SendOutcome.Sent)
                {
                    disposeManager = outcome == SendOutcome.SentAfterDisposal;
                    break;
                }

                continue;
            }

            if (taken == TakeResult.Abandoned)
            {
                break;
            }

            // Idle: Flush may be waiting for this moment.
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _flushWaiters) != 0)
            {
                PulseFlush();
            }

            if (taken == TakeResult.Drained || Volatile.Read(ref _progress.State) == SenderAborted)
            {
                break;
            }

            if (idlePolls < MaxIdlePolls)
            {
                idlePolls++;
                Thread.Sleep(IdlePollMilliseconds);
                continue;
            }

            _wake.Reset();
            Interlocked.Exchange(ref _senderSleeping, 1);
            if (_queue.HasWork() || _completing)
            {
                Volatile.Write(ref _senderSleeping, 0);
                continue;
            }

            if (released)
            {
                _wake.Wait();
                Volatile.Write(ref _senderSleeping, 0);
                continue;
            }

            // Still idle after a while: give back what a burst grew and forget the scopes seen.
            // Not at once, so bursts a few seconds apart do not grow the queue again each time.
            bool woken = _wake.Wait(ReleaseAfterIdleMilliseconds);
            Volatile.Write(ref _senderSleeping, 0);
            if (!woken)
            {
                _queue.TryShrink();
                lock (_sendLock)
                {
                    _texts.ForgetScopes();
                }

                released = true;
            }
        }

        if (Volatile.Read(ref _flushWaiters) != 0)
        {
            PulseFlush();
        }

        if (disposeManager)
        {
            DisposeManager();
        }
    }

    /// <summary>The sender's per-record counters, alone on their cache lines so logging threads reading the provider's fields never miss on them.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct SenderProgress
    {
        /// <summary>SenderIdle, SenderSending (a send in progress) or SenderAborted (disposal gave up).</summary>
        [FieldOffset(64)]
        public int State;

        /// <summary>The position after the last entry the sender finished with.</summary>
        [FieldOffset(72)]
        public long Completed;

        /// <summary>Drops announced (handed to the targets in a notice).</summary>
        [FieldOffset(80)]
        public long Announced;

        /// <summary>Records handed to the targets.</summary>
        [FieldOffset(88)]
        public long Sent;

        /// <summary>The last sequence number used (guarded by the send lock).</summary>
        [FieldOffset(96)]
        public ulong Sequence;
    }

    private enum SendOutcome
    {
        Sent,
        NotSent, // disposal had given up: nothing sent
        SentAfterDisposal, // disposal gave up during the send and left the manager to the sender
    }

    // Sends a notice for `notice` drops (if any), then the entry (if any), unless disposal gave up.
    private SendOutcome Send(long notice, LogEntry? entry)
    {
        if (Interlocked.CompareExchange(ref _progress.State, SenderSending, SenderIdle) != SenderIdle)
        {
            return SendOutcome.NotSent;
        }

        lock (_sendLock)
        {
            SendNoticeAndEntry(notice, entry);
        }

        if (notice > 0)
        {
            Interlocked.Add(ref _progress.Announced, notice);
        }

        return Interlocked.CompareExchange(ref _progress.State, SenderIdle, SenderSending) == SenderSending
            ? SendOutcome.Sent
            : SendOutcome.SentAfterDisposal;
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
        ClearPairs();
        if (WantsDictionary)
        {
            _dictionary.Add(new("CATEGORY", ProviderCategory));
        }

        SendText(4, text, null, NetconsoleRecord.GetTimestampMicroseconds(), null, null);
    }

    private void SendEntry(LogEntry entry)
    {
        ClearPairs();
        if (WantsDictionary)
        {
            AddHeaderPairs(entry.Category, entry.EventId);
            List<KeyValuePair<string, object?>> pairs = entry.Pairs;
            for (int i = 0; i < pairs.Count; i++)
            {
                _values.Add(new(pairs[i].Key, _texts.ForRecord(pairs[i].Value)));
            }
        }

        SendText(entry.Level, entry.Message, entry.Exception, entry.TimestampMicroseconds, entry.Cpu, entry.ThreadName ?? _texts.Of(entry.ThreadId));
        Interlocked.Increment(ref _progress.Sent);
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

    // Caller holds _sendLock: every record starts without pairs (SendText sends both lists).
    private void ClearPairs()
    {
        _dictionary.Clear();
        _values.Clear();
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
            Sequence = ++_progress.Sequence,
            TimestampMicroseconds = timestamp,
            Dictionary = _dictionary.Count > 0 ? _dictionary : null,
            Values = _values.Count > 0 ? _values : null,
            Cpu = cpu,
            TaskName = taskName,
        };
        Manager.Send(record);
    }
}
