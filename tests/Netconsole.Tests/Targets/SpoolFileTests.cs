using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>
/// The spool file: its exact layout, records consumed through the header's counter, a rewrite
/// that keeps what waits, and crash consistency: a record cut short or damaged at any byte (a
/// kill during its write) is left out with everything after it, never read half.
/// </summary>
public sealed class SpoolFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netconsole-spoolfile-").FullName;

    private static byte[] Record(string text)
    {
        byte[] datagram = Encoding.UTF8.GetBytes(text);
        byte[] stored = new byte[2 + datagram.Length];
        BinaryPrimitives.WriteUInt16BigEndian(stored, (ushort)datagram.Length);
        datagram.CopyTo(stored, 2);
        return stored;
    }

    private static SpoolFile.Adopted Read(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.None);
        return SpoolFile.Read(path, handle);
    }

    private static string[] Texts(SpoolFile.Adopted adopted) => [.. adopted.Records.Select(r => Encoding.UTF8.GetString(r, 2, r.Length - 2))];

    private string Write(params string[] texts)
    {
        using SpoolFile spool = SpoolFile.Create(_directory, "t", extended: true);
        foreach (string text in texts)
        {
            spool.Append(Record(text));
        }

        return spool.Path;
    }

    [Fact]
    public void The_layout_is_a_32_byte_header_then_records_behind_magic_length_ordinal_and_crc()
    {
        string path = Write("6,1,2,-;a\n");

        byte[] file = File.ReadAllBytes(path);

        byte[] header = [.. "NCSPOOL1"u8, 1, 0, 0, 0, .. BitConverter.GetBytes(Environment.ProcessId), 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        byte[] payload = [0, 10, .. "6,1,2,-;a\n"u8];
        uint crc = SpoolFile.Crc32(payload, SpoolFile.Crc32(new byte[8], 0));
        byte[] record = [0x45, 0x52, 0x43, 0x4E, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .. BitConverter.GetBytes(crc), .. payload];
        file.Should().Equal([.. header, .. record]);
        SpoolFile.Crc32("123456789"u8, 0).Should().Be(0xCBF43926, "the CRC-32 of zlib and Ethernet (its check value)");
    }

    [Fact]
    public void A_record_cut_short_at_any_byte_is_left_out_and_the_whole_ones_before_it_are_read()
    {
        string path = Write("first\n", "second\n", "third record, the one being written when the process died\n");
        byte[] whole = File.ReadAllBytes(path);
        int thirdStart = SpoolFile.HeaderSize + (2 * SpoolFile.RecordHeaderSize) + Record("first\n").Length + Record("second\n").Length;

        for (int cut = thirdStart + 1; cut < whole.Length; cut++)
        {
            File.WriteAllBytes(path, whole[..cut]);
            SpoolFile.Adopted adopted = Read(path);
            Texts(adopted).Should().Equal(["first\n", "second\n"], "the file cut at byte {0} of {1}", cut, whole.Length);
            adopted.TornRecords.Should().Be(1);
            adopted.Dispose();
        }
    }

    [Fact]
    public void A_damaged_byte_anywhere_in_a_record_stops_the_reading_there()
    {
        string path = Write("first\n", "second\n", "third\n");
        byte[] whole = File.ReadAllBytes(path);
        int secondStart = SpoolFile.HeaderSize + SpoolFile.RecordHeaderSize + Record("first\n").Length;
        int secondEnd = secondStart + SpoolFile.RecordHeaderSize + Record("second\n").Length;

        for (int at = secondStart; at < secondEnd; at++)
        {
            byte[] damaged = (byte[])whole.Clone();
            damaged[at] ^= 0x20;
            File.WriteAllBytes(path, damaged);
            using SpoolFile.Adopted adopted = Read(path);
            Texts(adopted).Should().Equal(["first\n"], "byte {0} changed", at);
        }
    }

    [Fact]
    public void Consumed_records_are_not_read_and_a_rewrite_keeps_only_what_waits()
    {
        string path;
        long before;
        using (SpoolFile spool = SpoolFile.Create(_directory, "t", extended: true))
        {
            path = spool.Path;
            spool.Append(Record("1\n"));
            spool.Append(Record("2\n"));
            spool.Append(Record("3\n"));
            spool.Consume();
            before = spool.Length;
            spool.Rewrite([Record("2\n"), Record("3\n")]);
            spool.Length.Should().BeLessThan(before);
            spool.Append(Record("4\n"));
            spool.Consume();
        }

        using SpoolFile.Adopted adopted = Read(path);
        Texts(adopted).Should().Equal("3\n", "4\n");
        File.Exists(path + ".new").Should().BeFalse();
    }

    [Fact]
    public void A_spool_whose_process_holds_it_is_not_taken_and_once_released_it_is()
    {
        long errors = 0;
        using (SpoolFile spool = SpoolFile.Create(_directory, "t", extended: false))
        {
            spool.Append(Record("waiting\n"));
            SpoolFile.FindOrphans(_directory, "t", ref errors).Should().BeEmpty("its lock is held: its process is alive");
        }

        List<SpoolFile.Adopted> orphans = SpoolFile.FindOrphans(_directory, "t", ref errors);
        SpoolFile.Adopted orphan = orphans.Should().ContainSingle().Subject;
        Texts(orphan).Should().Equal("waiting\n");
        orphan.Pid.Should().Be(Environment.ProcessId);
        orphan.Extended.Should().BeFalse();
        orphan.Delete();
        Directory.GetFiles(_directory).Should().BeEmpty();
        errors.Should().Be(0);
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_spool_is_readable_and_writable_by_its_user_alone_and_so_is_a_directory_it_creates()
    {
        string directory = Path.Combine(_directory, "new");
        using SpoolFile spool = SpoolFile.Create(directory, "t", extended: true);

        File.GetUnixFileMode(spool.Path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "records may be confidential");
        File.GetUnixFileMode(directory).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void The_temporary_file_of_a_rewrite_cut_short_by_a_death_is_removed_and_a_live_ones_kept()
    {
        string prefix = SpoolFile.Prefix("t");
        string dead = Path.Combine(_directory, prefix + "1-1.spool.new");
        File.WriteAllBytes(dead, [1, 2, 3]);
        string live = Path.Combine(_directory, prefix + "2-1.spool.new");
        using (File.OpenHandle(live, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            long errors = 0;
            SpoolFile.FindOrphans(_directory, "t", ref errors).Should().BeEmpty("a temporary file is never read as a spool");

            File.Exists(dead).Should().BeFalse();
            File.Exists(live).Should().BeTrue("its process holds it: a rewrite in progress");
        }
    }

    [Fact]
    public void Targets_whose_names_differ_only_in_characters_unsafe_in_a_file_name_do_not_share_spools()
    {
        SpoolFile.Prefix("a/b").Should().NotBe(SpoolFile.Prefix("a_b"));
        SpoolFile.Prefix("a/b").Should().StartWith("a_b-");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
