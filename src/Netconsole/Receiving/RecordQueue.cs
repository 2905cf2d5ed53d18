using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Netconsole.Receiving;

/// <summary>
/// A <see cref="NetconsoleReceiver"/>'s records waiting for a reader: bounded in records and in
/// decoded bytes, the oldest dropped (and counted) when a new one does not fit, so a receive
/// thread never waits for a reader. A receive thread adds what one batch of datagrams completed
/// under one lock, and wakes a waiting reader once for it: per record, a shared channel cost the
/// receive threads of several sockets more in contention than their reassembly.
/// </summary>
/// <remarks>
/// Reading follows <see cref="Channel{T}"/>'s rules, which the receiver's readers were written
/// against: waiting says false once the queue is completed and empty (or throws the failure it
/// was completed with); <see cref="ReadAsync"/> then throws <see cref="ChannelClosedException"/>
/// (with the failure inside). Every member is thread-safe.
/// </remarks>
internal sealed class RecordQueue(int capacity, long maxBytes)
{
    private readonly Lock _lock = new();
    private ReceivedRecord[] _ring = new ReceivedRecord[Math.Min(capacity, 64)];
    private int _head;
    private int _count;
    private long _bytes;
    private long _dropped;
    private bool _completed;
    private Exception? _failure;
    private TaskCompletionSource? _waiting; // completed when records come or the queue completes

    /// <summary>Records waiting now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>What the records waiting hold, decoded (<see cref="ReceivedRecord.Cost"/>).</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Records dropped unread to make room.</summary>
    public long Dropped
    {
        get
        {
            lock (_lock)
            {
                return _dropped;
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="records"/> in order; for each, the oldest waiting go while it
    /// would not fit (a record alone over the byte budget still goes in). Nothing is added
    /// after <see cref="Complete"/>.
    /// </summary>
    /// <returns>How many were queued.</returns>
    public int Add(List<ReceivedRecord> records)
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            if (_completed)
            {
                return 0;
            }

            foreach (ReceivedRecord record in records)
            {
                while (_count > 0 && (_count >= capacity || _bytes + record.Cost > maxBytes))
                {
                    _bytes -= Take().Cost;
                    _dropped++;
                }

                if (_count == _ring.Length)
                {
                    Grow();
                }

                _ring[(_head + _count) % _ring.Length] = record;
                _count++;
                _bytes += record.Cost;
            }

            wake = _waiting;
            _waiting = null;
        }

        wake?.TrySetResult(); // outside the lock: the reader runs elsewhere (RunContinuationsAsynchronously)
        return records.Count;
    }

    /// <summary>Ends the queue: no more records; readers take what waits, then see it completed (with <paramref name="failure"/>, when given).</summary>
    public void Complete(Exception? failure)
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _failure = failure;
            wake = _waiting;
            _waiting = null;
        }

        wake?.TrySetResult();
    }

    public bool TryRead([MaybeNullWhen(false)] out ReceivedRecord record)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                record = null;
                return false;
            }

            record = Take();
            _bytes -= record.Cost;
            return true;
        }
    }

    /// <summary>True when a record waits or came while waiting (another reader may have taken it: TryRead says); false when the queue is completed and empty (or the failure it was completed with).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        lock (_lock)
        {
            if (_count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return _failure is null ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(_failure);
            }
        }

        return WaitAsync(cancellationToken);
    }

    public async ValueTask<ReceivedRecord> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task signal;
            lock (_lock)
            {
                if (_count > 0)
                {
                    ReceivedRecord record = Take();
                    _bytes -= record.Cost;
                    return record;
                }

                if (_completed)
                {
                    throw _failure switch
                    {
                        null => new ChannelClosedException(),
                        OperationCanceledException canceled => canceled,
                        _ => new ChannelClosedException(_failure),
                    };
                }

                signal = Signal();
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // As a channel's WaitToReadAsync: true once records came, even if another reader took them
    // first (its caller's TryRead then finds none and waits again); false or the failure once the
    // queue is completed and empty. Waiting again after a wake could miss the only record for good
    // when a concurrent ReadAsync took it.
    private async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        Task signal;
        lock (_lock)
        {
            if (_count > 0)
            {
                return true;
            }

            if (_completed)
            {
                return CompletedAndEmpty();
            }

            signal = Signal();
        }

        await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            return _count > 0 || !_completed || CompletedAndEmpty();
        }
    }

    // Under _lock, completed with nothing left: false, or the failure thrown.
    private bool CompletedAndEmpty()
    {
        if (_failure is not null)
        {
            ExceptionDispatchInfo.Throw(_failure);
        }

        return false;
    }

    // Under _lock: the signal the next Add or Complete gives, shared by every reader waiting.
    private Task Signal() => (_waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    // Under _lock, with _count > 0.
    private ReceivedRecord Take()
    {
        ReceivedRecord record = _ring[_head];
        _ring[_head] = null!;
        _head = (_head + 1) % _ring.Length;
        _count--;
        return record;
    }

    // Under _lock: twice the room, at most the capacity, the records moved to the start.
    private void Grow()
    {
        var ring = new ReceivedRecord[(int)Math.Min(capacity, 2L * _ring.Length)];
        for (int i = 0; i < _count; i++)
        {
            ring[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = ring;
        _head = 0;
    }
}
