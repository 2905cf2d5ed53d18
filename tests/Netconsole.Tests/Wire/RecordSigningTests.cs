using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

/// <summary>
/// A signed extended record carries one more dictionary line, its last: <c> ncsig=v1:KEYID:MAC</c>,
/// MAC being the HMAC-SHA256 (base64url, 43 characters) of every byte of the record before it up
/// to and including <c>ncsig=v1:KEYID:</c>, the header taken without <c>ncfrag</c>. The expected
/// MACs here are computed from the expected bytes with .NET's HMACSHA256, independently of the formatter.
/// </summary>
public class RecordSigningTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private static readonly RecordSigningKey Key = new("k1", Secret);

    private static RecordFormatter Formatter(RecordSigningKey? key = null, bool prependRelease = false, SysdataFields sysdata = SysdataFields.None) =>
        new(new RecordFormat { Extended = true, Facility = 0, SigningKey = key ?? Key, PrependRelease = prependRelease, Release = "6.4.0", Sysdata = sysdata });

    private static List<byte[]> Datagrams(RecordFormatter formatter, NetconsoleRecord record)
    {
        var list = new List<byte[]>();
        foreach (ReadOnlySpan<byte> d in formatter.Format(record))
        {
            list.Add(d.ToArray());
        }

        return list;
    }

    // The run id a formatter put in its lines (random per formatter): 11 base64url characters.
    private static string Run(string datagram) =>
        System.Text.RegularExpressions.Regex.Match(datagram, " ncsig=v1:k1:(?<run>[A-Za-z0-9_-]{11}):").Groups["run"].Value;

    private static string Mac(string signed)
    {
        byte[] mac = HMACSHA256.HashData(Secret, Encoding.UTF8.GetBytes(signed));
        return Base64Url.EncodeToString(mac);
    }

    [Fact]
    public void A_signed_record_ends_with_the_signature_line_over_every_byte_before_its_mac()
    {
        var record = NetconsoleRecord.FromString(6, "disk OK") with { Sequence = 42, TimestampMicroseconds = 1_000_000, Dictionary = [new("SUBSYSTEM", "block")] };

        string datagram = Encoding.UTF8.GetString(Datagrams(Formatter(), record).Single());

        string covered = $"6,42,1000000,-;disk OK\n SUBSYSTEM=block\n ncsig=v1:k1:{Run(datagram)}:";
        Run(datagram).Should().HaveLength(11);
        datagram.Should().Be(covered + Mac(covered) + "\n");
        Mac(covered).Should().HaveLength(43);
    }

    [Fact]
    public void The_release_prefix_and_sysdata_are_covered_and_the_signature_line_comes_after_them()
    {
        var record = NetconsoleRecord.FromString(3, "x") with { Sequence = 1, TimestampMicroseconds = 5 };

        string datagram = Encoding.UTF8.GetString(Datagrams(Formatter(prependRelease: true, sysdata: SysdataFields.MessageId), record).Single());

        string covered = $"6.4.0,3,1,5,-;x\n msgid=1\n ncsig=v1:k1:{Run(datagram)}:";
        datagram.Should().Be(covered + Mac(covered) + "\n");
    }

    [Fact]
    public void A_fragmented_record_is_signed_once_over_the_record_before_it_is_cut()
    {
        string text = new('a', 2500);
        var record = NetconsoleRecord.FromString(6, text) with { Sequence = 7, TimestampMicroseconds = 9 };

        List<byte[]> datagrams = Datagrams(Formatter(), record);
        var reassembler = new RecordReassembler();
        var records = new List<ReceivedRecord>();
        foreach (byte[] datagram in datagrams)
        {
            reassembler.Add(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 6665), datagram, 0, records);
        }

        datagrams.Should().HaveCountGreaterThan(1);
        datagrams.Select(Encoding.UTF8.GetString).Should().AllSatisfy(d => d.Should().StartWith("6,7,9,-,ncfrag="));
        string run = Run(Encoding.UTF8.GetString(datagrams[^1]));
        string covered = $"6,7,9,-;{text}\n ncsig=v1:k1:{run}:";
        KeyValuePair<string, string> line = records.Single().Dictionary.Should().ContainSingle().Subject;
        line.Should().Be(new KeyValuePair<string, string>("ncsig", $"v1:k1:{run}:" + Mac(covered)));
    }

    [Fact]
    public void Each_part_of_a_continued_group_is_signed_on_its_own()
    {
        var record = NetconsoleRecord.FromString(6, new string('b', 10_000)) with { Sequence = 100, TimestampMicroseconds = 1 };

        List<(string Header, string Data)> parts = Records(Datagrams(Formatter(), record));

        parts.Select(p => p.Header).Should().Equal("6,100,1,c", "6,101,1,+");
        foreach ((string header, string data) in parts)
        {
            int line = data.LastIndexOf("\n ncsig=v1:k1:", StringComparison.Ordinal);
            int macStart = line + 14 + 12; // after "RUN:"
            string covered = $"{header};{data[..macStart]}";
            data[macStart..].Should().Be(Mac(covered) + "\n", "part {0} carries the MAC of its own bytes", header);
        }
    }

    // The records the datagrams make: their header (without ncfrag) and their data, fragments put back by offset.
    private static List<(string Header, string Data)> Records(List<byte[]> datagrams)
    {
        var records = new List<(string Header, char[] Data)>();
        foreach (string datagram in datagrams.Select(Encoding.UTF8.GetString))
        {
            int semicolon = datagram.IndexOf(';', StringComparison.Ordinal);
            string header = datagram[..semicolon];
            string payload = datagram[(semicolon + 1)..];
            int fragment = header.IndexOf(",ncfrag=", StringComparison.Ordinal);
            if (fragment < 0)
            {
                records.Add((header, payload.ToCharArray()));
                continue;
            }

            string[] place = header[(fragment + 8)..].Split('/');
            (int offset, int total) = (int.Parse(place[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(place[1], System.Globalization.CultureInfo.InvariantCulture));
            header = header[..fragment];
            if (records.Count == 0 || records[^1].Header != header)
            {
                records.Add((header, new char[total]));
            }

            payload.CopyTo(0, records[^1].Data, offset, payload.Length);
        }

        return records.ConvertAll(r => (r.Header, new string(r.Data)));
    }

    [Fact]
    public void A_signed_record_stays_within_netconsds_record_limit()
    {
        var record = NetconsoleRecord.FromString(6, new string('c', RecordFormatter.MaxRecordData)) with { Sequence = 1, TimestampMicroseconds = 1 };
        var reassembler = new RecordReassembler();
        var parts = new List<ReceivedRecord>();
        var sender = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 6665);
        FormattedRecord formatted = Formatter().Format(record);
        foreach (ReadOnlySpan<byte> datagram in formatted)
        {
            datagram.Length.Should().BeLessThanOrEqualTo(RecordFormatter.MaxDatagramPayload);
            reassembler.Add(sender, datagram, 0, parts);
        }

        reassembler.GetStatistics().DatagramsMalformed.Should().Be(0);
        formatted.SequenceNumbersUsed.Should().Be(2, "8191 bytes of text plus a signature line do not fit one record");
    }

    [Fact]
    public void Signing_allocates_nothing_once_the_buffers_have_grown()
    {
        RecordFormatter formatter = Formatter();
        var record = NetconsoleRecord.FromString(6, new string('d', 3000)) with { Sequence = 1, TimestampMicroseconds = 1, Dictionary = [new("KEY", "value")] };
        formatter.Format(record);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            formatter.Format(record);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void A_formatter_keeps_its_run_id_and_another_formatter_draws_its_own()
    {
        RecordFormatter one = Formatter();
        RecordFormatter other = Formatter();
        var record = NetconsoleRecord.FromString(6, "x") with { Sequence = 1, TimestampMicroseconds = 1 };

        string first = Run(Encoding.UTF8.GetString(Datagrams(one, record).Single()));
        string second = Run(Encoding.UTF8.GetString(Datagrams(one, record with { Sequence = 2 }).Single()));
        string another = Run(Encoding.UTF8.GetString(Datagrams(other, record).Single()));

        second.Should().Be(first, "one run: a receiver follows its sequence numbers");
        another.Should().NotBe(first, "a restarted sender is a new run, not a replay of the old one");
    }

    [Fact]
    public void Signing_needs_the_extended_format()
    {
        Action basic = () => _ = new RecordFormatter(new RecordFormat { SigningKey = Key });
        Action target = () => new NetconsoleTargetOptions { RemoteAddress = IPAddress.Parse("192.0.2.2"), SigningKey = Key }.Validate();

        basic.Should().Throw<ArgumentException>().WithMessage("*needs the extended format*");
        target.Should().Throw<NetconsoleConfigurationException>().WithMessage("*signing needs the extended format*");
    }

    [Theory]
    [InlineData("", "1 to 32 characters")]
    [InlineData("has space", "only letters, digits")]
    [InlineData("k:1", "only letters, digits")]
    [InlineData("a23456789012345678901234567890123", "1 to 32 characters")]
    public void A_key_id_goes_into_a_dictionary_line_so_only_plain_characters_are_taken(string keyId, string rule)
    {
        Action create = () => _ = new RecordSigningKey(keyId, Secret);

        create.Should().Throw<ArgumentException>().WithMessage($"*{rule}*");
    }

    [Fact]
    public void A_secret_shorter_than_32_bytes_is_refused_and_no_secret_is_ever_printed()
    {
        Action shortSecret = () => _ = new RecordSigningKey("k1", new byte[31]);
        Action notBase64 = () => RecordSigningKey.FromBase64("k1", "this is not base64 but a secret");

        shortSecret.Should().Throw<ArgumentException>().WithMessage("*at least 32 bytes; this one has 31*");
        notBase64.Should().Throw<ArgumentException>().Which.Message.Should().NotContain("secret\"").And.NotContain("this is not");
        Key.ToString().Should().Be("signing key k1");
        RecordSigningKey.FromBase64("k1", Convert.ToBase64String(Secret)).KeyId.Should().Be("k1");
        RecordSigningKey.FromBase64("k1", Base64Url.EncodeToString(Secret)).KeyId.Should().Be("k1");
    }
}
