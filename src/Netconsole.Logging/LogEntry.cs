using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>
/// One logged record on its way from the application's thread to the sender thread. Reused: a
/// logging thread fills its own, the queue copies it into a slot, the sender thread copies it
/// out into its own (see <see cref="LogQueue"/>).
/// </summary>
internal sealed class LogEntry
{
    /// <summary>The level of an entry whose copy failed half-way (out of memory): not to be sent.</summary>
    public const int Broken = -1;

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

    /// <summary>
    /// Scope and state pairs, captured on the logging thread. A value is a string (rendered there)
    /// or an object whose text cannot change (<see cref="NetconsoleLogger.IsImmutable"/>), rendered
    /// by the sender thread (<see cref="ValueTexts"/>).
    /// </summary>
    public readonly List<KeyValuePair<string, object?>> Pairs = new(4);

    public void Clear()
    {
        Category = string.Empty;
        Message = string.Empty;
        Exception = null;
        ThreadName = null;
        EventId = default;
        DroppedBefore = 0;
        if (Pairs.Count > 64)
        {
            Pairs.Clear();
            Pairs.Capacity = 16; // do not let one huge record pin a large list in a slot
        }
        else
        {
            Pairs.Clear();
        }
    }
}
