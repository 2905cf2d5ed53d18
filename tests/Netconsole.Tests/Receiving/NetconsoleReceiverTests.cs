using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Tests.Support;
using Netconsole.Wire;

namespace Netconsole.Tests.Receiving;

// A receiver on a real loopback UDP socket. Waits are generous and only matter when a test fails.
public class NetconsoleReceiverTests
{
    private static readonly IPEndPoint Loopback4 = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task Delivers_a_record_with_the_fields_it_was_sent_with()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var sender = new TestSender(receiver.LocalEndPoint);
        sender.Send(new NetconsoleRecord(6, Encoding.UTF8.GetBytes("hello, receiver"))
        {
            Facility = 3,
            Sequence = 468,
            TimestampMicroseconds = 514729715,
            Dictionary = [new("SUBSYSTEM", "net"), new("DEVICE", "+net:lo")],
        });

        ReceivedRecord record = await TestWait.ReadAsync(receiver);

        record.Sender.Should().Be(sender.LocalEndPoint);
        record.IsExtended.Should().BeTrue();
        record.Facility.Should().Be(3);
        record.Level.Should().Be(6);
        record.Sequence.Should().Be(468);
        record.TimestampMicroseconds.Should().Be(514729715);
        record.TextString.Should().Be("hello, receiver");
        record.Dictionary.Should().Equal(new KeyValuePair<string, string>("SUBSYSTEM", "net"), new KeyValuePair<string, string>("DEVICE", "+net:lo"));
        record.PartCount.Should().Be(1);
        record.FragmentCount.Should().Be(1);
    }

    [Fact]
    public async Task Records_nobody_reads_stay_within_the_queues_memory_budget_and_the_oldest_are_dropped_and_counted()
    {
        const long Budget = 256 * 1024;
        await using var receiver = NetconsoleReceiver.Listen(Loopback4, new NetconsoleReceiverOptions { MaxQueuedBytes = Budget });
        using var flood = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        var lines = new StringBuilder();
        while (lines.Length < 60_000)
        {
            lines.Append("\n a=b"); // 256 entries kept per record: ~18 KiB held each
        }

        for (int i = 1; i <= 60; i++) // 3.6 MB: within the socket buffer, so the kernel drops none
        {
            flood.SendTo(Encoding.ASCII.GetBytes($"6,{i},{i},-;x{lines}"), receiver.LocalEndPoint);
        }

        await TestWait.UntilAsync(() => receiver.GetStatistics().DatagramsReceived == 60);
        NetconsoleReceiverStatistics statistics = receiver.GetStatistics();

        statistics.BytesQueued.Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(Budget);
        (statistics.RecordsQueued + statistics.RecordsDroppedUnread).Should().Be(statistics.RecordsReceived, "every record is queued or counted as dropped");
        statistics.RecordsDroppedUnread.Should().BeGreaterThan(0);
        int read = 0;
        while (receiver.TryRead(out _))
        {
            read++;
        }

        read.Should().Be(statistics.RecordsQueued);
        receiver.GetStatistics().BytesQueued.Should().Be(0, "what was read is no longer the queue's");
    }

    [Fact]
    public async Task Delivers_legacy_text_as_a_legacy_record()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var sender = new TestSender(receiver.LocalEndPoint, new NetconsoleTargetOptions { RemoteAddress = IPAddress.Loopback });
        sender.Send(NetconsoleRecord.FromString(5, "basic format"));

        ReceivedRecord record = await TestWait.ReadAsync(receiver);

        record.IsExtended.Should().BeFalse();
        record.TextString.Should().Be("basic format", "the parser drops the newline the basic format ends a message with");
    }

    [Fact]
    public async Task Reassembles_a_fragmented_5_KiB_record()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var sender = new TestSender(receiver.LocalEndPoint);
        string text = TestSender.Text(5 * 1024);

        int datagrams = sender.Send(TestSender.Record(1, text));

        ReceivedRecord record = await TestWait.ReadAsync(receiver);
        datagrams.Should().Be(6);
        record.TextString.Should().Be(text);
        record.FragmentCount.Should().Be(datagrams);
        record.PartCount.Should().Be(1);
    }

    [Fact]
    public async Task Joins_a_20_KiB_continued_group_once_its_timeout_passes()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var sender = new TestSender(receiver.LocalEndPoint);
        string text = TestSender.Text(20 * 1024);

        int datagrams = sender.Send(TestSender.Record(10, text), out int parts);

        ReceivedRecord record = await TestWait.ReadAsync(receiver);
        parts.Should().Be(3);
        record.TextString.Should().Be(text);
        record.Sequence.Should().Be(10);
        record.PartCount.Should().Be(parts);
        record.FragmentCount.Should().Be(datagrams);
        record.Continuation.Should().Be(RecordContinuation.First);
    }

    [SkippableFact]
    public async Task Reports_an_IPv4_sender_on_a_dual_stack_socket_with_its_IPv4_address()
    {
        Requires.That(Socket.OSSupportsIPv6, "needs IPv6");
        await using var receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Any, 0));
        using var sender = new TestSender(new IPEndPoint(IPAddress.Loopback, receiver.LocalEndPoint.Port));
        sender.Send(TestSender.Record(1, "over IPv4"));

        ReceivedRecord record = await TestWait.ReadAsync(receiver);

        record.Sender.Address.AddressFamily.Should().Be(AddressFamily.InterNetwork);
        record.Sender.Should().Be(sender.LocalEndPoint);
        receiver.GetSenderStatistics(sender.LocalEndPoint)!.RecordsReceived.Should().Be(1);
        var mapped = new IPEndPoint(sender.LocalEndPoint.Address.MapToIPv6(), sender.LocalEndPoint.Port);
        receiver.GetSenderStatistics(mapped)!.RecordsReceived.Should().Be(1, "a mapped address names the same sender");
    }

    [SkippableFact]
    public async Task Receives_from_an_IPv6_sender()
    {
        Requires.That(Socket.OSSupportsIPv6, "needs IPv6");
        await using var receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        using var sender = new TestSender(receiver.LocalEndPoint);
        sender.Send(TestSender.Record(1, "over IPv6"));

        ReceivedRecord record = await TestWait.ReadAsync(receiver);

        record.Sender.Should().Be(sender.LocalEndPoint);
        record.Sender.Address.Should().Be(IPAddress.IPv6Loopback);
        record.TextString.Should().Be("over IPv6");
    }

    [Fact]
    public async Task Keys_senders_by_address_and_port_by_default()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var first = new TestSender(receiver.LocalEndPoint);
        using var second = new TestSender(receiver.LocalEndPoint);
        first.Send(TestSender.Record(1, "one"));
        second.Send(TestSender.Record(5, "two"));

        (await TestWait.ReadAsync(receiver)).Sender.Should().Be(first.LocalEndPoint);
        (await TestWait.ReadAsync(receiver)).Sender.Should().Be(second.LocalEndPoint);
        receiver.GetAllSenderStatistics().Should().HaveCount(2);
        receiver.GetStatistics().Reassembler.RecordsLost.Should().Be(0);
    }

    [Fact]
    public async Task Keys_senders_by_address_only_like_netconsd_when_asked()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4, new NetconsoleReceiverOptions { SenderKey = SenderKey.Address });
        using var first = new TestSender(receiver.LocalEndPoint);
        using var second = new TestSender(receiver.LocalEndPoint);
        first.Send(TestSender.Record(1, "one"));
        second.Send(TestSender.Record(5, "two"));

        (await TestWait.ReadAsync(receiver)).Sender.Should().Be(new IPEndPoint(IPAddress.Loopback, 0));
        (await TestWait.ReadAsync(receiver)).Sender.Should().Be(new IPEndPoint(IPAddress.Loopback, 0));
        SenderStatistics stats = receiver.GetSenderStatistics(first.LocalEndPoint)!;
        stats.RecordsReceived.Should().Be(2);
        stats.RecordsLost.Should().Be(3, "one sequence stream: 1 then 5");
        receiver.GetAllSenderStatistics().Should().ContainSingle();
    }

    [Fact]
    public async Task Counts_the_records_lost_in_a_sequence_gap()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var sender = new TestSender(receiver.LocalEndPoint);
        foreach (ulong seq in new ulong[] { 1, 2, 5 })
        {
            sender.Send(TestSender.Record(seq, $"record {seq}"));
        }

        for (int i = 0; i < 3; i++)
        {
            await TestWait.ReadAsync(receiver);
        }

        SenderStatistics stats = receiver.GetSenderStatistics(sender.LocalEndPoint)!;
        stats.RecordsReceived.Should().Be(3);
        stats.RecordsLost.Should().Be(2);
    }

    [Fact]
    public async Task Counts_malformed_datagrams_and_keeps_receiving()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4);
        using var sender = new TestSender(receiver.LocalEndPoint);
        sender.SendRaw("6,abc,1,-;bad sequence number\n");
        sender.SendRaw("6,1,2,-,ncfrag=0/0;bad fragment\n");
        sender.Send(TestSender.Record(1, "still listening"));

        ReceivedRecord record = await TestWait.ReadAsync(receiver);

        record.TextString.Should().Be("still listening");
        NetconsoleReceiverStatistics stats = receiver.GetStatistics();
        stats.DatagramsReceived.Should().Be(3);
        stats.Reassembler.DatagramsMalformed.Should().Be(2);
        stats.RecordsReceived.Should().Be(1);
        stats.SocketErrors.Should().Be(0);
    }

    [SkippableFact]
    public async Task Counts_a_socket_error_and_keeps_receiving()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (ICMP errors reported on connected UDP sockets)");
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(Loopback4);
        var peerEndPoint = (IPEndPoint)peer.LocalEndPoint!;
        Socket socket = BoundSocket();
        socket.Connect(peerEndPoint);
        await using var receiver = new NetconsoleReceiver(socket);

        // The peer is gone: the ICMP port unreachable comes back as an error on the next receive.
        peer.Close();
        socket.Send("anyone there?"u8);
        await TestWait.UntilAsync(() => receiver.GetStatistics().SocketErrors == 1);

        using var again = new TestSender(receiver.LocalEndPoint, bindTo: peerEndPoint);
        again.Send(TestSender.Record(1, "after the error"));
        (await TestWait.ReadAsync(receiver)).TextString.Should().Be("after the error");
        receiver.GetStatistics().SocketErrors.Should().Be(1);
    }

    [Fact]
    public async Task Drops_the_oldest_unread_records_when_the_reader_is_too_slow()
    {
        await using var receiver = NetconsoleReceiver.Listen(Loopback4, new NetconsoleReceiverOptions { Capacity = 3 });
        using var sender = new TestSender(receiver.LocalEndPoint);
        for (ulong seq = 1; seq <= 5; seq++)
        {
            sender.Send(TestSender.Record(seq, $"record {seq}"));
        }

        await TestWait.UntilAsync(() => receiver.GetStatistics().RecordsReceived == 5);

        var read = new List<ulong>();
        while (receiver.TryRead(out ReceivedRecord? record))
        {
            read.Add(record.Sequence);
        }

        read.Should().Equal(3, 4, 5);
        NetconsoleReceiverStatistics stats = receiver.GetStatistics();
        stats.RecordsDroppedUnread.Should().Be(2);
        stats.RecordsQueued.Should().Be(0);
    }

    [Fact]
    public async Task Dispose_delivers_a_held_continued_group_and_completes_reading()
    {
        var options = new NetconsoleReceiverOptions { Reassembler = new RecordReassemblerOptions { Timeout = TimeSpan.FromHours(1) } };
        var receiver = NetconsoleReceiver.Listen(Loopback4, options);
        using var sender = new TestSender(receiver.LocalEndPoint);
        string text = TestSender.Text(20 * 1024);
        int datagrams = sender.Send(TestSender.Record(1, text), out int parts);
        await TestWait.UntilAsync(() => receiver.GetStatistics() is { Reassembler.GroupsHeld: 1 } s && s.DatagramsReceived == datagrams);
        receiver.TryRead(out _).Should().BeFalse("the group waits for a next part for an hour");

        await receiver.DisposeAsync();

        List<ReceivedRecord> records = await TestWait.ReadAllAsync(receiver);
        records.Should().ContainSingle();
        records[0].PartCount.Should().Be(parts);
        records[0].TextString.Should().Be(text);
    }

    [Fact]
    public async Task Dispose_gives_up_on_incomplete_records_and_counts_them()
    {
        var options = new NetconsoleReceiverOptions { Reassembler = new RecordReassemblerOptions { Timeout = TimeSpan.FromHours(1) } };
        var receiver = NetconsoleReceiver.Listen(Loopback4, options);
        using var sender = new TestSender(receiver.LocalEndPoint);
        sender.SendRaw("5,1,1000,-,ncfrag=0/20;first half");
        await TestWait.UntilAsync(() => receiver.GetStatistics().Reassembler.RecordsInFlight == 1);

        receiver.Dispose();

        (await TestWait.ReadAllAsync(receiver)).Should().BeEmpty();
        receiver.GetStatistics().Reassembler.RecordsIncomplete.Should().Be(1);
    }

    [Fact]
    public async Task Dispose_is_idempotent_and_never_throws()
    {
        var receiver = NetconsoleReceiver.Listen(Loopback4);

        receiver.Invoking(r => r.Dispose()).Should().NotThrow();
        receiver.Invoking(r => r.Dispose()).Should().NotThrow();
        await receiver.Invoking(r => r.DisposeAsync().AsTask()).Should().NotThrowAsync();

        (await TestWait.ReadAllAsync(receiver)).Should().BeEmpty();
        receiver.TryRead(out _).Should().BeFalse();
        await receiver.Invoking(r => r.ReadAsync().AsTask()).Should().ThrowAsync<System.Threading.Channels.ChannelClosedException>();
        receiver.GetStatistics().DatagramsReceived.Should().Be(0);
    }

    [Fact]
    public async Task Closes_a_handed_over_socket_by_default()
    {
        var socket = BoundSocket();
        var receiver = new NetconsoleReceiver(socket);
        receiver.LocalEndPoint.Should().Be(socket.LocalEndPoint);

        await receiver.DisposeAsync();

        socket.Invoking(s => s.Available).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task Leaves_a_handed_over_socket_open_and_working_when_asked()
    {
        using Socket socket = BoundSocket();
        var receiver = new NetconsoleReceiver(socket, new NetconsoleReceiverOptions { LeaveSocketOpen = true });
        using var sender = new TestSender((IPEndPoint)socket.LocalEndPoint!);
        sender.Send(TestSender.Record(1, "through the receiver"));
        (await TestWait.ReadAsync(receiver)).TextString.Should().Be("through the receiver");

        await receiver.DisposeAsync();

        sender.SendRaw("after the receiver");
        socket.ReceiveTimeout = (int)TestWait.Timeout.TotalMilliseconds;
        var buffer = new byte[2048];
        int length = socket.Receive(buffer);
        Encoding.ASCII.GetString(buffer, 0, length).Should().Be("after the receiver");
    }

    [Fact]
    public async Task Stops_when_its_socket_is_closed_by_its_owner()
    {
        Socket socket = BoundSocket();
        await using var receiver = new NetconsoleReceiver(socket, new NetconsoleReceiverOptions { LeaveSocketOpen = true });

        socket.Dispose();

        (await TestWait.ReadAllAsync(receiver)).Should().BeEmpty();
    }

    [Fact]
    public void Refuses_a_socket_that_is_not_a_bound_UDP_socket()
    {
        using var unbound = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(Loopback4);

        FluentActions.Invoking(() => new NetconsoleReceiver(unbound)).Should().Throw<ArgumentException>().WithMessage("*not bound*");
        FluentActions.Invoking(() => new NetconsoleReceiver(tcp)).Should().Throw<ArgumentException>().WithMessage("*UDP socket*");
        unbound.Invoking(s => s.Available).Should().NotThrow("a refused socket stays the caller's");
    }

    [SkippableFact]
    public void Enlarges_the_socket_receive_buffer_for_bursts()
    {
        Requires.That(OperatingSystem.IsLinux(), "needs Linux (net.core.rmem_max)");
        using Socket socket = BoundSocket();
        int before = socket.ReceiveBufferSize;
        int cap = int.Parse(File.ReadAllText("/proc/sys/net/core/rmem_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        using var receiver = new NetconsoleReceiver(socket, new NetconsoleReceiverOptions { LeaveSocketOpen = true });

        // Linux reports twice what was set; without CAP_NET_ADMIN, rmem_max caps it.
        socket.ReceiveBufferSize.Should().BeGreaterThanOrEqualTo(Math.Max(before, Math.Min(NetconsoleReceiverOptions.DefaultReceiveBufferSize, cap)));
    }

    [Fact]
    public void Options_reject_values_out_of_range()
    {
        var options = new NetconsoleReceiverOptions();

        options.Capacity.Should().Be(10_000);
        options.ReceiveBufferSize.Should().Be(4 * 1024 * 1024);
        options.SenderKey.Should().Be(SenderKey.AddressAndPort);
        options.LeaveSocketOpen.Should().BeFalse();
        options.Invoking(o => o.Capacity = 0).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.ReceiveBufferSize = -1).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.SenderKey = (SenderKey)7).Should().Throw<ArgumentOutOfRangeException>();
        options.Invoking(o => o.Reassembler = null!).Should().Throw<ArgumentNullException>();
    }

    private static Socket BoundSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(Loopback4);
        return socket;
    }
}

/// <summary>Sends records formatted by <see cref="RecordFormatter"/> from its own loopback UDP socket.</summary>
internal sealed class TestSender : IDisposable
{
    private readonly Socket _socket;
    private readonly RecordFormatter _formatter;
    private readonly IPEndPoint _receiver;

    public TestSender(IPEndPoint receiver, NetconsoleTargetOptions? options = null, IPEndPoint? bindTo = null)
    {
        _receiver = receiver;
        IPAddress loopback = receiver.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
        _socket = new Socket(receiver.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(bindTo ?? new IPEndPoint(loopback, 0));
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _formatter = new RecordFormatter((options ?? new NetconsoleTargetOptions { RemoteAddress = IPAddress.Loopback, Extended = true }).ToRecordFormat());
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>A user.notice record with timestamp 1000 + seq.</summary>
    public static NetconsoleRecord Record(ulong sequence, string text, int level = 5) =>
        NetconsoleRecord.FromString(level, text) with { Sequence = sequence, TimestampMicroseconds = 1000 + sequence };

    /// <summary>ASCII text of the given length that shows where a piece went missing.</summary>
    public static string Text(int length)
    {
        var text = new StringBuilder(length);
        for (int i = 0; text.Length < length; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"[{i:D5}]");
        }

        return text.ToString(0, length);
    }

    /// <summary>Sends the record's datagrams; returns how many.</summary>
    public int Send(in NetconsoleRecord record) => Send(record, out _);

    public int Send(in NetconsoleRecord record, out int sequenceNumbersUsed)
    {
        FormattedRecord formatted = _formatter.Format(record);
        foreach (ReadOnlySpan<byte> datagram in formatted)
        {
            _socket.SendTo(datagram, SocketFlags.None, _receiver);
        }

        sequenceNumbersUsed = formatted.SequenceNumbersUsed;
        return formatted.Count;
    }

    public void SendRaw(string datagram) => _socket.SendTo(Encoding.UTF8.GetBytes(datagram), SocketFlags.None, _receiver);

    public void Dispose() => _socket.Dispose();
}

/// <summary>Waits with a generous limit: they only time out when a test fails anyway.</summary>
internal static class TestWait
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static async Task<ReceivedRecord> ReadAsync(NetconsoleReceiver receiver)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            return await receiver.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No record within {Timeout.TotalSeconds} s; statistics: {Describe(receiver.GetStatistics())}");
        }
    }

    /// <summary>The first record that matches, or <see langword="null"/> when none came in time.</summary>
    public static async Task<ReceivedRecord?> WaitForAsync(NetconsoleReceiver receiver, Func<ReceivedRecord, bool> predicate, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (ReceivedRecord record in receiver.ReadAllAsync(cts.Token))
            {
                if (predicate(record))
                {
                    return record;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    public static async Task<List<ReceivedRecord>> ReadAllAsync(NetconsoleReceiver receiver)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var records = new List<ReceivedRecord>();
        await foreach (ReceivedRecord record in receiver.ReadAllAsync(cts.Token))
        {
            records.Add(record);
        }

        return records;
    }

    public static async Task UntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Timeout)
            {
                throw new TimeoutException($"The condition did not hold within {Timeout.TotalSeconds} s.");
            }

            await Task.Delay(10);
        }
    }

    private static string Describe(NetconsoleReceiverStatistics s) =>
        $"{s.DatagramsReceived} datagrams, {s.RecordsReceived} records, {s.Reassembler.DatagramsMalformed} malformed, {s.Reassembler.RecordsInFlight} in flight, {s.Reassembler.GroupsHeld} groups held";
}
