using System.Globalization;
using System.Runtime.CompilerServices;

namespace Netconsole.Logging;

/// <summary>
/// The sender thread's texts, kept so that repeated ones cost no allocation: event and thread
/// ids are formatted into a stack buffer and looked up among the texts made recently (a table
/// of two-text sets indexed by the text's hash, the least recently used of a set replaced, so
/// two texts that share a set do not evict each other), and a structured scope's text is
/// remembered per scope object. Formattable values need no text here: the record formatter
/// writes them into the datagram. Not thread-safe:
/// the sender thread's own (or whoever holds the provider's send lock).
/// </summary>
internal sealed class ValueTexts
{
    private const int TextSets = 512;
    private const int ScopeSlots = 64;

    private readonly string?[] _texts = new string?[TextSets * 2]; // per set: most recent, then the other
    private readonly object?[] _scopes = new object?[ScopeSlots];
    private readonly string?[] _scopeTexts = new string?[ScopeSlots];

    /// <summary>
    /// What a captured value becomes in the record's <see cref="NetconsoleRecord.Values"/>: a string
    /// or a formattable value (numbers, dates, Guid, enums ...) as it is, for the formatter to write
    /// into the datagram with the invariant culture, without a string; anything else (null, bool,
    /// a structured scope) its text, exactly as <see cref="NetconsoleLogger.ToText"/> renders it on
    /// the logging thread.
    /// </summary>
    /// <param name="value">A string, an immutable value, or a structured scope kept by reference.</param>
    /// <returns>The value, or its text.</returns>
    public object? ForRecord(object? value) => value switch
    {
        string or ISpanFormattable => value,
        null => NetconsoleLogger.NullText,
        bool b => b ? bool.TrueString : bool.FalseString,
        _ => ScopeText(value),
    };

    /// <summary>The decimal text of a number (event ids, thread ids).</summary>
    /// <param name="value">The number.</param>
    /// <returns>The text.</returns>
    public string Of(int value)
    {
        Span<char> buffer = stackalloc char[11];
        value.TryFormat(buffer, out int length, default, CultureInfo.InvariantCulture);
        return Intern(buffer[..length]);
    }

    /// <summary>Forgets the scope objects remembered, so the sender holds no reference to them while idle.</summary>
    public void ForgetScopes()
    {
        Array.Clear(_scopes);
        Array.Clear(_scopeTexts);
    }

    private string Intern(ReadOnlySpan<char> text)
    {
        int first = (string.GetHashCode(text) & (TextSets - 1)) * 2;
        string? recent = _texts[first];
        if (recent is not null && text.SequenceEqual(recent))
        {
            return recent;
        }

        string? other = _texts[first + 1];
        if (other is null || !text.SequenceEqual(other))
        {
            other = text.ToString();
        }

        _texts[first + 1] = recent;
        _texts[first] = other;
        return other;
    }

    // A structured scope lives across many records: its text is made once per scope object.
    private string ScopeText(object scope)
    {
        int index = RuntimeHelpers.GetHashCode(scope) & (ScopeSlots - 1);
        if (ReferenceEquals(_scopes[index], scope))
        {
            return _scopeTexts[index]!;
        }

        string text = scope.ToString() ?? string.Empty;
        _scopes[index] = scope;
        _scopeTexts[index] = text;
        return text;
    }
}
