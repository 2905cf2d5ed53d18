// TEMPORARY stubs so the skeleton compiles; the Targets work replaces this file entirely.
using System.Collections;

namespace Netconsole.Targets;

/// <summary>Stub.</summary>
public sealed class UserdataCollection : IReadOnlyList<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items = new();

    /// <summary>Stub.</summary>
    public int Count => _items.Count;

    /// <summary>Stub.</summary>
    public KeyValuePair<string, string> this[int index] => _items[index];

    /// <summary>Stub.</summary>
    public string this[string key]
    {
        get => _items.First(p => p.Key == key).Value;
        set
        {
            int i = _items.FindIndex(p => p.Key == key);
            if (i >= 0)
            {
                _items[i] = new(key, value);
            }
            else
            {
                _items.Add(new(key, value));
            }
        }
    }

    /// <summary>Stub.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Stub.</summary>
public sealed partial class NetconsoleTargetOptions
{
    internal static bool IsUsableRelease(string release) => release.Contains('.', StringComparison.Ordinal) && !release.Contains(',', StringComparison.Ordinal);

    /// <summary>Stub.</summary>
    public void Validate()
    {
    }
}

/// <summary>Stub.</summary>
public sealed partial class NetconsoleTargetOptions
{
    /// <summary>Stub.</summary>
    /// <param name="value">Stub.</param>
    /// <returns>Stub.</returns>
    public static NetconsoleTargetOptions Parse(string value) => throw new NotImplementedException(value);

    /// <summary>Stub.</summary>
    /// <param name="value">Stub.</param>
    /// <returns>Stub.</returns>
    public static IReadOnlyList<NetconsoleTargetOptions> ParseMany(string value) => throw new NotImplementedException(value);

    /// <inheritdoc/>
    public override string ToString() => base.ToString()!;
}

/// <summary>Stub.</summary>
public sealed class NetconsoleConfigurationException : ArgumentException
{
    /// <summary>Stub.</summary>
    public NetconsoleConfigurationException()
    {
    }

    /// <summary>Stub.</summary>
    /// <param name="message">Stub.</param>
    public NetconsoleConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Stub.</summary>
    /// <param name="message">Stub.</param>
    /// <param name="innerException">Stub.</param>
    public NetconsoleConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
