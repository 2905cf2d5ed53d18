using System.Net;
using System.Net.Sockets;
using System.Text;
using Netconsole.Receiving;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Receiving;

// The receive path made faster for issue 16 (datagrams taken in batches, fragments merged a range
// at a time, dictionary lines decoded without copies): the same records, the same counts.
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

    private ReassemblyResult Add(RecordReassembler reassembler, string datagram) =>
        reassembler.Add(Sender, Encoding.Latin1.GetBytes(datagram), 0, _output);
}
