using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Logging;

/// <summary>ILogger to a real receiver: real injection on a veth in a private network namespace.</summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class LoggingLabTests
{
    [SkippableFact]
    public async Task Records_logged_through_ILogger_arrive_with_level_category_scopes_and_exception()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        using NetworkLab lab = NetworkLab.Create();
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetworkV6, 6666));
        Exception exception = RecordTests.Thrown(new InvalidOperationException("the lab is on fire"));

        // No ManagerOptions: a real device needs the default (rtnetlink) watcher and libpcap.
        using (ILoggerFactory factory = LoggerFactory.Create(b => b.AddNetconsole(o => o.Targets.Add($"+@/{lab.DeviceName},@{lab.PeerIPv6}/"))))
        {
            ILogger logger = factory.CreateLogger("Lab.Orders");
            using (logger.BeginScope("order {OrderId}", 4711))
            {
                logger.LogWarning("stock low");
                logger.LogError(exception, "shipping failed");
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        ReceivedRecord first = await receiver.ReadAsync(timeout.Token);
        ReceivedRecord second = await receiver.ReadAsync(timeout.Token);

        first.TextString.Should().Be("stock low");
        first.Level.Should().Be(4);
        first.Facility.Should().Be(1);
        first.FindValue("CATEGORY").Should().Be("Lab.Orders");
        first.FindValue("SCOPE").Should().Be("order 4711");
        first.FindValue("OrderId").Should().Be("4711");
        second.TextString.Should().Be("shipping failed\n" + exception);
        second.Level.Should().Be(3);
        second.Sequence.Should().Be(first.Sequence + 1);
    }
}
