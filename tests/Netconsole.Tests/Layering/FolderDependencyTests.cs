using System.Text.RegularExpressions;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Layering;

/// <summary>
/// The folders of src/Netconsole depend on each other one way only (docs/architecture.md draws
/// the graph). Read from the sources: a <c>using Netconsole.X;</c> or a qualified
/// <c>Netconsole.X.</c> in a folder's file is a dependency on folder X.
/// </summary>
public partial class FolderDependencyTests
{
    // Folder -> the folders it may use. "(root)" is NetconsoleRecord and RecordContinuation.
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["(root)"] = [],
        ["Interop"] = [],
        ["Netlink"] = ["Interop"],
        ["Wire"] = ["(root)"],
        ["Receiving"] = ["(root)", "Interop", "Wire"],
        ["Devices"] = ["Interop", "Netlink", "Wire"],
        ["Transport"] = ["Interop", "Devices", "Wire"],
        ["Resolution"] = ["Interop", "Netlink", "Devices", "Transport", "Wire"],
        ["Targets"] = ["(root)", "Wire", "Devices", "Transport", "Resolution"],
    };

    [Fact]
    public void Every_folder_uses_only_the_folders_below_it()
    {
        var unexpected = new List<string>();
        foreach ((string folder, HashSet<string> uses) in Dependencies())
        {
            Allowed.Should().ContainKey(folder, "every folder of src/Netconsole has its place in the graph");
            foreach (string used in uses.Where(u => u != folder && !Allowed[folder].Contains(u)))
            {
                unexpected.Add($"{folder} -> {used}");
            }
        }

        unexpected.Should().BeEmpty("dependencies point one way (docs/architecture.md)");
    }

    [Fact]
    public void The_allowed_graph_has_no_cycle()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        foreach (string folder in Allowed.Keys)
        {
            Visit(folder, []);
        }

        void Visit(string folder, List<string> path)
        {
            if (done.Contains(folder))
            {
                return;
            }

            visiting.Add(folder).Should().BeTrue($"{string.Join(" -> ", path.Append(folder))} is a cycle");
            foreach (string next in Allowed[folder])
            {
                Visit(next, [.. path, folder]);
            }

            visiting.Remove(folder);
            done.Add(folder);
        }
    }

    [Fact]
    public void The_logging_package_uses_the_core_only_through_its_public_folders()
    {
        string logging = Path.Combine(Repository.Root(), "src", "Netconsole.Logging");
        var used = Directory.EnumerateFiles(logging, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => Referenced(File.ReadAllText(f)))
            .Where(folder => folder != "Logging")
            .ToHashSet();

        used.Should().BeSubsetOf(["(root)", "Targets", "Wire"], "the provider sends through TargetManager and builds records; nothing lower");
    }

    private static Dictionary<string, HashSet<string>> Dependencies()
    {
        string core = Path.Combine(Repository.Root(), "src", "Netconsole");
        var result = new Dictionary<string, HashSet<string>>();
        foreach (string file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(core, file);
            string[] parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts[0] is "obj" or "bin")
            {
                continue;
            }

            string folder = parts.Length == 1 ? "(root)" : parts[0];
            if (!result.TryGetValue(folder, out HashSet<string>? uses))
            {
                result[folder] = uses = [];
            }

            uses.UnionWith(Referenced(File.ReadAllText(file)));
        }

        return result;
    }

    // Folders a source file refers to: using directives and qualified names (Netconsole.X.Y), and
    // the root types by name.
    private static IEnumerable<string> Referenced(string source)
    {
        string code = Comments().Replace(source, "");
        foreach (Match m in Qualified().Matches(code))
        {
            yield return m.Groups[1].Value;
        }

        if (RootTypes().IsMatch(code))
        {
            yield return "(root)";
        }
    }

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex Comments();

    [GeneratedRegex(@"\bNetconsole\.(Interop|Netlink|Wire|Receiving|Devices|Transport|Resolution|Targets|Logging)\b")]
    private static partial Regex Qualified();

    [GeneratedRegex(@"\b(NetconsoleRecord|RecordContinuation)\b")]
    private static partial Regex RootTypes();
}
