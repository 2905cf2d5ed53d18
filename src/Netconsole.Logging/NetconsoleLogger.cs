using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>
/// The logger of one category: formats the message once and captures, on the logging thread,
/// what cannot be known later (time, thread, CPU, scopes, state values), then queues the entry.
/// Never throws.
/// </summary>
/// <remarks>
/// The call allocates nothing of its own in steady state: the entry it fills is the thread's
/// own (kept in a thread-static field; the queue copies it into a slot), and a structured value whose text cannot change later (<see cref="IsImmutable"/>) is kept by
/// reference and rendered by the sender thread. Any other value may change after the call
/// (a mutable object), so its text is made here.
/// </remarks>
internal sealed class NetconsoleLogger : ILogger
{
    internal const string OriginalFormatKey = "{OriginalFormat}";
    internal const string ScopeKey = "SCOPE";
    internal const string NullText = "(null)";

    // Whether a structured scope type's text is made from its pairs alone (Microsoft.Extensions.Logging's own).
    private static readonly ConcurrentDictionary<Type, bool> ScopeTypesWithPureText = new();
    private static readonly ConcurrentDictionary<Type, bool> ScopeTypesWithOwnText = new();

    [ThreadStatic]
    private static LogEntry? t_entry;

    private readonly string _category;
    private readonly NetconsoleLoggerProvider _provider;
    private readonly NetconsoleLoggerProcessor _processor;

    public NetconsoleLogger(string category, NetconsoleLoggerProvider provider, NetconsoleLoggerProcessor processor)
    {
        _category = category;
        _provider = provider;
        _processor = processor;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _provider.ScopeProvider?.Push(state) ?? NullScope.Instance;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && _processor.IsAccepting;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.None)
        {
            return;
        }

        NetconsoleLoggerProcessor processor = _processor;
        if (!processor.IsAccepting)
        {
            processor.CountDroppedDisposed();
            return;
        }

        NetconsoleLoggerProvider provider = _provider;

        // The thread's entry; null while in use, so a record logged from inside a formatter or a
        // scope's ToString on this thread fills one of its own.
        LogEntry entry = t_entry ?? new LogEntry();
        t_entry = null;
        try
        {
            string message = formatter(state, exception) ?? string.Empty;
            entry.Level = ToSyslogLevel(logLevel);
            entry.Category = _category;
            entry.EventId = eventId;
            entry.Message = message;
            entry.Exception = exception;
            entry.TimestampMicroseconds = NetconsoleRecord.GetTimestampMicroseconds();
            entry.ThreadName = Thread.CurrentThread.Name;
            entry.ThreadId = Environment.CurrentManagedThreadId;
            entry.Cpu = Thread.GetCurrentProcessorId();
            if (provider.WantsDictionary)
            {
                if (provider.IncludeScopes && provider.ScopeProvider is { } scopes)
                {
                    scopes.ForEachScope(static (scope, e) => AddScope(e, scope), entry);
                }

                if (state is IReadOnlyList<KeyValuePair<string, object?>> pairs)
                {
                    AddPairs(entry.Pairs, pairs);
                }
            }

            processor.Enqueue(entry);
        }
        catch (Exception)
        {
            // The logging path never throws into the application.
            processor.CountError();
        }
        finally
        {
            entry.Clear(); // the thread keeps no reference to the record's objects
            t_entry = entry;
        }
    }

    /// <summary>Critical 2 (crit), Error 3, Warning 4, Information 6, Debug and Trace 7.</summary>
    internal static int ToSyslogLevel(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    internal static string ToText(object? value) => value switch
    {
        null => NullText,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>
    /// Whether a value's text is fixed once the value exists, so the sender thread may render it
    /// later: strings, primitives, enums, decimal, Half, Int128/UInt128, BigInteger, dates, times,
    /// time spans and GUIDs (all immutable, formatted culture-invariantly). Null too.
    /// </summary>
    internal static bool IsImmutable(object? value) => value is null or string or int or long or bool or double
        or Guid or DateTime or DateTimeOffset or TimeSpan or decimal or float or short or byte or uint or ulong
        or ushort or sbyte or char or nint or nuint or Half or Int128 or UInt128 or BigInteger or DateOnly or TimeOnly
        or Enum;

    // The value itself when the sender can render it later, else its text now.
    private static object? Captured(object? value) => IsImmutable(value) ? value : ToText(value);

    private static void AddScope(LogEntry entry, object? scope)
    {
        List<KeyValuePair<string, object?>> into = entry.Pairs;
        if (scope is IReadOnlyList<KeyValuePair<string, object?>> list)
        {
            int at = into.Count;
            into.Add(new(ScopeKey, null));
            bool allImmutable = AddPairs(into, list);

            // The text of Microsoft.Extensions.Logging's own structured scopes is their template
            // filled with their values: with every value immutable it cannot change either.
            into[at] = new(ScopeKey, allImmutable && HasPureText(scope.GetType()) ? scope : ToText(scope));
        }
        else if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            // A key/value scope (BeginScope(new Dictionary<string, object> { ... })): its pairs are
            // what it says; its text is worth a SCOPE line only when it is more than the type's name.
            if (HasOwnText(scope))
            {
                into.Add(new(ScopeKey, ToText(scope)));
            }

            foreach (KeyValuePair<string, object?> pair in pairs)
            {
                Add(into, pair);
            }
        }
        else if (scope is IEnumerable<KeyValuePair<string, string?>> texts)
        {
            if (HasOwnText(scope))
            {
                into.Add(new(ScopeKey, ToText(scope)));
            }

            foreach (KeyValuePair<string, string?> pair in texts)
            {
                Add(into, new(pair.Key, pair.Value));
            }
        }
        else
        {
            into.Add(new(ScopeKey, Captured(scope)));
        }
    }

    // Whether a scope's ToString says more than its type's name (object.ToString's text), decided
    // once per type: a collection's default text is no use to a reader.
    private static bool HasOwnText(object scope) =>
        ScopeTypesWithOwnText.GetOrAdd(scope.GetType(), static (type, s) => s.ToString() != type.ToString(), scope);

    private static bool HasPureText(Type type) =>
        ScopeTypesWithPureText.GetOrAdd(type, static t => t.Assembly == typeof(ILogger).Assembly && t.IsValueType);

    // Returns whether every value was kept by reference (none rendered here).
    private static bool AddPairs(List<KeyValuePair<string, object?>> into, IReadOnlyList<KeyValuePair<string, object?>> pairs)
    {
        bool allImmutable = true;
        for (int i = 0; i < pairs.Count; i++)
        {
            allImmutable &= Add(into, pairs[i]);
        }

        return allImmutable;
    }

    private static bool Add(List<KeyValuePair<string, object?>> into, KeyValuePair<string, object?> pair)
    {
        bool immutable = IsImmutable(pair.Value);

        // The template is already rendered into the text; leaving it out keeps records small.
        if (!string.IsNullOrEmpty(pair.Key) && pair.Key != OriginalFormatKey)
        {
            into.Add(new(pair.Key, immutable ? pair.Value : ToText(pair.Value)));
        }

        return immutable;
    }

    private sealed class NullScope : IDisposable
    {
        public static readonly NullScope Instance = new();

        public void Dispose()
        {
        }
    }
}
