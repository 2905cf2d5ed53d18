using System.Text.RegularExpressions;

namespace Netconsole.Tests.Support;

/// <summary>A fenced code block of a Markdown file.</summary>
/// <param name="File">The file, relative to the repository's root.</param>
/// <param name="Line">The line of the opening fence (1-based).</param>
/// <param name="Language">The fence's language (<c>csharp</c>, <c>sh</c>, <c>json</c>), or empty.</param>
/// <param name="Text">The block's content.</param>
/// <param name="Marker">The HTML comment on the line right above the fence (<c>&lt;!-- marker --&gt;</c>), or null.</param>
internal sealed partial record MarkdownCodeBlock(string File, int Line, string Language, string Text, string? Marker)
{
    /// <summary>Where the block is, for messages: <c>README.md:123</c>.</summary>
    public override string ToString() => $"{File}:{Line}";

    /// <summary>The blocks of <paramref name="relativePath"/> in the repository, in order.</summary>
    public static IReadOnlyList<MarkdownCodeBlock> Read(string relativePath)
    {
        string[] lines = System.IO.File.ReadAllLines(Path.Combine(Repository.Root(), relativePath));
        var blocks = new List<MarkdownCodeBlock>();
        for (int i = 0; i < lines.Length; i++)
        {
            Match open = Fence().Match(lines[i]);
            if (!open.Success)
            {
                continue;
            }

            int end = Array.FindIndex(lines, i + 1, line => line.TrimStart().StartsWith("```", StringComparison.Ordinal));
            if (end < 0)
            {
                throw new InvalidOperationException($"{relativePath}:{i + 1}: a code block that is never closed");
            }

            Match marker = i > 0 ? Comment().Match(lines[i - 1]) : Match.Empty;
            blocks.Add(new MarkdownCodeBlock(
                relativePath,
                i + 1,
                open.Groups["language"].Value,
                string.Join('\n', lines[(i + 1)..end]) + "\n",
                marker.Success ? marker.Groups["text"].Value.Trim() : null));
            i = end;
        }

        return blocks;
    }

    /// <summary>The one block of <paramref name="relativePath"/> whose marker is <paramref name="marker"/>.</summary>
    public static MarkdownCodeBlock Marked(string relativePath, string marker) =>
        Read(relativePath).Where(b => b.Marker == marker).ToList() switch
        {
            [MarkdownCodeBlock block] => block,
            var found => throw new InvalidOperationException($"{relativePath}: {found.Count} code blocks marked <!-- {marker} -->, expected one"),
        };

    [GeneratedRegex(@"^\s*```(?<language>[A-Za-z0-9#+-]*)\s*$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*<!--(?<text>.*)-->\s*$")]
    private static partial Regex Comment();
}
