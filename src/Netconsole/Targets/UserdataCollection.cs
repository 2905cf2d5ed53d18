using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

using Netconsole.Wire;

namespace Netconsole.Targets;

/// <summary>
/// A target's userdata: ordered key/value pairs sent as <c> key=value</c> lines after the text
/// of every extended record, in the order they were configured (like the kernel's
/// <c>userdata/&lt;key&gt;/value</c> configfs entries).
/// </summary>
/// <remarks>
/// <para>
/// Every write is validated against the kernel's limits and throws
/// <see cref="NetconsoleConfigurationException"/> when one is broken: a key is 1 to
/// <see cref="MaxKeyBytes"/> UTF-8 bytes without <c>=</c>, <c>/</c>, whitespace or control
/// characters; a value is at most <see cref="MaxValueBytes"/> UTF-8 bytes without control
/// characters (below 0x20, or 0x7f); there are at most <see cref="MaxEntries"/> entries; and all
/// lines together are at most <see cref="MaxTotalBytes"/> bytes.
/// </para>
/// <para>
/// An empty value is allowed: as in the kernel, its key is then omitted on the wire (it still
/// counts towards <see cref="MaxEntries"/>). Keys are compared ordinally (case-sensitive).
/// </para>
/// <para>This type is not thread-safe: writers must not race with each other or with readers.</para>
/// </remarks>
public sealed class UserdataCollection : IReadOnlyList<KeyValuePair<string, string>>
{
    /// <summary>The maximum number of entries, 256, as in the kernel (the 257th is rejected).</summary>
    public const int MaxEntries = 256;

    /// <summary>The maximum length of a key, 53 UTF-8 bytes, as in the kernel's configfs userdata.</summary>
    public const int MaxKeyBytes = 53;

    /// <summary>The maximum length of a value, 199 UTF-8 bytes (the kernel keeps values under 200 bytes).</summary>
    public const int MaxValueBytes = 199;

    /// <summary>
    /// The maximum total length of the userdata lines, 6144 bytes: the sum over the entries with a
    /// non-empty value of <c>" key=value\n"</c> in UTF-8.
    /// </summary>
    /// <remarks>
    /// The kernel would allow 256 entries of 254 bytes each, but userdata travels inside every
    /// record, and netconsd reassembles a fragmented record only when it totals at most 8191 bytes
    /// (ncfrag total below 8192). Capping userdata at 6144 bytes leaves about 2 KiB for the
    /// escaped text and the sysdata lines, so a record with userdata still reaches the receiver.
    /// </remarks>
    public const int MaxTotalBytes = RecordFormat.MaxUserdataBytes;

    private const string KeyExample = "region";
    private const string ValueExample = "eu-west-1";

    private readonly List<KeyValuePair<string, string>> _items = new();

    /// <summary>Creates an empty collection.</summary>
    public UserdataCollection()
    {
    }

    /// <summary>The number of entries, including those with an empty value.</summary>
    public int Count => _items.Count;

    /// <summary>
    /// The total length in bytes of the lines the entries produce on the wire: for every entry with
    /// a non-empty value, <c>" key=value\n"</c> in UTF-8. Never more than <see cref="MaxTotalBytes"/>.
    /// </summary>
    internal int FormattedLength { get; private set; }

    /// <summary>The entry at <paramref name="index"/>, in configuration order.</summary>
    /// <param name="index">The 0-based index.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a valid index.</exception>
    public KeyValuePair<string, string> this[int index] => _items[index];

    /// <summary>
    /// Gets the value of <paramref name="key"/>, or sets it: an existing entry keeps its place and
    /// gets the new value; a new key is added at the end.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">Getting a key that is not present.</exception>
    /// <exception cref="NetconsoleConfigurationException">Setting a key or value that breaks a limit.</exception>
    public string this[string key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            int index = IndexOf(key);
            return index >= 0
                ? _items[index].Value
                : throw new KeyNotFoundException($"The userdata key \"{key}\" is not present.");
        }

        set => Set(key, value, replace: true);
    }

    /// <summary>Adds an entry at the end.</summary>
    /// <param name="key">The key: 1 to <see cref="MaxKeyBytes"/> UTF-8 bytes, without <c>=</c>, <c>/</c>, whitespace or control characters.</param>
    /// <param name="value">The value: at most <see cref="MaxValueBytes"/> UTF-8 bytes without control characters; empty to omit the key on the wire.</param>
    /// <exception cref="NetconsoleConfigurationException">The key is already present, or a limit is broken.</exception>
    public void Add(string key, string value) => Set(key, value, replace: false);

    /// <summary>Removes the entry with <paramref name="key"/>, keeping the order of the others.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when an entry was removed.</returns>
    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int index = IndexOf(key);
        if (index < 0)
        {
            return false;
        }

        FormattedLength -= RecordFormat.LineLength(_items[index]);
        _items.RemoveAt(index);
        return true;
    }

    /// <summary>Whether an entry with <paramref name="key"/> exists.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when it exists.</returns>
    public bool ContainsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return IndexOf(key) >= 0;
    }

    /// <summary>Gets the value of <paramref name="key"/> when it exists.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, or <see langword="null"/> when the key is not present.</param>
    /// <returns><see langword="true"/> when the key exists.</returns>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        int index = IndexOf(key);
        value = index >= 0 ? _items[index].Value : null;
        return index >= 0;
    }

    /// <summary>Removes every entry.</summary>
    public void Clear()
    {
        _items.Clear();
        FormattedLength = 0;
    }

    /// <summary>Enumerates the entries in configuration order.</summary>
    /// <returns>The enumerator.</returns>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Replaces the contents with a copy of <paramref name="source"/>'s, which are already valid.</summary>
    internal void CopyFrom(UserdataCollection source)
    {
        _items.Clear();
        _items.AddRange(source._items);
        FormattedLength = source.FormattedLength;
    }

    private void Set(string key, string value, bool replace)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        int keyBytes = ValidateKey(key);
        int valueBytes = ValidateValue(key, value);

        int index = IndexOf(key);
        if (index >= 0 && !replace)
        {
            throw NetconsoleConfigurationException.ForValue(
                key,
                $"the userdata key \"{key}\" is already present; use the indexer to replace its value",
                KeyExample,
                nameof(key));
        }

        if (index < 0 && _items.Count >= MaxEntries)
        {
            throw NetconsoleConfigurationException.ForValue(
                key,
                $"a target holds at most {MaxEntries} userdata entries, as in the kernel",
                KeyExample,
                nameof(key));
        }

        int oldLine = index >= 0 ? RecordFormat.LineLength(_items[index]) : 0;
        int newLine = value.Length == 0 ? 0 : keyBytes + valueBytes + 3;
        int total = FormattedLength - oldLine + newLine;
        if (total > MaxTotalBytes)
        {
            throw NetconsoleConfigurationException.ForValue(
                value,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "with this entry the userdata lines would total {0} bytes; they may total at most {1} bytes so a record keeps room for its text within netconsd's 8191-byte reassembly limit",
                    total,
                    MaxTotalBytes),
                ValueExample,
                nameof(value));
        }

        if (index >= 0)
        {
            _items[index] = new KeyValuePair<string, string>(_items[index].Key, value);
        }
        else
        {
            _items.Add(new KeyValuePair<string, string>(key, value));
        }

        FormattedLength = total;
    }

    private int IndexOf(string key)
    {
        for (int i = 0; i < _items.Count; i++)
        {
            if (string.Equals(_items[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static int ValidateKey(string key)
    {
        if (key.Length == 0)
        {
            throw NetconsoleConfigurationException.ForValue(key, "a userdata key must not be empty", KeyExample, nameof(key));
        }

        foreach (char c in key)
        {
            // The key becomes a configfs directory name in the kernel and the left side of
            // " key=value" on the wire: '/' and '=' would break one or the other.
            if (c is '=' or '/' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw NetconsoleConfigurationException.ForValue(
                    key,
                    "a userdata key must not contain '=', '/', whitespace or control characters",
                    KeyExample,
                    nameof(key));
            }
        }

        int bytes = Utf8Length(key, nameof(key), KeyExample);
        if (bytes > MaxKeyBytes)
        {
            throw NetconsoleConfigurationException.ForValue(
                key,
                string.Format(CultureInfo.InvariantCulture, "a userdata key is at most {0} UTF-8 bytes, as in the kernel, and this one has {1}", MaxKeyBytes, bytes),
                KeyExample,
                nameof(key));
        }

        return bytes;
    }

    private static int ValidateValue(string key, string value)
    {
        foreach (char c in value)
        {
            // A control character (a newline above all) would end or corrupt the " key=value"
            // line; the kernel sends userdata unescaped.
            if (c < 0x20 || c == 0x7f)
            {
                throw NetconsoleConfigurationException.ForValue(
                    value,
                    $"the userdata value of \"{key}\" must not contain control characters (below 0x20, or 0x7f)",
                    ValueExample,
                    nameof(value));
            }
        }

        int bytes = Utf8Length(value, nameof(value), ValueExample);
        if (bytes > MaxValueBytes)
        {
            throw NetconsoleConfigurationException.ForValue(
                value,
                string.Format(CultureInfo.InvariantCulture, "the userdata value of \"{0}\" is at most {1} UTF-8 bytes (the kernel keeps values under 200 bytes), and this one has {2}", key, MaxValueBytes, bytes),
                ValueExample,
                nameof(value));
        }

        return bytes;
    }

    private static int Utf8Length(string text, string paramName, string example)
    {
        int bytes = 0;
        ReadOnlySpan<char> rest = text;
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done)
            {
                throw NetconsoleConfigurationException.ForValue(
                    text,
                    $"the userdata {paramName} must be valid Unicode text (it contains an unpaired surrogate)",
                    example,
                    paramName);
            }

            bytes += rune.Utf8SequenceLength;
            rest = rest[consumed..];
        }

        return bytes;
    }
}
