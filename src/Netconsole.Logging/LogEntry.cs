using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>One logged record on its way from the application's thread to the sender thread. Pooled.</summary>
internal sealed class LogEntry
{
    public int Level;
    public string Category = string.Empty;
    public EventId EventId;
    public string Message = string.Empty;
    public Exception? Exception;
    public ulong TimestampMicroseconds;
    public string? ThreadName;
    public int ThreadId;
    public int Cpu;

    /// <summary>Records dropped (queue full) just before this one: the sender announces them first.</summary>
    public long DroppedBefore;

    /// <summary>Scope and state pairs, captured on the logging thread (values already text).</summary>
    public readonly List<KeyValuePair<string, string>> Pairs = new();

    public void Clear()
    {
        Category = string.Empty;
        Message = string.Empty;
        Exception = null;
        ThreadName = null;
        DroppedBefore = 0;
        if (Pairs.Count > 64)
        {
            Pairs.Clear();
            Pairs.Capacity = 16; // do not let one huge record pin a large list in the pool
        }
        else
        {
            Pairs.Clear();
        }
    }
}
