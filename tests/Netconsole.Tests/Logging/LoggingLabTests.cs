using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Netconsole.Lab;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Netconsole.Tests.Transport;

namespace Netconsole.Tests.Logging;

/// <summary>ILogger to a real receiver: real injection on a veth in a private network namespace.</summary>
[Collection(LabTestsRunAlone.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab
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

    public static TheoryData<string> Transports => [.. LabTransports.Kinds];

    // A burst is taken by the sender in runs of up to 64 and each run's frames go to the
    // transport together (sendmmsg with the packet socket): on the wire, nothing missing, nothing
    // out of order, every sequence number in turn.
    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public async Task A_burst_of_3000_records_arrives_whole_and_in_order_through_either_transport(string kind)
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        const int Count = 3000;
        using NetworkLab lab = NetworkLab.Create();
        await using var receiver = new NetconsoleReceiver(lab.OpenPeerUdpSocket(AddressFamily.InterNetworkV6, 6666));
        var options = new NetconsoleLoggerOptions
        {
            ManagerOptions = () => new Netconsole.Targets.TargetManagerOptions { TransportFactory = LabTransports.Factory(kind) },
            QueueFullMode = NetconsoleQueueFullMode.Wait,
        };
        options.Targets.Add($"+@/{lab.DeviceName},@{lab.PeerIPv6}/");
        NetconsoleLoggerStatistics statistics;
        using (var provider = new NetconsoleLoggerProvider(options))
        {
            ILogger logger = provider.CreateLogger("Lab.Burst");
            for (int i = 0; i < Count; i++)
            {
                logger.LogInformation("record {Number}", i);
            }

            provider.Flush(TimeSpan.FromSeconds(10)).Should().BeTrue();
            statistics = provider.GetStatistics();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var texts = new List<string>(Count);
        ulong? first = null;
        for (int i = 0; i < Count; i++)
        {
            ReceivedRecord record = await receiver.ReadAsync(timeout.Token);
            first ??= record.Sequence;
            record.Sequence.Should().Be(first + (ulong)i, "every sequence number in turn");
            texts.Add(record.TextString);
        }

        texts.Should().Equal(Enumerable.Range(0, Count).Select(i => $"record {i}"));
        statistics.RecordsDelivered.Should().Be(Count);
        receiver.GetStatistics().RecordsDroppedUnread.Should().Be(0);
    }
}
