using System.Text.RegularExpressions;
using Netconsole.Tests.Support;
using Netconsole.Wire;
using Xunit.Abstractions;
using static Netconsole.Tests.Wire.FrameTestData;

namespace Netconsole.Tests.Wire;

public class PcapFileWriterTests(ITestOutputHelper output)
{
    // 2001-09-09T01:46:40.123456Z: 1000000000 s = 0x3b9aca00, 123456 us = 0x0001e240.
    private static readonly DateTimeOffset KnownTime =
        DateTimeOffset.FromUnixTimeSeconds(1_000_000_000).AddTicks(123_456 * TimeSpan.TicksPerMicrosecond);

    [Fact]
    public void Global_header_is_classic_pcap_little_endian_microseconds_ethernet()
    {
        var stream = new MemoryStream();

        using (new PcapFileWriter(stream, leaveOpen: true))
        {
        }

        stream.ToArray().Should().Equal(
            0xd4, 0xc3, 0xb2, 0xa1, // magic 0xa1b2c3d4: microsecond timestamps, little-endian
            0x02, 0x00,             // version major 2
            0x04, 0x00,             // version minor 4
            0x00, 0x00, 0x00, 0x00, // thiszone: UTC
            0x00, 0x00, 0x00, 0x00, // sigfigs
            0xff, 0xff, 0x00, 0x00, // snaplen 65535
            0x01, 0x00, 0x00, 0x00); // link type 1: Ethernet
    }

    [Fact]
    public void Record_header_carries_seconds_microseconds_and_both_lengths()
    {
        var stream = new MemoryStream();
        using (var writer = new PcapFileWriter(stream, leaveOpen: true))
        {
            // 700 ns past the microsecond: pcap keeps microseconds, the rest is truncated.
            writer.Write("abc"u8, KnownTime.AddTicks(7));
        }

        stream.ToArray()[24..].Should().Equal(
            0x00, 0xca, 0x9a, 0x3b, // ts_sec 1000000000
            0x40, 0xe2, 0x01, 0x00, // ts_usec 123456
            0x03, 0x00, 0x00, 0x00, // incl_len 3
            0x03, 0x00, 0x00, 0x00, // orig_len 3
            (byte)'a', (byte)'b', (byte)'c');
    }

    [Fact]
    public void Frames_and_timestamps_round_trip_through_the_reader()
    {
        byte[] ipv4 = BuildFrame(Ipv4Builder(), "ipv4\n"u8);
        byte[] ipv6 = BuildFrame(Ipv6Builder(), "ipv6\n"u8);
        var stream = new MemoryStream();
        using (var writer = new PcapFileWriter(stream, leaveOpen: true))
        {
            writer.Write(ipv4, KnownTime);
            writer.Write(ipv6, KnownTime.AddSeconds(1.5));
        }

        stream.Position = 0;
        var records = PcapFileReader.Read(stream);

        records.Should().HaveCount(2);
        records[0].Timestamp.Should().Be(KnownTime);
        records[0].Frame.Should().Equal(ipv4);
        records[0].OriginalLength.Should().Be(ipv4.Length);
        records[1].Timestamp.Should().Be(KnownTime.AddSeconds(1.5));
        records[1].Frame.Should().Equal(ipv6);
    }

    [Fact]
    public void Write_without_a_timestamp_stamps_the_current_time()
    {
        var stream = new MemoryStream();
        DateTimeOffset before = DateTimeOffset.UtcNow.AddTicks(-TimeSpan.TicksPerMicrosecond);
        using (var writer = new PcapFileWriter(stream, leaveOpen: true))
        {
            writer.Write("now"u8);
        }

        DateTimeOffset after = DateTimeOffset.UtcNow;

        stream.Position = 0;
        PcapFileReader.Read(stream).Single().Timestamp.Should().BeOnOrAfter(before).And.BeOnOrBefore(after);
    }

    [Fact]
    public void Frame_longer_than_the_snapshot_length_is_stored_truncated_with_its_original_length()
    {
        var stream = new MemoryStream();
        using (var writer = new PcapFileWriter(stream, leaveOpen: true))
        {
            writer.Write(new byte[70_000], KnownTime);
        }

        stream.Position = 0;
        var record = PcapFileReader.Read(stream).Single();
        record.Frame.Length.Should().Be(PcapFileWriter.SnapshotLength);
        record.OriginalLength.Should().Be(70_000);
    }

    [Fact]
    public void Timestamp_before_1970_is_rejected()
    {
        using var writer = new PcapFileWriter(new MemoryStream());

        Action write = () => writer.Write("x"u8, new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero));

        write.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("timestamp");
    }

    [Fact]
    public void Dispose_closes_an_owned_stream_and_leaves_a_borrowed_one_open()
    {
        var owned = new MemoryStream();
        var borrowed = new MemoryStream();

        new PcapFileWriter(owned).Dispose();
        new PcapFileWriter(borrowed, leaveOpen: true).Dispose();

        owned.CanWrite.Should().BeFalse();
        borrowed.CanWrite.Should().BeTrue();
    }

    [Fact]
    public void Write_after_dispose_throws_object_disposed()
    {
        var writer = new PcapFileWriter(new MemoryStream());
        writer.Dispose();

        Action write = () => writer.Write("x"u8, KnownTime);

        write.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Path_constructor_writes_a_file_the_reader_reads_back()
    {
        string path = Path.Combine(Path.GetTempPath(), $"netconsole-{Guid.NewGuid():N}.pcap");
        try
        {
            byte[] frame = BuildFrame(Ipv4Builder(), "file\n"u8);
            using (var writer = new PcapFileWriter(path))
            {
                writer.Write(frame, KnownTime);
            }

            var records = PcapFileReader.Read(path);

            records.Should().ContainSingle().Which.Frame.Should().Equal(frame);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Reader_reads_big_endian_nanosecond_files()
    {
        byte[] file =
        [
            0xa1, 0xb2, 0x3c, 0x4d, 0x00, 0x02, 0x00, 0x04, // magic (nanoseconds), version 2.4
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // thiszone, sigfigs
            0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, // snaplen, link type Ethernet
            0x3b, 0x9a, 0xca, 0x00, 0x07, 0x5b, 0xcd, 0x15, // 1000000000 s, 123456789 ns
            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, // incl_len 2, orig_len 2
            0xab, 0xcd,
        ];

        var record = PcapFileReader.Read(new MemoryStream(file)).Single();

        record.Timestamp.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1_000_000_000).AddTicks(1_234_567));
        record.Frame.Should().Equal(0xab, 0xcd);
    }

    [Fact]
    public void Reader_rejects_a_file_that_is_not_pcap()
    {
        Action read = () => PcapFileReader.Read(new MemoryStream(new byte[24]));

        read.Should().Throw<InvalidDataException>().WithMessage("Not a classic pcap file*");
    }

    [SkippableFact]
    public void Tcpdump_reads_the_file_and_finds_every_checksum_correct()
    {
        var frames = new List<byte[]>();
        foreach (bool ipv6 in new[] { false, true })
        {
            var builder = Builder(ipv6);
            frames.Add(BuildFrame(builder, []));
            frames.Add(BuildFrame(builder, "6,1,1000,-;odd length\n"u8));
            frames.Add(BuildFrame(builder, Payload(1000)));
            frames.Add(BuildFrame(builder, ZeroChecksumPayload(ipv6))); // checksum sent as 0xffff
        }

        string path = Path.Combine(Path.GetTempPath(), $"netconsole-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var writer = new PcapFileWriter(path))
            {
                foreach (byte[] frame in frames)
                {
                    writer.Write(frame, KnownTime);
                }
            }

            string text = Tcpdump.Read(path, output);

            Regex.Count(text, @"udp sum ok").Should().Be(frames.Count);
            text.Should().NotContain("bad cksum").And.NotContain("bad udp cksum").And.NotContain("truncated");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
