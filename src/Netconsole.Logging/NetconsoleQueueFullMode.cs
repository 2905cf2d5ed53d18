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
    /// The new record is dropped and counted; the next record sent is preceded by a notice
    /// (<c>netconsole: N records dropped (queue full)</c>, warning level), in order. Logging never
    /// blocks the application. The default.
    /// </summary>
    DropWrite = 1,
}
