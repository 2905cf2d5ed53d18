using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Netconsole.Logging;

/// <summary>
/// The provider's queue and its one sender thread (<c>netconsole-logger</c>): logging threads
/// hand entries over (<see cref="Enqueue"/>), the sender takes them in order, in runs of what the
/// queue holds (at most <see cref="LogRecordWriter.RunLength"/>, never waiting for more), and
/// hands each run to the targets together through the <see cref="LogRecordWriter"/>, with drop
/// notices coalesced among them. Also:
/// <see cref="Flush"/>, records sent at once (<see cref="SendNow"/>), and draining on disposal
/// within a time limit (<see cref="Complete"/>).
/// </summary>
/// <remarks>
/// <para>
/// Drop notices: the drops the sender meets (carried by the entries it takes, or collected from
/// an empty queue) add up as pending; one notice announces all of them, at most one per
/// <see cref="DropNoticeInterval"/> (the first at once). Under overload nearly every queued
/// record carries a few dozen drops before it: a notice for each (the earlier design: 4,271
/// notices for 182,689 drops in one overload run) cost a record on the wire per few dozen lost, while
/// the receiver was already flooded. A notice goes out without waiting for the interval when the queue is found empty (the burst
/// is over, and the sender never goes idle with drops unannounced, so no timer is needed), when
/// <see cref="Flush"/> waits (it returns only once the drops counted before it are announced),
/// while disposal drains the queue (its time is limited), and before a record sent at once
/// (<see cref="SendNow"/>, crash reports). So a notice follows the drops it announces, not
/// necessarily at once: all of them happened before the record that comes after it, and since
/// the notice before it. Its text, <c>netconsole: N records dropped (queue full), T since
/// start</c>, gives N, the drops since the previous notice, and T, the drops announced since
/// the provider was created (the sum of every N so far): a receiver that misses a notice sees
/// T jump. The interval runs on <see cref="NetconsoleLoggerOptions.DropNoticeClock"/> (tests
/// freeze it). The pending count and the interval live inside the writer's lock, which the
/// sender and <see cref="SendNow"/> both take. Drops pending when disposal gives up on the
/// queue are not announced (nor are the records left in it); the statistics count them all.
/// </para>
/// <para>
/// Wait mode: a logging thread that finds the queue full sleeps on a monitor until the queue is
/// down to half its limit (<see cref="LowWater"/>); the sender pulses it only while someone waits.
/// Waking the logging thread for each free slot made it queue one record, find the queue full
/// again and sleep: a wake-up per record, competing for the cores with the sender.
/// </para>
/// <para>
/// The sender sleeps as soon as the queue is empty, and the first record queued after that wakes
/// it (one wake-up system call on that logging thread): a lone record leaves at once. While the
/// queue is not empty nobody is woken: a busy application pays no wake-up per record, and what a
/// burst queues while a run is being sent goes in the next run. (The sender used to poll every
/// millisecond for 100 ms after activity instead of sleeping, sparing logging threads that
/// wake-up, but a record logged then waited up to ~1.1 ms for the next poll: over the 1 ms a
/// lone record may take, bench/RESULTS.md, "lone".)
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The wake-up event never allocates a kernel handle (its WaitHandle is never read), so it holds nothing to release; disposing it while a logging thread may still set it would throw into the logging path.")]
internal sealed class NetconsoleLoggerProcessor
{
    internal const string SenderThreadName = "netconsole-logger";

    // How long the sender stays idle before it shrinks a grown queue and forgets the scopes it saw.
    private const int ReleaseAfterIdleMilliseconds = 5000;

    // A waiting logging thread or Flush looks again at least this often, whatever it was told.
    private const int WaitSliceMilliseconds = 10;

    /// <summary>The shortest time between two drop notices, unless one is forced (see the remarks).</summary>
    internal static readonly TimeSpan DropNoticeInterval = TimeSpan.FromMilliseconds(100);

    private const int SenderIdle = 0;
    private const int SenderSending = 1;
    private const int SenderAborted = 2;

    private readonly LogQueue _queue;
    private readonly LogRecordWriter _writer;
    private readonly Action _disposeManager;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _wake = new(initialState: false, spinCount: 1);
    private readonly object _roomLock = new(); // Wait-mode logging threads wait on it for room
    private readonly object _flushLock = new(); // Flush waits on it for the sender to catch up
    private readonly TimeProvider _clock; // of the drop-notice interval
    private readonly long _noticeInterval; // DropNoticeInterval in the clock's ticks
    private readonly int _runLength; // the most entries taken into one run
    private volatile NetconsoleLoggerOptions _options;
    private volatile bool _accepting = true;
    private volatile bool _completing;
    private int _senderSleeping; // 1 while the sender sleeps without a time limit: a new entry must wake it
    private int _roomWaiters;
    private int _flushWaiters;
    private SenderProgress _progress; // written by the sender per record: apart from what logging threads read
    private long _droppedQueueFull;
    private long _droppedDisposed;
    private long _errors;

    // Inside the writer only (the sender's Send, SendNow). The sender also reads _pendingDrops
    // outside it, as a hint: only the sender leaves it above 0 (SendNow announces what it adds
    // before it lets go of the writer), so the sender never misses its own drops.
    private long _pendingDrops; // drops met and not yet announced
    private long _nextNoticeAt = long.MinValue; // clock timestamp from which a notice may go out unforced
    private long _announcedTotal; // drops announced in notices written, handed over or staged (Announced: handed over)

    /// <summary>Creates the processor and starts its sender thread.</summary>
    /// <param name="queue">The queue (a new one).</param>
    /// <param name="writer">What turns entries into records and sends them.</param>
    /// <param name="options">The options in force (queue limit and mode; the drop-notice clock, read once).</param>
    /// <param name="disposeManager">What the sender does when disposal gave up on it during a send: dispose the targets once the send returns.</param>
    public NetconsoleLoggerProcessor(LogQueue queue, LogRecordWriter writer, NetconsoleLoggerOptions options, Action disposeManager)
    {
        _queue = queue;
        _writer = writer;
        _options = options;
        _disposeManager = disposeManager;
        _clock = options.DropNoticeClock ?? TimeProvider.System;
        _runLength = Math.Clamp(options.SenderRunLength, 1, LogRecordWriter.RunLength);
        _noticeInterval = Math.Max(1, (long)Math.Round(DropNoticeInterval.TotalSeconds * _clock.TimestampFrequency));
        _thread = new Thread(RunSender) { IsBackground = true, Name = SenderThreadName };
        _thread.Start();
    }

    /// <summary>The options in force; a new value frees Wait-mode logging threads to look again (a longer queue, or DropWrite).</summary>
    public NetconsoleLoggerOptions Options
    {
        get => _options;
        set
        {
            _options = value;
            PulseRoom();
        }
    }

    /// <summary>False once disposal began: records logged after it are counted as dropped.</summary>
    public bool IsAccepting => _accepting;

    /// <summary>True once disposal began draining the queue: drop notices no longer wait for their interval (tests wait for it).</summary>
    public bool IsCompleting => _completing;

    /// <summary>The queue itself (tests look at its storage).</summary>
    public LogQueue Queue => _queue;

    /// <summary>Records waiting for the sender thread.</summary>
    public int RecordsQueued => _queue.Count;

    /// <summary>Logging threads waiting for room (Wait mode; tests wait for one to be there).</summary>
    public int RoomWaiters => Volatile.Read(ref _roomWaiters);

    /// <summary>Threads in <see cref="Flush"/> (tests wait for one to be there).</summary>
    public int FlushWaiters => Volatile.Read(ref _flushWaiters);

    /// <summary>A Wait-mode logging thread that found the queue full sleeps until it holds at most this many records: half the limit.</summary>
    public static int LowWater(int maxQueueLength) => Math.Max(0, maxQueueLength) / 2;

    /// <summary>A snapshot of the counters.</summary>
    /// <returns>The statistics.</returns>
    public NetconsoleLoggerStatistics GetStatistics() => new(
        _queue.Enqueued,
        _writer.RecordsDelivered,
        _writer.RecordsUndelivered,
        Interlocked.Read(ref _droppedQueueFull),
        Interlocked.Read(ref _droppedDisposed),
        Interlocked.Read(ref _errors),
        _queue.Count,
        _writer.DictionaryValuesTruncated);

    /// <summary>Counts an exception caught on the logging path.</summary>
    public void CountError() => Interlocked.Increment(ref _errors);

    /// <summary>Counts a record logged once disposal began.</summary>
    public void CountDroppedDisposed() => Interlocked.Increment(ref _droppedDisposed);

    /// <summary>
    /// Queues (a copy of) a filled entry, or waits for room, or drops it (counted), per the
    /// queue-full mode. The entry stays the caller's.
    /// </summary>
    /// <param name="entry">The entry.</param>
    public void Enqueue(LogEntry entry)
    {
        NetconsoleLoggerOptions options = _options;
        OfferResult result = _queue.Offer(entry, options.MaxQueueLength, options.QueueFullMode == NetconsoleQueueFullMode.DropWrite);
        if (result == OfferResult.Enqueued)
        {
            // Only a sender in deep sleep needs waking; a polling one finds the entry within 1 ms.
            // The offer's compare-and-swap (or lock) orders this read after the entry's claim (the
            // sender sets the flag, then looks at the queue).
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

    /// <summary>
    /// Sends one record on the calling thread, bypassing the queue, after announcing the drops
    /// not yet announced. Waits at most <paramref name="writerTimeout"/> for a send in progress on
    /// the sender thread; past it the record is not sent and counted as an error. Never throws.
    /// </summary>
    /// <param name="syslogLevel">The syslog level.</param>
    /// <param name="message">The text (null: empty).</param>
    /// <param name="exception">An exception (or an unhandled-exception event's object) to append, or null.</param>
    /// <param name="category">The <c>CATEGORY=</c>; null for <see cref="LogRecordWriter.ProviderCategory"/>.</param>
    /// <param name="writerTimeout">The longest to wait for the writer.</param>
    public void SendNow(int syslogLevel, string? message, object? exception, string? category, TimeSpan writerTimeout)
    {
        try
        {
            ulong timestamp = NetconsoleRecord.GetTimestampMicroseconds();
            if (!_writer.TryEnter(writerTimeout))
            {
                // The sender is stuck in a send past the time limit; sending alongside it
                // would share its buffers and break the order. Give up, counted.
                Interlocked.Increment(ref _errors);
                return;
            }

            try
            {
                // The drops the sender holds back and those no entry carries yet: all of them
                // happened before this record, whatever the interval says. (Drops the sender has
                // just collected from an empty queue, about to enter the writer, go out after it.)
                _pendingDrops += _queue.TakeDrops();
                if (_pendingDrops > 0)
                {
                    AnnouncePending();
                }

                _writer.WriteMessage(syslogLevel, message ?? string.Empty, exception, category ?? LogRecordWriter.ProviderCategory, timestamp);
                _queue.DeathWatch?.SequenceUsed(_writer.NextSequence);
            }
            finally
            {
                LeaveWriter();
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    /// <summary>
    /// Stops accepting records, lets the sender drain the queue for at most
    /// <paramref name="timeout"/>, then gives up on what is left (counted as dropped at disposal).
    /// </summary>
    /// <param name="timeout">The time limit of the drain.</param>
    /// <returns>
    /// True when the sender is stuck in a send past the limit: it disposes the targets itself once
    /// that send returns (through the action given at construction), so the caller must not.
    /// </returns>
    public bool Complete(TimeSpan timeout)
    {
        _accepting = false;
        _completing = true;
        _queue.Close(); // from here on every offer is refused (and counted): the queue only drains
        PulseRoom();
        WakeSender();
        if (Thread.CurrentThread == _thread || _thread.Join(timeout))
        {
            return false;
        }

        // A sender stuck in a send would hold up disposing the targets: it disposes them itself
        // once the send returns, and the caller goes on.
        bool leftToSender = Interlocked.Exchange(ref _progress.State, SenderAborted) == SenderSending;
        Interlocked.Add(ref _droppedDisposed, _queue.Abandon());
        WakeSender();
        return leftToSender;
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
                    // lock cannot miss that pulse.
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

    // The sender thread: one step per turn until there is nothing more to send.
    private void RunSender()
    {
        var idle = new IdleState { Released = true };
        SenderStep step;
        do
        {
            step = _queue.TryTake(out LogEntry? entry, out long position, out long dropped) switch
            {
                TakeResult.Taken => SendTaken(entry!, position, dropped, ref idle),

                // The queue is empty: the burst is over, so the drops pending go out now.
                TakeResult.Drops => StepAfter(SendNotice(dropped)),
                TakeResult.Abandoned => SenderStep.Stop,
                TakeResult.Empty or TakeResult.Drained when _pendingDrops > 0 => StepAfter(SendNotice(0)),
                TakeResult found => Idle(found == TakeResult.Drained, ref idle),
            };
        }
        while (step == SenderStep.Next);

        if (Volatile.Read(ref _flushWaiters) != 0)
        {
            PulseFlush();
        }

        if (step == SenderStep.StopAndDisposeManager)
        {
            _disposeManager();
        }
    }

    // An entry taken: it leaves the queue's room behind at once, so Wait-mode logging threads may
    // go on. Then the run: the entries the queue holds behind it are taken too (at most
    // LogRecordWriter.RunLength, none waited for) and written, each after a notice when one is
    // due, and the run goes to the targets together when the sender leaves the writer: a burst's
    // frames go out back to back, a lone record at once. Marked done for Flush after the run.
    private SenderStep SendTaken(LogEntry entry, long position, long dropped, ref IdleState idle)
    {
        idle = default; // busy: something may grow now, to be given back after a while idle
        ReleaseRoomWaiters();
        if (Interlocked.CompareExchange(ref _progress.State, SenderSending, SenderIdle) != SenderIdle)
        {
            Interlocked.Increment(ref _droppedDisposed); // taken just as disposal gave up
            return SenderStep.Stop;
        }

        long completed = position + 1;
        _writer.Enter();
        try
        {
            Write(entry, dropped);
            for (int taken = 1; taken < _runLength && Volatile.Read(ref _progress.State) == SenderSending; taken++)
            {
                TakeResult found = _queue.TryTake(out LogEntry? next, out long nextPosition, out long nextDropped);
                if (found == TakeResult.Taken)
                {
                    ReleaseRoomWaiters();
                    Write(next!, nextDropped);
                    completed = nextPosition + 1;
                    continue;
                }

                if (found == TakeResult.Drops)
                {
                    // The queue is empty: the burst is over, so the drops pending go out now.
                    _pendingDrops += nextDropped;
                    AnnouncePending();
                }

                break; // empty, drained or abandoned: the loop looks again after the run
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _errors);
        }
        finally
        {
            LeaveWriter(); // the run goes to the targets
        }

        entry.Clear(); // the consumer's entry keeps no reference to the last record's objects
        Volatile.Write(ref _progress.Completed, completed);
        _queue.DeathWatch?.Sent(completed, _writer.NextSequence);
        return Interlocked.CompareExchange(ref _progress.State, SenderIdle, SenderSending) == SenderSending
            ? SenderStep.Next
            : SenderStep.StopAndDisposeManager;
    }

    // Inside the writer: the drops before the entry (a notice first, when due), then the entry.
    private void Write(LogEntry entry, long dropped)
    {
        _pendingDrops += dropped;
        if (_pendingDrops > 0 && (NoticeForced() || _clock.GetTimestamp() >= _nextNoticeAt))
        {
            AnnouncePending();
        }

        if (entry.Level != LogEntry.Broken)
        {
            _writer.WriteEntry(entry);
        }
    }

    // Pulses Wait-mode logging threads once the queue is down to the low-water mark: one wake-up
    // per many records instead of one per record.
    private void ReleaseRoomWaiters()
    {
        if (Volatile.Read(ref _roomWaiters) != 0 && _queue.Count <= LowWater(_options.MaxQueueLength))
        {
            PulseRoom(); // the take's compare-and-swap (or lock) was the fence this read needs
        }
    }

    // The queue is empty: adds `dropped` to the drops pending and sends their notice (the burst is
    // over); unless disposal gave up.
    private SendOutcome SendNotice(long dropped)
    {
        if (Interlocked.CompareExchange(ref _progress.State, SenderSending, SenderIdle) != SenderIdle)
        {
            return SendOutcome.NotSent;
        }

        _writer.Enter();
        try
        {
            _pendingDrops += dropped;
            if (_pendingDrops > 0)
            {
                AnnouncePending();
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _errors);
        }
        finally
        {
            LeaveWriter();
        }

        return Interlocked.CompareExchange(ref _progress.State, SenderIdle, SenderSending) == SenderSending
            ? SendOutcome.Sent
            : SendOutcome.SentAfterDisposal;
    }

    // Whether the drops pending go out before the next record whatever the interval: Flush waits
    // for them (and for the records, which the interval does not hold back), or disposal drains
    // within a time limit. The flush waiter's count is read per record only while drops are pending.
    private bool NoticeForced() => _completing || Volatile.Read(ref _flushWaiters) != 0;

    // Inside the writer: one notice for every drop pending (staged: it goes to the targets with
    // the run, when the writer is left); the interval starts again. Counted as announced even when
    // the notice throws (counted as an error): Flush must not wait for it.
    private void AnnouncePending()
    {
        long dropped = _pendingDrops;
        _announcedTotal += dropped;
        _pendingDrops = 0;
        _nextNoticeAt = _clock.GetTimestamp() + _noticeInterval;
        _writer.WriteNotice(dropped, _announcedTotal);
    }

    // Leaves the writer, which hands the run staged to the targets; then the drops announced in it
    // are published to Flush (never before their notice was handed over).
    private void LeaveWriter()
    {
        long announced = _announcedTotal; // read inside the writer
        try
        {
            _writer.Exit();
        }
        finally
        {
            long published = Volatile.Read(ref _progress.Announced);
            while (published < announced)
            {
                long seen = Interlocked.CompareExchange(ref _progress.Announced, announced, published);
                if (seen == published)
                {
                    break;
                }

                published = seen;
            }
        }
    }

    // Nothing to take. Flush may be waiting for this moment; then sleep until woken.
    private SenderStep Idle(bool drained, ref IdleState idle)
    {
        Interlocked.MemoryBarrier(); // the flush waiter's count is read after the queue was seen empty
        if (Volatile.Read(ref _flushWaiters) != 0)
        {
            PulseFlush();
        }

        if (drained || Volatile.Read(ref _progress.State) == SenderAborted)
        {
            return SenderStep.Stop;
        }

        SleepUntilWoken(ref idle);
        return SenderStep.Next;
    }

    // Announces the sleep, then looks once more: a logging thread that queued meanwhile is either
    // seen here or reads the announcement and wakes the sender (see LogQueue.HasWork).
    private void SleepUntilWoken(ref IdleState idle)
    {
        _wake.Reset();
        Interlocked.Exchange(ref _senderSleeping, 1);
        if (_queue.HasWork() || _completing)
        {
            Volatile.Write(ref _senderSleeping, 0);
            return;
        }

        if (idle.Released)
        {
            _wake.Wait();
            Volatile.Write(ref _senderSleeping, 0);
            return;
        }

        bool woken = _wake.Wait(ReleaseAfterIdleMilliseconds);
        Volatile.Write(ref _senderSleeping, 0);
        if (!woken)
        {
            ReleaseAfterIdle();
            idle.Released = true;
        }
    }

    // Still idle after a while: give back what a burst or an outlier record grew and forget the scopes seen. Not at
    // once, so bursts a few seconds apart do not grow the queue again each time.
    private void ReleaseAfterIdle()
    {
        _queue.TryShrink();
        _writer.ReleaseAfterIdle();
    }

    private static SenderStep StepAfter(SendOutcome outcome) => outcome switch
    {
        SendOutcome.Sent => SenderStep.Next,
        SendOutcome.SentAfterDisposal => SenderStep.StopAndDisposeManager,
        _ => SenderStep.Stop,
    };

    /// <summary>The sender's per-record counters, alone on their cache lines so logging threads reading the processor's fields never miss on them. Flush reads them.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct SenderProgress
    {
        /// <summary>SenderIdle, SenderSending (a send in progress) or SenderAborted (disposal gave up).</summary>
        [FieldOffset(64)]
        public int State;

        /// <summary>The position after the last entry the sender finished with.</summary>
        [FieldOffset(72)]
        public long Completed;

        /// <summary>Drops announced (handed to the targets in a notice): the running total a notice shows. Raised once the notice was handed over (sender or SendNow, see LeaveWriter).</summary>
        [FieldOffset(80)]
        public long Announced;
    }

    /// <summary>The sender's idle bookkeeping: a local of its loop, nothing another thread reads. The default is "just busy".</summary>
    private struct IdleState
    {
        /// <summary>Nothing grown or remembered since the last release (<see cref="ReleaseAfterIdle"/>): sleep without a time limit.</summary>
        public bool Released;
    }

    private enum SendOutcome
    {
        Sent,
        NotSent, // disposal had given up: nothing sent
        SentAfterDisposal, // disposal gave up during the send and left the targets to the sender
    }

    private enum SenderStep
    {
        Next,
        Stop, // drained, abandoned, or disposal gave up
        StopAndDisposeManager, // disposal gave up during a send and left the targets to the sender
    }
}
