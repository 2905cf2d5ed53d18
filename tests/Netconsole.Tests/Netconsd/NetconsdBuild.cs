using System.Diagnostics;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Netconsd;

/// <summary>
/// netconsd built from its source, once per test run: the source folder (read-only, also in CI)
/// is copied into a temporary folder of the run, where <c>make</c> builds the daemon and the
/// stock printer module, and our probe module (<c>ncprobe.c</c>, beside this file) is compiled
/// against netconsd's headers with warnings as errors. The folder is deleted when the test
/// process exits. A failed build fails every test that needs it, with the compiler's output.
/// </summary>
internal sealed class NetconsdBuild
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);
    private static readonly Lazy<Task<NetconsdBuild>> Shared = new(() => Task.Run(BuildAsync));

    private NetconsdBuild(string source, string folder, TimeSpan elapsed, IReadOnlyList<string> commands)
    {
        Source = source;
        Folder = folder;
        Elapsed = elapsed;
        Commands = commands;
    }

    /// <summary>The netconsd source folder the build was copied from.</summary>
    public string Source { get; }

    /// <summary>The run's copy, where everything was built.</summary>
    public string Folder { get; }

    /// <summary>How long copying and building took.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The build commands, as run in <see cref="Folder"/>.</summary>
    public IReadOnlyList<string> Commands { get; }

    /// <summary>The daemon.</summary>
    public string Daemon => Path.Combine(Folder, "netconsd");

    /// <summary>netconsd's own example module: one line of text per message.</summary>
    public string PrinterModule => Path.Combine(Folder, "modules", "printer.so");

    /// <summary>Our module: one parseable line per message (see ncprobe.c).</summary>
    public string ProbeModule => Path.Combine(Folder, "modules", "ncprobe.so");

    /// <summary>
    /// The run's build (started by the first caller): skips the test where netconsd's source,
    /// make or a C compiler is missing, fails it there with CI=true.
    /// </summary>
    public static Task<NetconsdBuild> GetAsync()
    {
        // Checked by every caller, so each test skips (or fails on CI) by itself.
        Requires.NetconsdSource();
        return Shared.Value;
    }

    /// <summary>One line for the test output: what was built where, from what, in how long.</summary>
    public override string ToString() =>
        $"netconsd built from {Source} in {Folder} in {Elapsed.TotalSeconds:F1} s (once per test run): {string.Join("; ", Commands)}";

    private static async Task<NetconsdBuild> BuildAsync()
    {
        string source = Requires.NetconsdSource();
        string folder = Directory.CreateTempSubdirectory("netconsd-build-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Left in the temporary folder; nothing depends on it.
            }
        };

        var clock = Stopwatch.StartNew();
        CopyTree(source, folder);
        File.Copy(Path.Combine(Repository.Root(), "tests", "Netconsole.Tests", "Netconsd", "ncprobe.c"), Path.Combine(folder, "modules", "ncprobe.c"));

        // Only the daemon and the printer: `make` alone would also build the C++ modules, which need RE2.
        string[][] steps =
        [
            ["-s", "netconsd"],
            ["-s", "-C", "modules", "printer.so"],
            ["-s", "-C", "modules", "ncprobe.so", "CFLAGS=-O2 -Wall -Wextra -Werror"],
        ];
        var commands = new List<string>();
        foreach (string[] step in steps)
        {
            var start = new ProcessStartInfo("make") { WorkingDirectory = folder };
            foreach (string argument in step)
            {
                start.ArgumentList.Add(argument);
            }

            string command = "make " + string.Join(' ', step.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
            commands.Add(command);
            ChildProcess.Result result = await ChildProcess.RunAsync(start, StepTimeout);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"Building netconsd failed: `{command}` in {folder} (a copy of {source}) exited with {result.ExitCode}:\n{result.Stdout}{result.Stderr}");
            }
        }

        return new NetconsdBuild(source, folder, clock.Elapsed, commands);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            if (!IsGit(Path.GetRelativePath(from, directory)))
            {
                Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
            }
        }

        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (!IsGit(relative))
            {
                File.Copy(file, Path.Combine(to, relative));
            }
        }
    }

    private static bool IsGit(string relative) => relative == ".git" || relative.StartsWith(".git" + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
