using System.Globalization;
using System.Net;
using System.Text;
using CsCheck;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Receiving;

// Format -> datagrams -> reassemble gives back the record that was sent.
public class RoundTripTests
{
    private static readonly IPEndPoint V4 = new(IPAddress.Parse("192.0.2.1"), 6665);
    private static readonly IPEndPoint V6 = new(IPAddress.Parse("2001:db8::1"), 6665);

    private const string Alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    // Printable ASCII without '=' and space, behind a prefix no userdata or sysdata key can have.
    private static readonly Gen<string> DictionaryKey =
        Gen.Char[string.Concat(Enumerable.Range(0x21, 0x7e - 0x20).Select(c => (char)c).Where(c => c != '='))].Array[0, 20]
            .Select(chars => "K." + new string(chars));

    // Any Unicode character (controls, BMP, astral), never a lone surrogate.
    private static readonly Gen<string> AnyCharacter =
        Gen.OneOf(
            Gen.Char['\0', '\ud7ff'].Select(c => c.ToString()),
            Gen.Char['\ue000', '\uffff'].Select(c => c.ToString()),
            Gen.Int[0x10000, 0x10FFFF].Select(char.ConvertFromUtf32));

    private static readonly Gen<string> AnyValue = AnyCharacter.Array[1, 40].Select(string.Concat);

    // At most 48 UTF-8 bytes, so the formatter's 64-byte cut never applies.
    private static readonly Gen<string> TaskName = AnyCharacter.Array[0, 12].Select(string.Concat);

    private static readonly Gen<KeyValuePair<string, string>> DictionaryEntry =
        Gen.Select(DictionaryKey, AnyValue).Select((k, v) => new KeyValuePair<string, string>(k, v));

    private static readonly Gen<KeyValuePair<string, string>> UserdataEntry =
        Gen.Select(Gen.Char[Alphanumeric].Array[1, 53], Gen.Char[' ', '~'].Array[1, 199])
            .Select((k, v) => new KeyValuePair<string, string>(new string(k), new string(v)));

    private static readonly Gen<string> ReleaseString =
        Gen.Select(Gen.Int[0, 9], Gen.Char["0123456789abcdefgx-+_~"].Array[0, 16])
            .Select((major, rest) => major.ToString(CultureInfo.InvariantCulture) + "." + new string(rest));

    private sealed record Setup(
        bool PrependRelease,
        string Release,
        SysdataFields Sysdata,
        KeyValuePair<string, string>[] Userdata,
        IPEndPoint Sender)
    {
        public NetconsoleTargetOptions ToOptions()
        {
            var options = new NetconsoleTargetOptions
            {
                RemoteAddress = IPAddress.Parse("192.0.2.2"),
                Extended = true,
                PrependRelease = PrependRelease,
                Release = Release,
                Sysdata = Sysdata,
            };
            foreach (var (key, value) in Userdata)
            {
                options.Userdata[key] = value;
            }

            return options;
        }
    }

    private sealed record Message(int Level, int Facility, ulong Timestamp, byte[] Text, KeyValuePair<string, string>[] Dictionary, int Cpu, string TaskName)
    {
        public NetconsoleRecord ToRecord(ulong sequence) => new(Level, Text)
        {
            Facility = Facility,
            Sequence = sequence,
            TimestampMicroseconds = Timestamp,
            Dictionary = Dictionary,
            Cpu = Cpu,
            TaskName = TaskName,
        };

        public override string ToString() => $"Message {{ Level = {Level}, Facility = {Facility}, Text = {Text.Length} bytes, Dictionary = {Dictionary.Length} entries }}";
    }

    private static readonly Gen<Setup> SetupGen =
        Gen.Select(Gen.Bool, ReleaseString, Gen.Int[0, 15], UserdataEntry.Array[0, 20], Gen.Bool)
            .Select((prepend, release, sysdata, userdata, v6) => new Setup(prepend, release, (SysdataFields)sysdata, userdata, v6 ? V6 : V4));

    private static Gen<Message> MessageGen(int maxText) =>
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, 23], Gen.ULong, Gen.Byte.Array[0, maxText], DictionaryEntry.Array[0, 8], Gen.Int[0, 4096], TaskName)
            .Select((level, facility, ts, text, dictionary, cpu, task) => new Message(level, facility, ts, text, dictionary, cpu, task));

    private static readonly Gen<ulong> FirstSequence = Gen.ULong.Select(s => s >> 8);

    [Fact]
    public void Record_up_to_3000_bytes_comes_back_with_the_same_fields_text_and_dictionary()
    {
        Gen.Select(SetupGen, MessageGen(3000), FirstSequence, Gen.Int).Sample((setup, message, seq, shuffleSeed) =>
        {
            var datagrams = Format(setup, message, seq, new RecordFormatter(setup.ToOptions().ToRecordFormat()), out int parts);
            Shuffle(datagrams, new Random(shuffleSeed));
            var received = Reassemble(setup.Sender, datagrams, out var stats);

            received.Should().ContainSingle();
            AssertSame(received[0], setup, message, seq, parts, firstMessageId: 1);
            stats.DatagramsMalformed.Should().Be(0);
            stats.RecordsLost.Should().Be(0);
            stats.DuplicatesIgnored.Should().Be(0);
        }, iter: 200);
    }

    [Fact]
    public void Record_up_to_64_KiB_comes_back_as_one_continued_group_with_the_whole_text()
    {
        Gen.Select(SetupGen, MessageGen(64 * 1024), FirstSequence).Sample((setup, message, seq) =>
        {
            var datagrams = Format(setup, message, seq, new RecordFormatter(setup.ToOptions().ToRecordFormat()), out int parts);
            var received = Reassemble(setup.Sender, datagrams, out var stats);

            received.Should().ContainSingle();
            AssertSame(received[0], setup, message, seq, parts, firstMessageId: 1);
            stats.RecordsReceived.Should().Be(1);
            stats.GroupsClosedEarly.Should().Be(0);
        }, iter: 25);
    }

    [Fact]
    public void Record_of_exactly_64_KiB_of_every_byte_value_comes_back_whole()
    {
        var text = Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 7)).ToArray();
        var setup = new Setup(true, "6.4.0", SysdataFields.All, [new("host", "web-1")], V6);
        var message = new Message(3, 1, 99, text, [new("K.SUBSYSTEM", "net")], 2, "main");

        var datagrams = Format(setup, message, 1000, new RecordFormatter(setup.ToOptions().ToRecordFormat()), out int parts);
        var received = Reassemble(setup.Sender, datagrams, out _);

        parts.Should().BeGreaterThan(1);
        received.Should().ContainSingle();
        AssertSame(received[0], setup, message, 1000, parts, firstMessageId: 1);
    }

    [Fact]
    public void Streams_of_records_from_an_ipv4_and_an_ipv6_sender_interleaved_come_back_in_order_per_sender()
    {
        var streamGen = Gen.Select(SetupGen, MessageGen(12000).Array[1, 5]);
        Gen.Select(streamGen, streamGen, FirstSequence, FirstSequence).Sample((a, b, seqA, seqB) =>
        {
            var setupA = a.Item1 with { Sender = V4 };
            var setupB = b.Item1 with { Sender = V6 };
            var streamA = Stream(setupA, a.Item2, seqA);
            var streamB = Stream(setupB, b.Item2, seqB);

            var reassembler = new RecordReassembler();
            var output = new List<ReceivedRecord>();
            int max = Math.Max(streamA.Datagrams.Count, streamB.Datagrams.Count);
            for (int i = 0; i < max; i++)
            {
                if (i < streamA.Datagrams.Count)
                {
                    reassembler.Add(V4, streamA.Datagrams[i], 0, output).Should().Be(ReassemblyResult.Accepted);
                }

                if (i < streamB.Datagrams.Count)
                {
                    reassembler.Add(V6, streamB.Datagrams[i], 0, output).Should().Be(ReassemblyResult.Accepted);
                }
            }

            reassembler.Flush(output);
            Check(output.Where(r => r.Sender.Equals(V4)).ToList(), setupA, a.Item2, streamA);
            Check(output.Where(r => r.Sender.Equals(V6)).ToList(), setupB, b.Item2, streamB);
            reassembler.GetStatistics().RecordsLost.Should().Be(0);
        }, iter: 40);

        static void Check(List<ReceivedRecord> received, Setup setup, Message[] messages, (List<byte[]> Datagrams, List<(ulong Seq, int Parts, uint MessageId)> Records) stream)
        {
            received.Should().HaveCount(messages.Length);
            for (int i = 0; i < messages.Length; i++)
            {
                var (seq, parts, messageId) = stream.Records[i];
                AssertSame(received[i], setup, messages[i], seq, parts, messageId);
            }
        }
    }

    private static (List<byte[]> Datagrams, List<(ulong Seq, int Parts, uint MessageId)> Records) Stream(Setup setup, Message[] messages, ulong firstSeq)
    {
        var formatter = new RecordFormatter(setup.ToOptions().ToRecordFormat());
        var datagrams = new List<byte[]>();
        var records = new List<(ulong, int, uint)>();
        ulong seq = firstSeq;
        foreach (var message in messages)
        {
            uint messageId = formatter.LastMessageId + 1;
            datagrams.AddRange(Format(setup, message, seq, formatter, out int parts));
            records.Add((seq, parts, messageId));
            seq += (ulong)parts;
        }

        return (datagrams, records);
    }

    private static List<byte[]> Format(Setup setup, Message message, ulong seq, RecordFormatter formatter, out int parts)
    {
        var list = new List<byte[]>();
        var formatted = formatter.Format(message.ToRecord(seq));
        parts = formatted.SequenceNumbersUsed;
        foreach (ReadOnlySpan<byte> datagram in formatted)
        {
            datagram.Length.Should().BeLessThanOrEqualTo(RecordFormatter.MaxDatagramPayload);
            list.Add(datagram.ToArray());
        }

        return list;
    }

    // Fragments of one record may arrive in any order; records keep their order.
    private static void Shuffle(List<byte[]> datagrams, Random random)
    {
        int start = 0;
        while (start < datagrams.Count)
        {
            ulong seq = DatagramParser.Parse(datagrams[start]).Sequence;
            int end = start;
            while (end < datagrams.Count && DatagramParser.Parse(datagrams[end]).Sequence == seq)
            {
                end++;
            }

            var span = datagrams.GetRange(start, end - start).OrderBy(_ => random.Next()).ToList();
            for (int i = 0; i < span.Count; i++)
            {
                datagrams[start + i] = span[i];
            }

            start = end;
        }
    }

    private static List<ReceivedRecord> Reassemble(IPEndPoint sender, List<byte[]> datagrams, out ReassemblerStatistics stats)
    {
        var reassembler = new RecordReassembler();
        var output = new List<ReceivedRecord>();
        foreach (byte[] datagram in datagrams)
        {
            reassembler.Add(sender, datagram, 0, output).Should().Be(ReassemblyResult.Accepted);
        }

        reassembler.Flush(output);
        stats = reassembler.GetStatistics();
        return output;
    }

    private static void AssertSame(ReceivedRecord received, Setup setup, Message message, ulong seq, int parts, uint firstMessageId)
    {
        received.Sender.Should().Be(setup.Sender);
        received.IsExtended.Should().BeTrue();
        received.Text.Span.SequenceEqual(message.Text).Should().BeTrue("the text must come back byte for byte ({0} bytes sent, {1} received)", message.Text.Length, received.Text.Length);
        received.Level.Should().Be(message.Level);
        received.Facility.Should().Be(message.Facility);
        received.Sequence.Should().Be(seq);
        received.TimestampMicroseconds.Should().Be(message.Timestamp);
        received.Release.Should().Be(setup.PrependRelease ? setup.Release : null);
        received.PartCount.Should().Be(parts);
        received.Continuation.Should().Be(parts > 1 ? RecordContinuation.First : RecordContinuation.None);
        AssertDictionary(received.Dictionary, setup, message, parts, firstMessageId);
    }

    // Each part carries a run of the record's dictionary lines, then the userdata and sysdata
    // lines; the parts' lines follow each other. Record keys start with "K." and so never look
    // like userdata or sysdata keys.
    private static void AssertDictionary(IReadOnlyList<KeyValuePair<string, string>> received, Setup setup, Message message, int parts, uint firstMessageId)
    {
        var expectedUserdata = setup.ToOptions().Userdata.Select(p => new KeyValuePair<string, string>(p.Key, Unescaped(p.Value))).ToList();
        var sent = message.Dictionary;
        int index = 0;
        int sentIndex = 0;
        for (int part = 0; part < parts; part++)
        {
            while (index < received.Count && received[index].Key.StartsWith("K.", StringComparison.Ordinal))
            {
                sentIndex.Should().BeLessThan(sent.Length);
                received[index].Should().Be(sent[sentIndex]);
                index++;
                sentIndex++;
            }

            var trailer = expectedUserdata.Concat(Sysdata(setup, message, unchecked(firstMessageId + (uint)part))).ToList();
            received.Skip(index).Take(trailer.Count).Select(p => (p.Key, p.Value)).Should()
                .Equal(trailer.Select(p => (p.Key, p.Value)), "part {0} ends with userdata and sysdata", part);
            index += trailer.Count;
        }

        index.Should().Be(received.Count);
        sentIndex.Should().Be(sent.Length);
    }

    private static IEnumerable<KeyValuePair<string, string>> Sysdata(Setup setup, Message message, uint messageId)
    {
        if ((setup.Sysdata & SysdataFields.Cpu) != 0)
        {
            yield return new("cpu", message.Cpu.ToString(CultureInfo.InvariantCulture));
        }

        if ((setup.Sysdata & SysdataFields.TaskName) != 0)
        {
            yield return new("taskname", message.TaskName);
        }

        if ((setup.Sysdata & SysdataFields.Release) != 0)
        {
            yield return new("release", setup.Release);
        }

        if ((setup.Sysdata & SysdataFields.MessageId) != 0)
        {
            yield return new("msgid", messageId.ToString(CultureInfo.InvariantCulture));
        }
    }

    // The kernel sends userdata unescaped, so a value holding "\xNN" reads back as that byte.
    private static string Unescaped(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        int length = Escaping.Unescape(bytes, bytes);
        return Encoding.UTF8.GetString(bytes, 0, length);
    }
}
