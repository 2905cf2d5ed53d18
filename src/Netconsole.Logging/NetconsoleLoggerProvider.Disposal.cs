namespace Netconsole.Logging;

/// <summary>Disposal: stop accepting, drain within the time limit, close the targets.</summary>
public sealed partial class NetconsoleLoggerProvider
{
    private int _disposed;

    /// <summary>
    /// Stops accepting records, lets the sender thread drain the queue for at most
    /// <see cref="NetconsoleLoggerOptions.DisposeTimeout"/>, counts what is left as dropped
    /// (<see cref="NetconsoleLoggerStatistics.DroppedDisposed"/>), then disposes the
    /// <see cref="Manager"/>. Never throws; calling it again does nothing. Logging afterwards is
    /// ignored (and counted).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _onChange?.Dispose();
            UpdateCrashSubscription(false);
            lock (_queueLock)
            {
                _accepting = false;
                _completing = true;
                Monitor.PulseAll(_queueLock);
            }

            if (Thread.CurrentThread != _thread && !_thread.Join(_options.DisposeTimeout))
            {
                lock (_queueLock)
                {
                    _abort = true;
                    _droppedDisposed += _queue.Count;
                    _queue.Clear();
                    Monitor.PulseAll(_queueLock);
                }
            }

            _meter.Dispose();
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
        }
        finally
        {
            try
            {
                Manager.Dispose();
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _failures);
            }
        }
    }

    /// <summary>As <see cref="Dispose"/>, on a thread-pool thread so the caller's thread is not blocked while the queue drains.</summary>
    /// <returns>A task that completes when disposal has finished.</returns>
    public ValueTask DisposeAsync() => Volatile.Read(ref _disposed) != 0
        ? ValueTask.CompletedTask
        : new ValueTask(Task.Run(Dispose));
}
