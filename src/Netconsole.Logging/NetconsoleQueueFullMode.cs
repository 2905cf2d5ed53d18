namespace Netconsole.Logging;

/// <summary>What <see cref="NetconsoleLoggerProvider"/> does with a record logged while its queue is full.</summary>
public enum NetconsoleQueueFullMode
{
    /// <summary>
    /// The logging thread waits until the sender thread makes room (or the provider is disposed).
    /// Nothing is lost, but a slow or blocked device slows the application down. A thread that
    /// found the queue full sleeps until half of it has drained (the low-water mark), so a logging
    /// storm costs one wake-up per many records rather than one per record.
    /// </summary>
    Wait = 0,

    /// <summary>
    /// The new record is dropped and counted, and announced to the targets by a notice
    /// (<c>netconsole: N records dropped (queue full), T since start</c>, warning level) that
    /// follows the drops: at most one notice per 100 ms while the queue stays busy, at once when
    /// it empties (see <see cref="NetconsoleLoggerProvider"/>). Logging never blocks the
    /// application. The default.
    /// </summary>
    DropWrite = 1,
}
