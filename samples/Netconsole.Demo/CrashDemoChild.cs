using System.Diagnostics;
using Netconsole.Receiving;

namespace Netconsole.Demo;

/// <summary>
/// The child process of the crash scenes (3 and 4): netconsole-crash-demo, which logs
/// <see cref="Count"/> records to <see cref="Target"/> and dies, the way its mode says.
/// </summary>
internal static class CrashDemoChild
{
    /// <summary>The child's target: extended, on lo, to [::1]:6666.</summary>
    public const string Target = "+@/lo,@::1/";

    /// <summary>The records the child logs before it dies.</summary>
    public const int Count = 5;

    /// <summary>
    /// Runs the child (its mode words after the target and the count; none for an unhandled
    /// exception), waits at most 20 s for it to end (then kills it), and shows its own lines.
    /// </summary>
    /// <returns>Its exit code; null when the crash demo is not beside this program (said on <paramref name="output"/>).</returns>
    public static async Task<int?> RunAsync(TextWriter output, params string[] mode)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "netconsole-crash-demo.dll");
        if (!File.Exists(dll))
        {
            output.WriteLine($"   {dll} is missing (build samples/Netconsole.Demo, which references the crash demo)");
            return null;
        }

        string host = DotnetHost();
        output.WriteLine($"   receiver on [::1]:6666; child: dotnet netconsole-crash-demo.dll \"{Target}\" {Count}{string.Concat(mode.Select(m => " " + m))}");
        var start = new ProcessStartInfo(host) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(Target);
        start.ArgumentList.Add(Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string word in mode)
        {
            start.ArgumentList.Add(word);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            try
            {
                await child.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                output.WriteLine("   the child did not exit within 20 s and was killed");
            }
        }

        // The runtime's own report of a death goes to stderr too: show the child's lines only.
        string printed = await stderr.WaitAsync(TimeSpan.FromSeconds(10)) + await stdout.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (string line in printed.Split('\n').Where(l => l.StartsWith("netconsole-crash-demo:", StringComparison.Ordinal)))
        {
            output.WriteLine("   child: " + line.TrimEnd());
        }

        return child.ExitCode;
    }

    /// <summary>Whether records 1 to <see cref="Count"/> arrived first, in order, with one more record after them.</summary>
    public static bool RecordsFirstInOrder(List<ReceivedRecord> records) =>
        records.Count == Count + 1
        && Enumerable.Range(1, Count).All(i => records[i - 1].TextString.Contains($"record {i} of {Count}", StringComparison.Ordinal));

    /// <summary>The dotnet host running this process (or the one the SDK names, or dotnet on the PATH).</summary>
    internal static string DotnetHost()
    {
        string? path = Environment.ProcessPath;
        if (path is not null && Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            return path;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } sdkHost ? sdkHost : "dotnet";
    }
}
