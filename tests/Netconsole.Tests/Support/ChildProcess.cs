using System.Diagnostics;

namespace Netconsole.Tests.Support;

/// <summary>Programs a test runs as child processes: the dotnet host, tools on the PATH.</summary>
internal static class ChildProcess
{
    /// <summary>What a child process printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    // How long the output may stay open after the child exited.
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="start"/> with its output captured and waits for it to exit; a child
    /// still running after <paramref name="timeout"/> is killed with its process tree.
    /// </summary>
    public static async Task<Result> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using Process child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await child.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not exit within {timeout.TotalSeconds:F0} s");
        }

        // The child has exited; its output ends when every process holding the pipes has closed
        // them. One it started and left running (a build server, a node kept for reuse) would hold
        // them open for good: fail with that rather than wait forever.
        try
        {
            await Task.WhenAll(stdout, stderr).WaitAsync(OutputGrace);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} exited (code {child.ExitCode}), but its output was still open {OutputGrace.TotalSeconds:F0} s later: a process it started keeps it open");
        }

        return new Result(child.ExitCode, await stdout, await stderr);
    }

    /// <summary>The dotnet host running the tests (dotnet test runs testhost.dll with it), or the SDK's, or the PATH's.</summary>
    public static string DotnetHost()
    {
        string? path = Environment.ProcessPath;
        if (path is not null && Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            return path;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } sdkHost ? sdkHost : "dotnet";
    }

    /// <summary>The full path of program <paramref name="name"/> on the PATH (or in /usr/sbin, /usr/bin), or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin"])
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
