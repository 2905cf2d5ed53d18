using System.Net;
using System.Net.Sockets;
using System.Text;
using Netconsole.Receiving;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Receiving;

// The receive path made faster for issue 16 (datagrams taken in batches, fragments merged a range
// at a time, dictionary lines decoded without copies, records queued a batch at a time): the same
// records, the same counts.
public class ReceivePathTests
{
    private static readonly IPEndPoint Sender = new(IPAddress.Parse("192.0.2.1"), 6665);

    private readonly List<ReceivedRecord> _output = [];

    [SkippableFact]
    public async Task Datagrams_waiting_when_the_receiver_starts_are_taken_in_batches_with_their_senders_and_whole()
    {
        Requires.That(OperatingSystem.IsLinux() && Socket.OSSupportsIPv6, "needs Linux (recvmmsg) and IPv6");
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true, ReceiveBufferSize = 1024 * 1024 };
        socket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        using var overIPv4 = new TestSender(new IPEndPoint(IPAddress.Loopback, port));
        using var overIPv6 = new TestSender(new IPEndPoint(IPAddress.IPv6Loopback, port));
        string large = TestSender.Text(60_000);

        // All queued before the receiver exists: its first system calls find more than a batch (32) waiting.
        for (ulong seq = 1; seq <= 40; seq++)
        {
            overIPv4.Send(TestSender.Record(seq, $"IPv4 {seq}"));
            overIPv6.Send(TestSender.Record(seq, $"IPv6 {seq}"));
        }

        overIPv4.SendRaw(large + "\n"); // basic format: one datagram of 60,001 bytes
        await using var receiver = new NetconsoleReceiver(socket);
        var records = new List<ReceivedRecord>();
        while (records.Count < 81)
        {
            records.Add(await TestWait.ReadAsync(receiver));
        }

        records.Where(r => r.Sender.Equals(overIPv4.LocalEndPoint) && r.IsExtended).Select(r => r.TextString)
            .Should().Equal(Enumerable.Range(1, 40).Select(i => $"IPv4 {i}"));
        records.Where(r => r.Sender.Equals(overIPv6.LocalEndPoint)).Select(r => r.TextString)
            .Should().Equal(Enumerable.Range(1, 40).Select(i => $"IPv6 {i}"));
        records.Single(r => !r.IsExtended).TextString.Should().Be(large, "a batch never cuts a datagram short");
        receiver.GetStatistics().DatagramsReceived.Should().Be(81);
    }

    [Fact]
    public void A_copy_of_a_fragment_with_other_bytes_is_malformed_and_an_exact_copy_a_duplicate()
    {
        var reassembler = new RecordReassembler();
        Add(reassembler, "6,7,8,-,ncfrag=0/8;abcd").Should().Be(ReassemblyResult.Accepted);

        Add(reassembler, "6,7,8,-,ncfrag=0/8;abXd").Should().Be(ReassemblyResult.Malformed);
        Add(reassembler, "6,7,8,-,ncfrag=0/8;abcd").Should().Be(ReassemblyResult.Duplicate);
        Add(reassembler, "6,7,8,-,ncfrag=4/8;efg\n").Should().Be(ReassemblyResult.Accepted);

        _output.Should().ContainSingle().Which.TextString.Should().Be("abcdefg");
        reassembler.GetStatistics().DatagramsMalformed.Should().Be(1);
        reassembler.GetStatistics().DuplicatesIgnored.Should().Be(1);
    }

    [Fact]
    public void Long_fragments_at_offsets_across_bitmap_words_are_merged_and_checked_byte_by_byte_where_they_overlap()
    {
        string data = string.Concat(Enumerable.Range(0, 300).Select(i => (char)('a' + (i % 26)))) + "\n";
        var reassembler = new RecordReassembler();
        string Fragment(int offset, int length) => $"6,7,8,-,ncfrag={offset}/{data.Length};{data.Substring(offset, length)}";

        Add(reassembler, Fragment(100, 130)).Should().Be(ReassemblyResult.Accepted);
        Add(reassembler, Fragment(63, 70)).Should().Be(ReassemblyResult.Accepted, "37 new bytes, 33 that agree");
        Add(reassembler, Fragment(64, 150)).Should().Be(ReassemblyResult.Duplicate, "every byte already there");
        Add(reassembler, $"6,7,8,-,ncfrag=229/{data.Length};XY").Should().Be(ReassemblyResult.Malformed, "byte 229 had come as 'v': a fragment partly new is checked byte by byte");
        Add(reassembler, Fragment(230, data.Length - 230)).Should().Be(ReassemblyResult.Accepted);
        _output.Should().BeEmpty();
        Add(reassembler, Fragment(0, 63)).Should().Be(ReassemblyResult.Accepted);

        _output.Should().ContainSingle().Which.TextString.Should().Be(data[..^1]);
        _output[0].FragmentCount.Should().Be(4);
    }

    [Fact]
    public void Dictionary_lines_with_and_without_escapes_and_longer_than_256_bytes_decode_alike()
    {
        string longValue = new('v', 300);
        var reassembler = new RecordReassembler();
        Add(reassembler, $"6,7,8,-;text\n plain=value\n esc\\x3dkey=a\\x0ab\n long={longValue}\n long\\x20escaped={longValue}\\x21\n").Should().Be(ReassemblyResult.Accepted);

        _output.Should().ContainSingle().Which.Dictionary.Should().Equal(
            new KeyValuePair<string, string>("plain", "value"),
            new KeyValuePair<string, string>("esc=key", "a\nb"),
            new KeyValuePair<string, string>("long", longValue),
            new KeyValuePair<string, string>("long escaped", longValue + "!"));
    }

    [Fact]
    public void The_queue_takes_a_batch_in_order_and_drops_the_oldest_beyond_its_records_or_bytes()
    {
        long cost = Record(1).Cost;
        var queue = new RecordQueue(capacity: 4, maxBytes: (3 * cost) + 1);

        queue.Add([Record(1), Record(2)]).Should().Be(2);
        queue.Add([Record(3), Record(4), Record(5)]).Should().Be(3);

        queue.Count.Should().Be(3, "three fit in the bytes");
        queue.Bytes.Should().Be(3 * cost);
        queue.Dropped.Should().Be(2);
        Drain(queue).Should().Equal(3UL, 4UL, 5UL);
        queue.Bytes.Should().Be(0);

        var byCount = new RecordQueue(capacity: 2, maxBytes: long.MaxValue);
        byCount.Add([Record(1), Record(2), Record(3)]);
        Drain(byCount).Should().Equal(2UL, 3UL);
        byCount.Dropped.Should().Be(1);
    }

    [Fact]
    public async Task A_reader_waiting_on_the_queue_is_woken_by_a_batch_and_by_its_completion()
    {
        var queue = new RecordQueue(capacity: 10, maxBytes: long.MaxValue);
        ValueTask<bool> waiting = queue.WaitToReadAsync(CancellationToken.None);
        Task<ReceivedRecord> reading = queue.ReadAsync(CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse();

        queue.Add([Record(7)]);

        (await waiting).Should().BeTrue();
        (await reading).Sequence.Should().Be(7);
        ValueTask<bool> next = queue.WaitToReadAsync(CancellationToken.None);
        queue.Complete(null);
        (await next).Should().BeFalse("completed and empty");
        queue.Add([Record(8)]).Should().Be(0, "nothing is queued after completion");
        await queue.Invoking(q => q.ReadAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<System.Threading.Channels.ChannelClosedException>();
    }

    // The race that hung a CI run: a record woke a waiter, another reader took it before the
    // waiter looked, and the waiter went back to waiting for a record that never came.
    [Fact]
    public async Task A_waiter_woken_by_a_record_that_another_reader_took_first_still_returns_true()
    {
        for (int i = 0; i < 200; i++)
        {
            var queue = new RecordQueue(capacity: 10, maxBytes: long.MaxValue);
            Task<bool> waiting = queue.WaitToReadAsync(CancellationToken.None).AsTask();
            queue.Add([Record(1)]);
            queue.TryRead(out _).Should().BeTrue("the other reader takes the record (the waiter's continuation runs elsewhere)");

            (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("a record came while it waited (iteration {0})", i);
            queue.TryRead(out _).Should().BeFalse("the other reader had it");
        }
    }

    [Fact]
    public async Task A_queue_completed_with_a_failure_hands_out_what_waits_then_the_failure()
    {
        var queue = new RecordQueue(capacity: 10, maxBytes: long.MaxValue);
        var failure = new InvalidOperationException("receive loop failed");
        queue.Add([Record(1)]);
        queue.Complete(failure);

        (await queue.WaitToReadAsync(CancellationToken.None)).Should().BeTrue();
        (await queue.ReadAsync(CancellationToken.None)).Sequence.Should().Be(1);
        await queue.Invoking(q => q.WaitToReadAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<InvalidOperationException>().WithMessage("receive loop failed");
        (await queue.Invoking(q => q.ReadAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<System.Threading.Channels.ChannelClosedException>())
            .WithInnerException<InvalidOperationException>();
    }

    [Fact]
    public async Task Waiting_on_the_queue_stops_when_canceled()
    {
        var queue = new RecordQueue(capacity: 10, maxBytes: long.MaxValue);
        using var cancel = new CancellationTokenSource();
        Task<bool> waiting = queue.WaitToReadAsync(cancel.Token).AsTask();

        cancel.Cancel();

        Func<Task> wait = () => waiting;
        await wait.Should().ThrowAsync<OperationCanceledException>();
        await queue.Invoking(q => q.ReadAsync(cancel.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
    }

    private static ReceivedRecord Record(ulong sequence) =>
        new(Sender, true, null, 6, sequence, 0, RecordContinuation.None, Encoding.ASCII.GetBytes("queued"), [], 1, 1, 0);

    private static List<ulong> Drain(RecordQueue queue)
    {
        var sequences = new List<ulong>();
        while (queue.TryRead(out ReceivedRecord? record))
        {
            sequences.Add(record.Sequence);
        }

        return sequences;
    }

    private ReassemblyResult Add(RecordReassembler reassembler, string datagram) =>
        reassembler.Add(Sender, Encoding.Latin1.GetBytes(datagram), 0, _output);
}
