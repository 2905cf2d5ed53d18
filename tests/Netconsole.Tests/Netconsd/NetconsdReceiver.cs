using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Netconsole.Lab;
using Xunit.Abstractions;

namespace Netconsole.Tests.Netconsd;

/// <summary>
/// A real netconsd receiving in the lab's peer namespace (<c>ip netns exec</c>), with its default
/// threads, port (1514) and socket buffer, the stock printer module and our probe module; its
/// standard output is collected line by line. Disposing it stops netconsd with SIGTERM (so it
/// prints its exit statistics) and writes everything it printed to the test output.
/// </summary>
internal sealed class NetconsdReceiver : IAsyncDisposable
{
    /// <summary>netconsd's default UDP port; the tests leave it unchanged.</summary>
    public const int Port = 1514;

    // A plain datagram: ncrx cannot parse it, so netconsd hands it over as text without touching
    // the sender's sequence state, and the records' sequence numbers are judged as if it never came.
    private const string ReadyText = "netconsd test: are you listening?\n";

    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly ITestOutputHelper _output;
    private readonly List<string> _lines = [];
    private readonly List<NetconsdMessage> _messages = [];
    private readonly SemaphoreSlim _printed = new(0);

    private NetconsdReceiver(Process process, string commandLine, ITestOutputHelper output)
    {
        _process = process;
        _output = output;
        CommandLine = commandLine;
    }

    /// <summary>The command line netconsd runs with (as the test ran it).</summary>
    public string CommandLine { get; }

    /// <summary>Everything netconsd printed so far (its log, the printer module's lines, the probe's lines).</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The messages netconsd handed to its modules so far, without the readiness datagrams.</summary>
    public IReadOnlyList<NetconsdMessage> Messages
    {
        get
        {
            lock (_lines)
            {
                return [.. _messages.Where(m => m.Text != ReadyText)];
            }
        }
    }

    /// <summary>
    /// Starts netconsd in <paramref name="lab"/>'s peer namespace and returns once it has printed
    /// a datagram sent from the device end (so it is bound and its modules are loaded).
    /// </summary>
    public static async Task<NetconsdReceiver> StartAsync(NetworkLab lab, NetconsdBuild build, ITestOutputHelper output)
    {
        output.WriteLine(build.ToString());
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        string[] arguments = ["netns", "exec", lab.PeerNamespace, build.Daemon, build.PrinterModule, build.ProbeModule];
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start ip netns exec netconsd");
        var netconsd = new NetconsdReceiver(process, "ip " + string.Join(' ', arguments), output);
        process.OutputDataReceived += (_, e) => netconsd.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => netconsd.OnLine(e.Data is null ? null : "stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await netconsd.WaitUntilListeningAsync(lab);
        }
        catch
        {
            await netconsd.DisposeAsync();
            throw;
        }

        return netconsd;
    }

    /// <summary>
    /// Waits until netconsd has handed <paramref name="count"/> messages to its modules (or fails
    /// after <paramref name="timeout"/>, listing what came), then waits <paramref name="quiet"/>
    /// more (default 500 ms: longer than netconsd's 200 ms reorder timeout) so a message too many
    /// would be seen, and returns them all.
    /// </summary>
    public async Task<IReadOnlyList<NetconsdMessage>> WaitForMessagesAsync(int count, TimeSpan? timeout = null, TimeSpan? quiet = null)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(10);
        while (Messages.Count < count)
        {
            TimeSpan left = limit - deadline.Elapsed;
            if (left <= TimeSpan.Zero || _process.HasExited)
            {
                IReadOnlyList<NetconsdMessage> got = Messages;
                throw new TimeoutException(
                    $"netconsd handed over {got.Count} of {count} messages within {limit.TotalSeconds:F0} s{(_process.HasExited ? " and exited" : "")}; "
                    + $"the last ones:\n{string.Join('\n', got.TakeLast(5))}");
            }

            await _printed.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }

        await Task.Delay(quiet ?? TimeSpan.FromMilliseconds(500));
        return Messages;
    }

    /// <summary>Stops netconsd (SIGTERM, then SIGKILL after 5 s) and writes what it printed to the test output.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _ = Kill(_process.Id, SigTerm);
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
            else
            {
                await _process.WaitForExitAsync();
            }

            _output.WriteLine($"$ {CommandLine}   (exit code {_process.ExitCode})");
            foreach (string line in Output)
            {
                _output.WriteLine(line);
            }
        }
        finally
        {
            _process.Dispose();
            _printed.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            if (NetconsdMessage.TryParse(line) is { } message)
            {
                _messages.Add(message);
            }
        }

        try
        {
            _printed.Release();
        }
        catch (ObjectDisposedException)
        {
            // A line after disposal: nobody waits any more.
        }
    }

    private async Task WaitUntilListeningAsync(NetworkLab lab)
    {
        using Socket socket = lab.OpenDeviceUdpSocket(AddressFamily.InterNetwork);
        byte[] ready = Encoding.ASCII.GetBytes(ReadyText);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"netconsd exited with {_process.ExitCode} at its start:\n{string.Join('\n', Output)}");
            }

            lock (_lines)
            {
                if (_messages.Any(m => m.Text == ReadyText))
                {
                    return;
                }
            }

            await socket.SendToAsync(ready, new IPEndPoint(lab.PeerIPv4, Port));
            await Task.Delay(100);
        }

        throw new TimeoutException($"netconsd printed no datagram within 10 s of its start:\n{string.Join('\n', Output)}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
