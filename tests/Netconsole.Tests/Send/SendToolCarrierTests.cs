using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Netconsole.Devices;
using Netconsole.Send;
using Netconsole.Tests.Receiving;
using Netconsole.Tests.Targets.Manager;

namespace Netconsole.Tests.Send;

/// <summary>
/// netconsole-send on a target whose device loses its carrier, with the manager's device watcher
/// and transports replaced (no root, no device): the lines wait in the target's replay buffer,
/// reported once; when the carrier is back they go out first, in order; when it is not back by
/// the end of the replay wait, what waits is reported, counted as not sent, and the exit code
/// is 1. The lab tests do the same on a veth whose peer goes down, and with a device set down.
/// </summary>
public sealed class SendToolCarrierTests
{
    // A name no real device has: the tool's own look at the system never finds it.
    private const string Device = "ncfake0";
    private const string Target = $"@/{Device},@192.0.2.2/02:00:00:00:00:02";

    private static ManualDeviceWatcher Watcher()
    {
        var watcher = new ManualDeviceWatcher();
        watcher.Register(Device, PhysicalAddress.Parse("02-00-00-00-00-01"), [IPAddress.Parse("192.0.2.1")]);
        return watcher;
    }

    private static string[] Lines(string stderr) => stderr.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    // The basic format: a frame's UDP payload is the text and a newline.
    private static string[] Texts(FakeTransportFactory transports) =>
        [.. transports.Opened.SelectMany(t => t.Frames).Select(f => Encoding.UTF8.GetString(f.AsSpan(14 + 20 + 8)).TrimEnd('\n'))];

    [Fact]
    public void Lines_after_the_carrier_is_lost_are_buffered_and_go_out_first_in_order_when_it_is_back()
    {
        using ManualDeviceWatcher watcher = Watcher();
        var transports = new FakeTransportFactory();
        var input = new ScriptedReader(
            ("before", null),
            ("no carrier 1", () => watcher.SetCarrier(Device, false)),
            ("no carrier 2", null),
            ("carrier back", () =>
            {
                watcher.SetCarrier(Device, true);
                SpinWait.SpinUntil(() => transports.Opens == 2 && transports.Last.Frames.Count == 2, TestWait.Timeout)
                    .Should().BeTrue("the target resumes on a new transport and replays the two buffered lines");
            }));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = SendTool.Run(["--target", Target, "--stdin", "--seq", "1"], stdout, stderr, new TextLinesStream(input), transports, watcher);

        exit.Should().Be(0, stderr.ToString());
        stdout.ToString().Should().Be("4 record(s), 4 frame(s) sent, 2 replayed, 0 dropped" + Environment.NewLine);
        string[] state = Lines(stderr.ToString());
        state.Should().HaveCount(3);
        state[0].Should().Be($"netconsole-send: enabled on device {Device}");
        state[1].Should().Be($"netconsole-send: {Device}: No carrier; buffering records until the carrier is back");
        state[2].Should().StartWith($"netconsole-send: {Device}: sending again (")
            .And.EndWith("2 record(s) buffered meanwhile go out first, 0 record(s) dropped so far)");
        Texts(transports).Should().Equal("before", "no carrier 1", "no carrier 2", "carrier back");
    }

    [Fact]
    public void Lines_still_buffered_when_the_replay_wait_runs_out_are_reported_counted_as_not_sent_and_the_exit_code_is_1()
    {
        using ManualDeviceWatcher watcher = Watcher();
        var transports = new FakeTransportFactory();
        var input = new ScriptedReader(
            ("before", null),
            ("no carrier 1", () => watcher.SetCarrier(Device, false)),
            ("no carrier 2", null));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = SendTool.Run(["--target", Target, "--stdin", "--seq", "1", "--replay-wait-ms", "0"],
            stdout, stderr, new TextLinesStream(input), transports, watcher);

        exit.Should().Be(SendTool.SendError, "the last lines were not sent, and a receiver sees no gap after them");
        stdout.ToString().Should().Be("3 record(s), 1 frame(s) sent, 0 replayed, 0 dropped, 2 not sent (still buffered)" + Environment.NewLine);
        Lines(stderr.ToString()).Should().Equal(
            $"netconsole-send: enabled on device {Device}",
            $"netconsole-send: {Device}: No carrier; buffering records until the carrier is back",
            $"netconsole-send: {Device}: No carrier; gave up after --replay-wait-ms 0: the last 2 record(s) read, still buffered, are not sent");
        Texts(transports).Should().Equal(["before"], "only the line before the loss was handed to the transport");
    }

    [Fact]
    public void Past_the_replay_buffers_10000_records_the_oldest_are_dropped_reported_once_and_counted_apart_from_those_not_sent()
    {
        using ManualDeviceWatcher watcher = Watcher();
        var transports = new FakeTransportFactory();
        var input = new ScriptedReader(
            [("before", null), ("outage 1", () => watcher.SetCarrier(Device, false)), .. Enumerable.Range(2, 10_004).Select(n => ($"outage {n}", (Action?)null))]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = SendTool.Run(["--target", Target, "--stdin", "--seq", "1", "--replay-wait-ms", "0"],
            stdout, stderr, new TextLinesStream(input), transports, watcher);

        exit.Should().Be(SendTool.SendError);
        stdout.ToString().Should().Be("10006 record(s), 1 frame(s) sent, 0 replayed, 5 dropped (ReplayBufferFull 5), 10000 not sent (still buffered)" + Environment.NewLine,
            "records = sent + replayed + dropped + not sent");
        Lines(stderr.ToString()).Should().Equal(
            $"netconsole-send: enabled on device {Device}",
            $"netconsole-send: {Device}: No carrier; buffering records until the carrier is back",
            $"netconsole-send: {Device}: replay buffer full (10000 records or 4194304 bytes): the oldest buffered records are dropped (ReplayBufferFull)",
            $"netconsole-send: {Device}: No carrier; gave up after --replay-wait-ms 0: the last 10000 record(s) read, still buffered, are not sent");
    }
}
