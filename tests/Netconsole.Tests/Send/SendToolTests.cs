using System.Text;
using Netconsole.Send;
using Netconsole.Tests.Support;
using Netconsole.Tests.Wire;
using Netconsole.Wire;
using Xunit.Abstractions;

namespace Netconsole.Tests.Send;

public sealed class SendToolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netconsole-send-").FullName;
    private readonly ITestOutputHelper _output;

    public SendToolTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = SendTool.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string Pcap(string name) => Path.Combine(_dir, name);

    // UDP payloads of the frames in a pcap file, from the frames' own IP header lengths.
    private static List<string> Payloads(string path) =>
        PcapFileReader.Read(path).Select(f =>
        {
            byte[] frame = f.Frame;
            int ip = frame[12] == 0x86 && frame[13] == 0xdd ? 40 : (frame[14] & 0x0f) * 4;
            return Encoding.Latin1.GetString(frame, 14 + ip + 8, frame.Length - 14 - ip - 8);
        }).ToList();

    [Fact]
    public void Reproduces_the_kernel_selftest_fragmented_datagrams_byte_for_byte()
    {
        var (_, record, body, userdataLine) = RecordFormatterTests.SelftestVector();
        string value = userdataLine[" key=".Length..^1];
        string data = body + userdataLine;

        var (exit, _, stderr) = Run("--target", "+@192.0.2.1/,@192.0.2.2/", "--userdata", "key=" + value,
            "--seq", "468", "--timestamp-us", "514729715", "--level", "5",
            "--source-mac", "02:00:00:00:00:01", "--write-pcap", Pcap("f.pcap"), Encoding.UTF8.GetString(record.Text.Span));

        exit.Should().Be(0, stderr);
        Payloads(Pcap("f.pcap")).Should().Equal(
            "13,468,514729715,-,ncfrag=0/1135;" + data[..967],
            "13,468,514729715,-,ncfrag=967/1135;" + data[967..]);
    }

    [Fact]
    public void Writes_a_release_prefixed_record()
    {
        var (exit, _, stderr) = Run("--target", "+r@192.0.2.1/,@192.0.2.2/", "--release", "6.4.0", "--facility", "0",
            "--level", "6", "--seq", "444", "--timestamp-us", "501151268",
            "--source-mac", "02:00:00:00:00:01", "--write-pcap", Pcap("r.pcap"), "netconsole: network logging started");

        exit.Should().Be(0, stderr);
        Payloads(Pcap("r.pcap")).Should().Equal("6.4.0,6,444,501151268,-;netconsole: network logging started\n");
    }

    [Fact]
    public void Userdata_and_sysdata_options_reach_the_record()
    {
        var (exit, _, stderr) = Run("--target", "+@192.0.2.1/,@192.0.2.2/", "--userdata", "host=web-1", "--userdata", "zone=eu",
            "--sysdata", "release,msgid", "--release", "2.0.1", "--seq", "7", "--timestamp-us", "9",
            "--source-mac", "02:00:00:00:00:01", "--write-pcap", Pcap("u.pcap"), "hi");

        exit.Should().Be(0, stderr);
        Payloads(Pcap("u.pcap")).Should().Equal("13,7,9,-;hi\n host=web-1\n zone=eu\n release=2.0.1\n msgid=1\n");
    }

    [Fact]
    public void Message_file_is_sent_as_one_record_without_its_final_newline()
    {
        File.WriteAllText(Path.Combine(_dir, "m.txt"), "line one\nline two\n");
        var (exit, _, stderr) = Run("--target", "+@192.0.2.1/,@192.0.2.2/", "--seq", "1", "--timestamp-us", "2",
            "--source-mac", "02:00:00:00:00:01", "--message-file", Path.Combine(_dir, "m.txt"), "--write-pcap", Pcap("m.pcap"));

        exit.Should().Be(0, stderr);
        Payloads(Pcap("m.pcap")).Should().Equal("13,1,2,-;line one\\x0aline two\n");
    }

    [Theory]
    [InlineData("bad target", new[] { "--target", "@/,@/", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "@/,@/")]
    [InlineData("bad MAC", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--source-mac", "02:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "--source-mac")]
    [InlineData("unreadable file", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--source-mac", "02:00:00:00:00:01", "--message-file", "/nonexistent/m.txt", "--write-pcap", "x.pcap" }, "/nonexistent/m.txt")]
    [InlineData("no message", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap" }, "no message")]
    [InlineData("level out of range", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--level", "9", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "--level 9")]
    [InlineData("unknown sysdata", new[] { "--target", "+@192.0.2.1/,@192.0.2.2/", "--sysdata", "pid", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "pid")]
    [InlineData("userdata without =", new[] { "--target", "+@192.0.2.1/,@192.0.2.2/", "--userdata", "host", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "host")]
    [InlineData("no source MAC", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--write-pcap", "x.pcap", "m" }, "--source-mac")]
    [InlineData("no source address", new[] { "--target", "@/,@192.0.2.2/", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "src-ip")]
    [InlineData("resume wait out of range", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--resume-wait-ms", "700000", "--source-mac", "02:00:00:00:00:01", "--write-pcap", "x.pcap", "m" }, "--resume-wait-ms 700000")]
    [InlineData("replay wait out of range", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--stdin", "--replay-wait-ms", "700000" }, "--replay-wait-ms 700000")]
    [InlineData("replay wait without stdin", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--replay-wait-ms", "100", "m" }, "it needs --stdin")]
    [InlineData("unknown option", new[] { "--target", "@192.0.2.1/,@192.0.2.2/", "--bogus", "m" }, "--bogus")]
    [InlineData("missing target", new[] { "m" }, "--target")]
    public void Bad_input_prints_one_clear_line_to_stderr_and_exits_2(string _, string[] args, string mentioned)
    {
        string[] withDir = args.Select(a => a == "x.pcap" ? Pcap("x.pcap") : a).ToArray();
        var (exit, _, stderr) = Run(withDir);
        exit.Should().Be(2);
        stderr.TrimEnd('\n').Should().NotContain("\n").And.Contain(mentioned).And.StartWith("netconsole-send: ");
    }

    [SkippableTheory]
    [InlineData("+@192.0.2.1/,@192.0.2.2/")]
    [InlineData("+@2001:db8::1/,@2001:db8::2/")]
    [InlineData("@198.51.100.1/,9999@198.51.100.2/02:00:00:00:00:02")]
    public void Frames_pass_tcpdump_checksum_verification(string target)
    {
        string text = string.Concat(Enumerable.Range(0, 400).Select(i => $"word{i} "));
        var (exit, _, stderr) = Run("--target", target, "--source-mac", "02:00:00:00:00:01", "--write-pcap", Pcap("t.pcap"), text);
        exit.Should().Be(0, stderr);

        string tcpdumpOutput = Tcpdump.Read(Pcap("t.pcap"), _output);
        int frames = PcapFileReader.Read(Pcap("t.pcap")).Count;
        frames.Should().BeGreaterThan(1);
        tcpdumpOutput.Split("udp sum ok").Length.Should().Be(frames + 1, tcpdumpOutput);
        tcpdumpOutput.Should().NotContain("bad cksum").And.NotContain("bad udp cksum");
    }
}
