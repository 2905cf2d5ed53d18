using System.Diagnostics;
using System.Globalization;

namespace Netconsole.Benchmarks.Receive;

/// <summary>
/// What the receive benchmark runs, built into a temporary folder of its own: netconsd from a
/// copy of its source (as the tests build it: the daemon and the printer module with make, here
/// with bench/receive/nccount.c as a module too), and bench/receive's sender and buffer shim.
/// </summary>
internal sealed class Tools : IDisposable
{
    private Tools(string repository, string source, string folder)
    {
        Repository = repository;
        NetconsdSource = source;
        Folder = folder;
    }

    public string Repository { get; }

    public string NetconsdSource { get; }

    public string Folder { get; }

    public string Daemon => Path.Combine(Folder, "netconsd", "netconsd");

    public string PrinterModule => Path.Combine(Folder, "netconsd", "modules", "printer.so");

    public string CountModule => Path.Combine(Folder, "netconsd", "modules", "nccount.so");

    public string Sender => Path.Combine(Folder, "sendstream");

    public string ReceiveBufferShim => Path.Combine(Folder, "rcvbuf.so");

    public string BenchmarkAssembly => typeof(Tools).Assembly.Location;

    /// <summary>
    /// The benchmark assembly again, next to an earlier Netconsole.dll (NETCONSOLE_BEFORE_DLL,
    /// which bench/lab.sh builds from BEFORE=commit), for a "before" row in the same run; or null.
    /// </summary>
    public string? BeforeAssembly { get; private set; }

    public string BeforeLabel => Environment.GetEnvironmentVariable("NETCONSOLE_BEFORE_LABEL") ?? "earlier build";

    public string ListenAssembly => Path.Combine(Repository, "samples", "Netconsole.Listen", "bin", "Release", "net10.0", "netconsole-listen.dll");

    public static Tools Build(TextWriter output)
    {
        string repository = FindRepository();
        string source = FindNetconsd(repository);
        string folder = Directory.CreateTempSubdirectory("netconsole-receive-").FullName;
        var tools = new Tools(repository, source, folder);
        try
        {
            string copy = Path.Combine(folder, "netconsd");
            CopyTree(source, copy);
            string bench = Path.Combine(repository, "bench", "receive");
            File.Copy(Path.Combine(bench, "nccount.c"), Path.Combine(copy, "modules", "nccount.c"));
            Run(copy, "make", "-s", "netconsd");
            Run(copy, "make", "-s", "-C", "modules", "printer.so", "nccount.so");
            Run(folder, "cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", tools.Sender, Path.Combine(bench, "sendstream.c"));
            Run(folder, "cc", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", tools.ReceiveBufferShim, Path.Combine(bench, "rcvbuf.c"), "-ldl");
            if (Environment.GetEnvironmentVariable("NETCONSOLE_BEFORE_DLL") is { Length: > 0 } before)
            {
                // The benchmark's own folder with the earlier library in place of the current one.
                string beforeFolder = Path.Combine(folder, "before");
                string bin = Path.GetDirectoryName(tools.BenchmarkAssembly)!;
                foreach (string file in Directory.EnumerateFiles(bin, "*", SearchOption.AllDirectories))
                {
                    string target = Path.Combine(beforeFolder, Path.GetRelativePath(bin, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target);
                }

                File.Copy(before, Path.Combine(beforeFolder, "Netconsole.dll"), overwrite: true);
                tools.BeforeAssembly = Path.Combine(beforeFolder, Path.GetFileName(tools.BenchmarkAssembly));
            }

            if (!File.Exists(tools.ListenAssembly))
            {
                throw new InvalidOperationException($"{tools.ListenAssembly} is missing: dotnet build samples/Netconsole.Listen -c Release");
            }

            return tools;
        }
        catch
        {
            tools.Dispose();
            throw;
        }
    }

    /// <summary>The sender's report: datagrams sent, and its first and last send on CLOCK_MONOTONIC.</summary>
    public sealed record SendResult(long Datagrams, long StartNs, long EndNs);

    /// <summary>Sends <paramref name="records"/> records from each source, from CPU 0, and waits for the sender to finish.</summary>
    public SendResult Send(ReceiveThroughput.Template template, int port, int records, ulong firstSequence, string[] sources)
    {
        string path = Path.Combine(Folder, $"template-{template.Datagrams.Count}.bin");
        template.Write(path);
        var start = new ProcessStartInfo("taskset") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])["-c", "0", Sender, path, "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), records.ToString(CultureInfo.InvariantCulture), firstSequence.ToString(CultureInfo.InvariantCulture), .. sources])
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the sender");
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        string[] fields = stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (process.ExitCode != 0 || fields.Length != 6)
        {
            throw new InvalidOperationException($"sendstream exited with {process.ExitCode}: {stdout}{stderr}");
        }

        return new SendResult(
            long.Parse(fields[1], CultureInfo.InvariantCulture),
            long.Parse(fields[3], CultureInfo.InvariantCulture),
            long.Parse(fields[5], CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("NETCONSOLE_BENCH_KEEP") == "1")
        {
            return; // for a look at what ran (templates, builds, the last receiver's stderr)
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary folder.
        }
    }

    private static void Run(string folder, string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = folder, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + command);
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{command} {string.Join(' ', arguments)}` in {folder} exited with {process.ExitCode}:\n{stdout}{stderr}");
        }
    }

    private static string FindRepository()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Netconsole.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository (Netconsole.sln) above " + AppContext.BaseDirectory);
    }

    // NETCONSD_SOURCE, else the nearest shared/third_party/netconsd above the repository (as the tests look).
    private static string FindNetconsd(string repository)
    {
        string? named = Environment.GetEnvironmentVariable("NETCONSD_SOURCE");
        if (named is { Length: > 0 })
        {
            return Path.GetFullPath(named);
        }

        for (DirectoryInfo? dir = Directory.GetParent(repository); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "third_party", "netconsd");
            if (File.Exists(Path.Combine(candidate, "Makefile")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("netconsd's source was not found: set NETCONSD_SOURCE to a checkout of https://github.com/facebook/netconsd");
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, directory);
            if (!IsGit(relative))
            {
                Directory.CreateDirectory(Path.Combine(to, relative));
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
