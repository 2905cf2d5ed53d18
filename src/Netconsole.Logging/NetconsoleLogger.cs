using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>
/// The logger of one category: formats the message once and captures, on the logging thread,
/// what cannot be known later (time, thread, CPU, scopes, state values), then queues the entry.
/// Never throws.
/// </summary>
internal sealed class NetconsoleLogger : ILogger
{
    internal const string OriginalFormatKey = "{OriginalFormat}";
    internal const string ScopeKey = "SCOPE";

    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly string _category;
    private readonly NetconsoleLoggerProvider _provider;

    public NetconsoleLogger(string category, NetconsoleLoggerProvider provider)
    {
        _category = category;
        _provider = provider;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _provider.ScopeProvider?.Push(state) ?? NullScope.Instance;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && _provider.IsAccepting;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.None || !_provider.IsAccepting)
        {
            return;
        }

        LogEntry? entry = null;
        try
        {
            string message = formatter(state, exception) ?? string.Empty;
            entry = _provider.Rent();
            entry.Level = ToSyslogLevel(logLevel);
            entry.Category = _category;
            entry.EventId = eventId;
            entry.Message = message;
            entry.Exception = exception;
            entry.TimestampMicroseconds = NowMicroseconds();
            Thread thread = Thread.CurrentThread;
            entry.ThreadName = thread.Name;
            entry.ThreadId = Environment.CurrentManagedThreadId;
            entry.Cpu = Thread.GetCurrentProcessorId();
            if (_provider.WantsDictionary)
            {
                if (_provider.IncludeScopes && _provider.ScopeProvider is { } scopes)
                {
                    scopes.ForEachScope(static (scope, e) => AddScope(e, scope), entry);
                }

                if (state is IReadOnlyList<KeyValuePair<string, object?>> pairs)
                {
                    AddPairs(entry.Pairs, pairs);
                }
            }

            _provider.Enqueue(entry);
        }
        catch (Exception)
        {
            // The logging path never throws into the application.
            _provider.CountFailure();
            if (entry is not null)
            {
                _provider.Return(entry);
            }
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

    internal static ulong NowMicroseconds() => (ulong)(Stopwatch.GetTimestamp() * MicrosecondsPerTick);

    internal static string ToText(object? value) => value switch
    {
        null => "(null)",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static void AddScope(LogEntry entry, object? scope)
    {
        entry.Pairs.Add(new(ScopeKey, ToText(scope)));
        if (scope is IReadOnlyList<KeyValuePair<string, object?>> list)
        {
            AddPairs(entry.Pairs, list);
        }
        else if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (KeyValuePair<string, object?> pair in pairs)
            {
                Add(entry.Pairs, pair);
            }
        }
    }

    private static void AddPairs(List<KeyValuePair<string, string>> into, IReadOnlyList<KeyValuePair<string, object?>> pairs)
    {
        for (int i = 0; i < pairs.Count; i++)
        {
            Add(into, pairs[i]);
        }
    }

    private static void Add(List<KeyValuePair<string, string>> into, KeyValuePair<string, object?> pair)
    {
        // The template is already rendered into the text; leaving it out keeps records small.
        if (!string.IsNullOrEmpty(pair.Key) && pair.Key != OriginalFormatKey)
        {
            into.Add(new(pair.Key, ToText(pair.Value)));
        }
    }

    private sealed class NullScope : IDisposable
    {
        public static readonly NullScope Instance = new();

        public void Dispose()
        {
        }
    }
}
