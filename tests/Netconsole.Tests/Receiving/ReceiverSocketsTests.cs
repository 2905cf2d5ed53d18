using System.Net;
using System.Net.Sockets;
using Netconsole.Interop;
using Netconsole.Receiving;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Receiving;

// NetconsoleReceiverOptions.ReceiveSockets: several sockets on one endpoint (SO_REUSEPORT, Linux),
// steered by sender, one queue. Real loopback sockets; waits only matter when a test fails.
public class ReceiverSocketsTests
{
    private const int Records = 120;

    [SkippableFact]
    public async Task Two_sockets_deliver_every_record_of_several_senders_once_in_each_senders_order_with_the_statistics_summed()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (SO_REUSEPORT steered by sender)");
        await using var receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.Loopback, 0), new NetconsoleReceiverOptions { ReceiveSockets = 2 });
        List<TestSender> senders = SendersOnBothSockets(receiver.LocalEndPoint, perSocket: 3, byPort: true);
        try
        {
            await SendInTurnsAsync(receiver, senders, Records);

            List<ReceivedRecord> records = await ReadAsync(receiver, senders.Count * Records);
            foreach (TestSender sender in senders)
            {
                records.Where(r => r.Sender.Equals(sender.LocalEndPoint)).Select(r => r.Sequence)
                    .Should().Equal(Enumerable.Range(1, Records).Select(i => (ulong)i), "each sender's records arrive once, in order");
            }

            NetconsoleReceiverStatistics stats = receiver.GetStatistics();
            stats.DatagramsReceived.Should().Be(senders.Count * Records);
            stats.RecordsReceived.Should().Be(senders.Count * Records);
            stats.Reassembler.RecordsReceived.Should().Be(senders.Count * Records);
            stats.Reassembler.DatagramsReceived.Should().Be(senders.Count * Records);
            stats.Reassembler.SendersTracked.Should().Be(senders.Count);
            stats.Reassembler.RecordsLost.Should().Be(0);
            receiver.GetAllSenderStatistics().Select(s => s.Sender).Should().BeEquivalentTo(senders.Select(s => s.LocalEndPoint));
            foreach (TestSender sender in senders)
            {
                receiver.GetSenderStatistics(sender.LocalEndPoint)!.RecordsReceived.Should().Be(Records);
            }

            receiver.GetDatagramsPerSocket().Should().Equal(
                [3 * Records, 3 * Records],
                "every sender reaches the socket the steering program picks for its address and port");
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
        }
    }

    [SkippableFact]
    public async Task Keyed_by_address_a_sender_sending_from_several_ports_reaches_one_socket_and_one_sequence_tracker()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (SO_REUSEPORT steered by sender)");
        var options = new NetconsoleReceiverOptions { ReceiveSockets = 2, SenderKey = SenderKey.Address };
        await using var receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.Loopback, 0), options);
        var ports = Enumerable.Range(0, 6).Select(_ => new TestSender(receiver.LocalEndPoint)).ToList();
        try
        {
            // One sequence stream from one address, the port changing with every record: by the
            // kernel's own hash half of them would reach the other socket and its tracker.
            for (int seq = 1; seq <= 60; seq++)
            {
                ports[seq % ports.Count].Send(TestSender.Record((ulong)seq, $"record {seq}"));
            }

            List<ReceivedRecord> records = await ReadAsync(receiver, 60);

            records.Select(r => r.Sequence).Should().Equal(Enumerable.Range(1, 60).Select(i => (ulong)i));
            records.Select(r => r.Sender).Distinct().Should().Equal(new IPEndPoint(IPAddress.Loopback, 0));
            NetconsoleReceiverStatistics stats = receiver.GetStatistics();
            stats.Reassembler.SendersTracked.Should().Be(1);
            stats.Reassembler.RecordsLost.Should().Be(0);
            stats.Reassembler.RecordsOutOfOrder.Should().Be(0);
            receiver.GetDatagramsPerSocket().Should().Contain(60);
        }
        finally
        {
            ports.ForEach(s => s.Dispose());
        }
    }

    [SkippableFact]
    public async Task The_queue_and_its_limits_are_shared_by_every_socket()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (SO_REUSEPORT steered by sender)");
        var options = new NetconsoleReceiverOptions { ReceiveSockets = 2, Capacity = 10 };
        await using var receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.Loopback, 0), options);
        List<TestSender> senders = SendersOnBothSockets(receiver.LocalEndPoint, perSocket: 1, byPort: true);
        try
        {
            await SendInTurnsAsync(receiver, senders, 20);

            NetconsoleReceiverStatistics stats = receiver.GetStatistics();
            stats.RecordsReceived.Should().Be(40);
            stats.RecordsQueued.Should().Be(10, "Capacity counts the records of both sockets together");
            stats.RecordsDroppedUnread.Should().Be(30);
        }
        finally
        {
            senders.ForEach(s => s.Dispose());
        }
    }

    [SkippableFact]
    public async Task Dispose_delivers_the_continued_groups_held_by_every_socket()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (SO_REUSEPORT steered by sender)");
        var options = new NetconsoleReceiverOptions { ReceiveSockets = 2, Reassembler = new RecordReassemblerOptions { Timeout = TimeSpan.FromMinutes(5) } };
        var receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.Loopback, 0), options);
        List<TestSender> senders = SendersOnBothSockets(receiver.LocalEndPoint, perSocket: 1, byPort: true);
        try
        {
            foreach (TestSender sender in senders)
            {
                sender.Send(TestSender.Record(1, "first part") with { Continuation = RecordContinuation.First });
            }

            await TestWait.UntilAsync(() => receiver.GetStatistics().Reassembler.GroupsHeld == 2);
            await receiver.DisposeAsync();

            List<ReceivedRecord> records = await TestWait.ReadAllAsync(receiver);
            records.Select(r => r.Sender).Should().BeEquivalentTo(senders.Select(s => s.LocalEndPoint));
            records.Should().OnlyContain(r => r.TextString == "first part");
        }
        finally
        {
            await receiver.DisposeAsync();
            senders.ForEach(s => s.Dispose());
        }
    }

    [SkippableFact]
    public void Refuses_a_port_another_socket_holds_as_one_socket_would()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (SO_REUSEPORT steered by sender)");
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.SetRawSocketOption(1, 15, BitConverter.GetBytes(1)); // SO_REUSEPORT: even a socket that would share
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        FluentActions.Invoking(() => NetconsoleReceiver.Listen((IPEndPoint)holder.LocalEndPoint!, new NetconsoleReceiverOptions { ReceiveSockets = 2 }))
            .Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
    }

    [Fact]
    public void A_handed_over_socket_is_received_on_alone()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        FluentActions.Invoking(() => new NetconsoleReceiver(socket, new NetconsoleReceiverOptions { ReceiveSockets = 2 }))
            .Should().Throw<ArgumentException>().WithMessage("*ReceiveSockets*Listen*");
        socket.Invoking(s => s.Available).Should().NotThrow("a refused socket stays the caller's");
    }

    [Fact]
    public void ReceiveSockets_is_1_by_default_and_from_1_to_64()
    {
        var options = new NetconsoleReceiverOptions();

        options.ReceiveSockets.Should().Be(1);
        options.Invoking(o => o.ReceiveSockets = 0).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.ReceiveSockets = 65).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.ReceiveSockets = 64).Should().NotThrow();
    }

    // Senders on loopback ports the steering program sends to each socket: perSocket each.
    private static List<TestSender> SendersOnBothSockets(IPEndPoint receiver, int perSocket, bool byPort)
    {
        var chosen = new List<TestSender>();
        var counts = new int[2];
        var spare = new List<TestSender>();
        while (counts.Min() < perSocket)
        {
            var sender = new TestSender(receiver);
            int socket = ReusePortGroup.SocketOf(sender.LocalEndPoint, 2, byPort);
            if (counts[socket] < perSocket)
            {
                counts[socket]++;
                chosen.Add(sender);
            }
            else
            {
                spare.Add(sender); // kept open until the end, so the system gives out other ports
            }
        }

        spare.ForEach(s => s.Dispose());
        return chosen;
    }

    // Records 1..count from every sender in turn, a few at a time, waiting for the receiver to
    // take them, so no socket buffer overflows whatever the machine's limits.
    private static async Task SendInTurnsAsync(NetconsoleReceiver receiver, List<TestSender> senders, int count)
    {
        long sent = receiver.GetStatistics().DatagramsReceived;
        for (int first = 1; first <= count; first += 10)
        {
            for (int seq = first; seq < first + 10 && seq <= count; seq++)
            {
                foreach (TestSender sender in senders)
                {
                    sender.Send(TestSender.Record((ulong)seq, $"record {seq}"));
                    sent++;
                }
            }

            await TestWait.UntilAsync(() => receiver.GetStatistics().DatagramsReceived == sent);
        }
    }

    private static async Task<List<ReceivedRecord>> ReadAsync(NetconsoleReceiver receiver, int count)
    {
        var records = new List<ReceivedRecord>();
        while (records.Count < count)
        {
            records.Add(await TestWait.ReadAsync(receiver));
        }

        await Task.Delay(100);
        receiver.TryRead(out ReceivedRecord? extra).Should().BeFalse($"exactly {count} records were sent, but one more came: {extra}");
        return records;
    }
}
