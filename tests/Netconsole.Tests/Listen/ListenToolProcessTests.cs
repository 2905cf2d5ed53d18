using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Listen;

/// <summary>
/// netconsole-listen as a real process under a hostile flood, with its standard output in a pipe
/// nobody reads (a paused `| less`, a stuck log shipper): it stays within its memory budget,
/// says how many records it dropped, and stops on SIGTERM. It reached 1 GB and aborted, and
/// ignored SIGTERM, before the receiver counted memory as decoded (issue 16).
/// </summary>
public sealed partial class ListenToolProcessTests(ITestOutputHelper output)
{
    private const long MemoryBudget = 128L * 1024 * 1024;

    [Fact]
    public async Task With_its_output_unread_it_stays_within_its_memory_budget_reports_drops_and_stops_on_SIGTERM()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "netconsole-listen.dll");
        var start = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            RedirectStandardOutput = true, // never read: the pipe fills and every write blocks
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { dll, "--address", "127.0.0.1", "--port", "0" })
        {
            start.ArgumentList.Add(argument);
        }

        using Process listen = Process.Start(start)!;
        try
        {
            var errors = new List<string>();
            int port = await ReadPortAsync(listen, errors);

            // Datagrams of 60 KB of short dictionary lines, until the tool says it drops records:
            // ~18 KiB held per record once decoded (256 entries kept), ~1 MB if every line were.
            using var flooding = new CancellationTokenSource();
            Task flood = Task.Run(async () =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                var lines = new StringBuilder();
                while (lines.Length < 60_000)
                {
                    lines.Append("\n a=b");
                }

                for (int i = 1; !flooding.IsCancellationRequested; i++)
                {
                    socket.SendTo(Encoding.ASCII.GetBytes($"6,{i},{i},-;x{lines}"), new IPEndPoint(IPAddress.Loopback, port));
                    if (i % 50 == 0)
                    {
                        await Task.Delay(5); // let the receive loop keep up, so the kernel drops few
                    }
                }
            });

            string dropped = await ReadLineMatchingAsync(listen, errors, DroppedUnread());
            long resident = ResidentBytes(listen.Id);
            await flooding.CancelAsync();
            await flood;
            output.WriteLine($"{dropped}; resident {resident / (1024 * 1024)} MiB");
            resident.Should().BeLessThan(MemoryBudget, "the tool keeps at most 8 MiB of unread records, counted as held decoded");

            using (Process kill = Process.Start("kill", ["-TERM", listen.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            await listen.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            listen.ExitCode.Should().Be(3, "its output never drained: it stops without the summary rather than not at all");
        }
        finally
        {
            if (!listen.HasExited)
            {
                listen.Kill();
            }
        }
    }

    private static async Task<int> ReadPortAsync(Process listen, List<string> errors)
    {
        string line = await ReadLineMatchingAsync(listen, errors, Listening());
        return int.Parse(Listening().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    private static async Task<string> ReadLineMatchingAsync(Process listen, List<string> errors, Regex pattern)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            string? line = await listen.StandardError.ReadLineAsync(deadline.Token)
                ?? throw new InvalidOperationException($"netconsole-listen ended; it printed: {string.Join(" | ", errors)}");
            errors.Add(line);
            if (pattern.IsMatch(line))
            {
                return line;
            }
        }
    }

    private static long ResidentBytes(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    [GeneratedRegex(@"listening on .*:(?<port>\d+) ")]
    private static partial Regex Listening();

    [GeneratedRegex(@"\d+ records? dropped unread")]
    private static partial Regex DroppedUnread();
}
