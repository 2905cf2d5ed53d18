namespace Netconsole.Logging;

/// <summary>
/// Configuration keys as configuration compares them (case-insensitively), and the warning for a
/// key that is not an option: with the option it probably meant, else the list of options.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>Whether two keys are the same key to configuration (ordinal, ignoring case).</summary>
    public static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="key"/> is one of <paramref name="known"/>.</summary>
    public static bool IsKnown(string key, IReadOnlyList<string> known)
    {
        foreach (string candidate in known)
        {
            if (Same(key, candidate))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The warning for <paramref name="key"/> (the last part of <paramref name="fullKey"/>), which
    /// is not one of <paramref name="known"/>: for example <c>Logging:Netconsole:Facilty is not a
    /// netconsole option and was ignored; did you mean Facility?</c>.
    /// </summary>
    /// <param name="fullKey">The key from the section's root, as the message shows it.</param>
    /// <param name="key">The unknown key itself.</param>
    /// <param name="what">What the key is not, for example "a netconsole option".</param>
    /// <param name="list">What the known keys are, for example "the netconsole options".</param>
    /// <param name="known">The known keys.</param>
    public static string NotAnOption(string fullKey, string key, string what, string list, IReadOnlyList<string> known)
    {
        IReadOnlyList<string> suggestions = Suggest(key, known);
        return suggestions.Count > 0
            ? $"{fullKey} is not {what} and was ignored; did you mean {Either(suggestions)}?"
            : $"{fullKey} is not {what} and was ignored; {list} are {string.Join(", ", known)}.";
    }

    /// <summary>
    /// The known keys <paramref name="key"/> was probably meant to be: those closest to it within
    /// a third of its length in edits (at least 1, at most 3; a swap of two neighbouring letters
    /// is one edit), ignoring case; failing that, those that contain it (3 characters or more:
    /// <c>Port</c> gives <c>LocalPort</c> and <c>RemotePort</c>). Empty when none is close.
    /// </summary>
    public static IReadOnlyList<string> Suggest(string key, IReadOnlyList<string> known)
    {
        int limit = Math.Clamp(key.Length / 3, 1, 3);
        var closest = new List<string>();
        int best = int.MaxValue;
        foreach (string candidate in known)
        {
            int distance = Distance(key, candidate);
            if (distance > limit || distance > best)
            {
                continue;
            }

            if (distance < best)
            {
                closest.Clear();
                best = distance;
            }

            closest.Add(candidate);
        }

        if (closest.Count == 0 && key.Length >= 3)
        {
            closest.AddRange(known.Where(candidate => candidate.Contains(key, StringComparison.OrdinalIgnoreCase)));
        }

        return closest;
    }

    /// <summary>"A", "A or B", "A, B or C".</summary>
    private static string Either(IReadOnlyList<string> keys) =>
        keys.Count == 1 ? keys[0] : $"{string.Join(", ", keys.Take(keys.Count - 1))} or {keys[^1]}";

    /// <summary>
    /// The edit distance between two keys, ignoring case: insertions, deletions, substitutions and
    /// swaps of neighbouring characters (optimal string alignment).
    /// </summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]) ? 0 : 1;
                int value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1
                    && char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 2])
                    && char.ToUpperInvariant(a[i - 2]) == char.ToUpperInvariant(b[j - 1]))
                {
                    value = Math.Min(value, d[i - 2, j - 2] + 1);
                }

                d[i, j] = value;
            }
        }

        return d[a.Length, b.Length];
    }
}
