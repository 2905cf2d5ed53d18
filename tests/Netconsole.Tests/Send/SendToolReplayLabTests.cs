using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Receiving;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Send;

/// <summary>
/// netconsole-send --stdin rides through an outage the way a user sees it (issue 18): the real
/// tool as a child process, fed lines through a pipe, its device set down in the lab while lines
/// come, a real receiver on the peer. Lines read during the outage wait in the target's replay
/// buffer and arrive first, in order, once the device is up; the summary says how many were
/// replayed. A device that stays down past --replay-wait-ms ends the tool with what it could not
/// send reported and counted, and exit code 1.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab
public sealed class SendToolReplayLabTests(ITestOutputHelper output) : LabFixture
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>The tool running as a child process: its standard input, and its stderr lines as they come.</summary>
    private sealed class Tool : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stdout;
        private readonly ConcurrentQueue<string> _stderr = new();

        public Tool(NetworkLab lab, params string[] more)
        {
            ProcessStartInfo start = SendToolChild.StdinToPeer(lab, more);
            _process = Process.Start(start)!;
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    _stderr.Enqueue(e.Data);
                }
            };
            _process.BeginErrorReadLine();
            _stdout = _process.StandardOutput.ReadToEndAsync();
            _process.StandardInput.AutoFlush = true;
        }

        public string[] Stderr => [.. _stderr];

        public void Write(int from, int to)
        {
            for (int n = from; n <= to; n++)
            {
                _process.StandardInput.Write(string.Create(CultureInfo.InvariantCulture, $"line {n}\n"));
            }
        }

        public void WaitForStderr(string part) =>
            SpinWait.SpinUntil(() => _stderr.Any(l => l.Contains(part, StringComparison.Ordinal)), Wait)
                .Should().BeTrue($"netconsole-send says \"{part}\" on stderr: {string.Join(" | ", _stderr)}");

        // Standard input closed: the end of input; the tool waits for its replay (bounded) and exits.
        public async Task<(int Exit, string Summary)> EndAsync(ITestOutputHelper output)
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(Wait))
            {
                throw new TimeoutException("netconsole-send did not exit after its standard input was closed");
            }

            _process.WaitForExit(); // the stderr lines read to their end
            string summary = await _stdout;
            output.WriteLine($"netconsole-send -> {_process.ExitCode}\n{summary}{string.Join('\n', _stderr)}");
            return (_process.ExitCode, summary);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }

    private static async Task<ReceivedRecord> Next(NetconsoleReceiver receiver)
    {
        using var timeout = new CancellationTokenSource(Wait);
        return await receiver.ReadAsync(timeout.Token);
    }

    [SkippableFact]
    public async Task Lines_fed_while_the_device_is_down_all_arrive_in_order_once_it_is_up_and_the_summary_counts_them_replayed()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = IPv4Receiver(lab);
        using var tool = new Tool(lab);
        tool.Write(1, 50);
        for (int n = 1; n <= 50; n++)
        {
            (await Next(receiver)).TextString.Should().Be($"line {n}");
        }

        lab.SetDeviceDown();
        tool.Write(51, 150);
        tool.WaitForStderr($"{lab.DeviceName}: Network is down; buffering records until it is up");
        receiver.GetStatistics().RecordsReceived.Should().Be(50, "nothing goes out while the device is down");
        lab.SetDeviceUp();
        tool.Write(151, 200);
        var (exit, summary) = await tool.EndAsync(output);

        exit.Should().Be(0);
        for (int n = 51; n <= 200; n++)
        {
            ReceivedRecord record = await Next(receiver);
            record.TextString.Should().Be($"line {n}", "the buffered lines go out first, in order, then the lines after them");
            record.Sequence.Should().Be((ulong)n, "each line keeps the sequence number it was given when it was read");
        }

        receiver.GetStatistics().Reassembler.RecordsLost.Should().Be(0);
        Match counts = Regex.Match(summary, @"^200 record\(s\), 200 frame\(s\) sent, (?<replayed>\d+) replayed, 0 dropped\n$");
        counts.Success.Should().BeTrue($"every line went out, those of the outage replayed: {summary}");
        int replayed = int.Parse(counts.Groups["replayed"].Value, CultureInfo.InvariantCulture);
        replayed.Should().BeInRange(1, 150, "what was buffered went out from the replay buffer; the first 50 were sent at once");
        tool.Stderr.Should().Contain(l => l.StartsWith($"netconsole-send: {lab.DeviceName}: sending again (", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_device_still_down_at_the_end_of_input_ends_the_tool_after_its_replay_wait_with_the_lines_not_sent_reported_and_exit_code_1()
    {
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = IPv4Receiver(lab);
        using var tool = new Tool(lab, "--replay-wait-ms", "500");
        tool.Write(1, 10);
        for (int n = 1; n <= 10; n++)
        {
            (await Next(receiver)).TextString.Should().Be($"line {n}");
        }

        lab.SetDeviceDown();
        tool.Write(11, 30);
        var (exit, summary) = await tool.EndAsync(output);

        exit.Should().Be(1, "the last 20 lines were not sent, and a receiver sees no gap after them");
        summary.Should().Be("30 record(s), 10 frame(s) sent, 0 replayed, 0 dropped, 20 not sent (still buffered)\n");
        tool.Stderr.Should().Contain($"netconsole-send: {lab.DeviceName}: Network is down; buffering records until it is up")
            .And.Contain($"netconsole-send: {lab.DeviceName}: Network is down; gave up after --replay-wait-ms 500: the last 20 record(s) read, still buffered, are not sent");
        receiver.GetStatistics().RecordsReceived.Should().Be(10);
    }
}
