namespace Netconsole.Logging;

/// <summary>Disposal: stop accepting, drain within the time limit, close the targets.</summary>
public sealed partial class NetconsoleLoggerProvider
{
    private int _disposed;

    /// <summary>
    /// Stops accepting records, lets the sender thread drain the queue for at most
    /// <see cref="NetconsoleLoggerOptions.DisposeTimeout"/>, counts what is left as dropped
    /// (<see cref="NetconsoleLoggerStatistics.DroppedDisposed"/>), then disposes the
    /// <see cref="Manager"/> (when the sender is stuck in a send past the time limit, the sender
    /// disposes it once that send returns, so disposal itself stays bounded). Never throws; calling it again does nothing. Logging afterwards is
    /// ignored (and counted).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        bool managerLeftToSender = false;
        try
        {
            _onChange?.Dispose();
            UpdateCrashSubscription(false);
            _accepting = false;
            _completing = true;
            _queue.Close(); // from here on every offer is refused (and counted): the queue only drains
            PulseRoom();
            WakeSender();

            if (Thread.CurrentThread != _thread && !_thread.Join(_options.DisposeTimeout))
            {
                // A sender stuck in a send would hold up the manager's disposal: it disposes the
                // manager itself once the send returns, and the caller goes on.
                managerLeftToSender = Interlocked.Exchange(ref _progress.State, SenderAborted) == SenderSending;
                Interlocked.Add(ref _droppedDisposed, _queue.Abandon());
                WakeSender();
            }

            _meter.Dispose();
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
        }
        finally
        {
            if (!managerLeftToSender)
            {
                DisposeManager();
            }
        }
    }

    private void DisposeManager()
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

    /// <summary>As <see cref="Dispose"/>, on a thread-pool thread so the caller's thread is not blocked while the queue drains.</summary>
    /// <returns>A task that completes when disposal has finished.</returns>
    public ValueTask DisposeAsync() => Volatile.Read(ref _disposed) != 0
        ? ValueTask.CompletedTask
        : new ValueTask(Task.Run(Dispose));
}
