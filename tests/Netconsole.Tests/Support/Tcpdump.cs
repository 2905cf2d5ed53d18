using System.Diagnostics;
using Xunit.Abstractions;

namespace Netconsole.Tests.Support;

/// <summary>tcpdump as an independent check of the frames this project writes.</summary>
internal static class Tcpdump
{
    /// <summary>
    /// The output of <c>tcpdump -r FILE -vv -n</c>. Without tcpdump the test is skipped, or
    /// fails on CI (./test.sh installs it): call it from a [SkippableFact] or [SkippableTheory].
    /// </summary>
    public static string Read(string path, ITestOutputHelper output)
    {
        string? tcpdump = ChildProcess.FindOnPath("tcpdump");
        Requires.That(tcpdump is not null, "needs tcpdump to check frames independently (apt-get install tcpdump)");

        var start = new ProcessStartInfo(tcpdump!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "-r", path, "-vv", "-n" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit(30_000).Should().BeTrue("tcpdump reads a small file quickly");
        process.ExitCode.Should().Be(0, stderr.Result);
        output.WriteLine(stdout);
        return stdout;
    }
}
