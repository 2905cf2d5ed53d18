using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Send;
using Netconsole.Tests.Targets.Manager;

namespace Netconsole.Tests.Send;

/// <summary>
/// netconsole-send on a target whose device loses its carrier, with the manager's device watcher
/// and transports replaced (no root, no device): the lines are dropped, reported once, and the
/// summary counts them by reason. The lab tests do the same on a veth whose peer goes down.
/// </summary>
public sealed class SendToolCarrierTests
{
    // A name no real device has: the tool's own look at the system never finds it.
    private const string Device = "ncfake0";

    [Fact]
    public void Lines_after_the_carrier_is_lost_are_dropped_reported_once_and_counted_as_NoCarrier_in_the_summary()
    {
        using var watcher = new ManualDeviceWatcher();
        watcher.Register(Device, PhysicalAddress.Parse("02-00-00-00-00-01"), [IPAddress.Parse("192.0.2.1")]);
        var transports = new FakeTransportFactory();
        var input = new ScriptedReader(
            ("before", null),
            ("no carrier 1", () => watcher.SetCarrier(Device, false)),
            ("no carrier 2", null));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = SendTool.Run(["--target", $"+@/{Device},@192.0.2.2/02:00:00:00:00:02", "--stdin", "--seq", "1"],
            stdout, stderr, new TextLinesStream(input), transports, watcher);

        exit.Should().Be(0, "with --stdin dropped lines are counted, not failures");
        stdout.ToString().Should().Be("3 record(s), 1 frame(s) sent, 2 dropped (NoCarrier 2)" + Environment.NewLine);
        stderr.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            $"netconsole-send: enabled on device {Device}",
            $"netconsole-send: {Device}: No carrier; dropping records until the carrier is back");
        transports.Last.Frames.Should().ContainSingle("only the line before the loss was handed to the transport");
    }
}
