using System.Diagnostics;
using System.Text;
using Netconsole.Send;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Send;

/// <summary>
/// Whatever the input, netconsole-send ends with one line on stderr and exit code 1 or 2, never a
/// stack trace: --version, files that are devices or directories, numbers out of range, a full
/// disk, standard output that cannot be written. The process-level cases run the real tool.
/// </summary>
public sealed class SendToolRobustnessTests : IDisposable
{
    private const string Target = "+@192.0.2.1/,@192.0.2.2/";
    private readonly string _dir = Directory.CreateTempSubdirectory("netconsole-send-robust-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = SendTool.RunProcess(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string[] ToPcap(params string[] more) => ["--target", Target, "--source-mac", "02:00:00:00:00:01", "--write-pcap", Path.Combine(_dir, "out.pcap"), .. more];

    private static void OneLine(string stderr, string expected)
    {
        stderr.Should().EndWith("\n").And.StartWith("netconsole-send: ");
        stderr.TrimEnd('\n').Should().NotContain("\n", "one line, no stack trace").And.Contain(expected);
    }

    [Fact]
    public void Version_prints_the_version_and_exits_0_without_a_target()
    {
        var (exit, stdout, stderr) = Run("--version");

        exit.Should().Be(0, stderr);
        stdout.Trim().Should().StartWith("0.").And.NotContain(" ");
        stderr.Should().BeEmpty();
    }

    [Fact]
    public void Version_with_other_options_is_refused_cleanly()
    {
        var (exit, _, stderr) = Run("--version", "--target", Target);

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, "--version");
    }

    [Fact]
    public void Help_exits_0_without_a_target()
    {
        var (exit, stdout, _) = Run("--help");

        exit.Should().Be(0);
        stdout.Should().Contain("--rate").And.Contain("--stdin");
    }

    [SkippableFact]
    public void A_pcap_file_on_a_full_disk_is_one_line_and_exit_1_and_nothing_is_claimed_written()
    {
        Skip.IfNot(File.Exists("/dev/full"), "/dev/full is Linux's always-full device");

        var (exit, stdout, stderr) = Run("--target", Target, "--source-mac", "02:00:00:00:00:01", "--write-pcap", "/dev/full", "m");

        exit.Should().Be(SendTool.SendError);
        stdout.Should().BeEmpty("no frame was written, so none is claimed");
        OneLine(stderr, "cannot write /dev/full: No space left on device (nothing written)");
    }

    [SkippableFact]
    public void A_message_file_that_never_ends_is_refused_after_64_KiB()
    {
        Skip.IfNot(File.Exists("/dev/zero"), "/dev/zero is an endless device");

        var (exit, _, stderr) = Run(ToPcap("--message-file", "/dev/zero"));

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, "--message-file /dev/zero is longer than 65536 bytes");
    }

    [Fact]
    public void A_message_file_of_64_KiB_and_its_newline_is_one_record_and_one_byte_more_is_refused()
    {
        string fits = Path.Combine(_dir, "fits.txt");
        string over = Path.Combine(_dir, "over.txt");
        File.WriteAllBytes(fits, [.. Enumerable.Repeat((byte)'a', 65536), (byte)'\n']);
        File.WriteAllBytes(over, [.. Enumerable.Repeat((byte)'a', 65537)]);

        Run(ToPcap("--message-file", fits)).Exit.Should().Be(0);
        var (exit, _, stderr) = Run(ToPcap("--message-file", over));

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, "is longer than 65536 bytes, the most one record takes here");
    }

    [Theory]
    [InlineData("directory as message file", "--message-file", "DIR", "is a directory: give a file")]
    [InlineData("empty message file name", "--message-file", "", "--message-file needs a file name")]
    [InlineData("missing message file", "--message-file", "DIR/none.txt", "cannot read --message-file")]
    public void A_message_file_that_cannot_be_read_is_one_line_and_exit_2(string _, string option, string value, string expected)
    {
        var (exit, _, stderr) = Run(ToPcap(option, value.Replace("DIR", _dir, StringComparison.Ordinal)));

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, expected);
    }

    [Theory]
    [InlineData("DIR", "is a directory: give a file name")]
    [InlineData("", "--write-pcap needs a file name")]
    [InlineData("DIR/missing/out.pcap", "cannot write")]
    public void A_pcap_file_that_cannot_be_created_is_one_line_and_exit_2(string path, string expected)
    {
        var (exit, _, stderr) = Run("--target", Target, "--source-mac", "02:00:00:00:00:01", "--write-pcap", path.Replace("DIR", _dir, StringComparison.Ordinal), "m");

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, expected);
    }

    [Theory]
    [InlineData("--level", "abc", "--level \"abc\" is not a whole number from 0 (emerg) to 7 (debug).")]
    [InlineData("--level", "99999999999", "--level \"99999999999\" is not a whole number")]
    [InlineData("--facility", "99999999999", "--facility \"99999999999\" is not a whole number from 0 (kern) to 23 (local7).")]
    [InlineData("--seq", "-1", "--seq \"-1\" is not a whole number from 0 to 18446744073709551615.")]
    [InlineData("--seq", "18446744073709551616", "--seq \"18446744073709551616\" is not a whole number")]
    [InlineData("--timestamp-us", "soon", "--timestamp-us \"soon\" is not a whole number")]
    [InlineData("--resume-wait-ms", "1e3", "--resume-wait-ms \"1e3\" is not a whole number from 0 to 600000.")]
    [InlineData("--resume-wait-ms", "-1", "--resume-wait-ms -1 is out of range")]
    [InlineData("--facility", "-1", "a facility is 0 (kern) to 23 (local7)")]
    public void A_number_that_is_not_one_or_out_of_range_says_what_is_valid(string option, string value, string expected)
    {
        var (exit, _, stderr) = Run(ToPcap(option, value, "m"));

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, expected);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("10/0")]
    [InlineData("10/")]
    [InlineData("1/2/3")]
    [InlineData("1000001")]
    [InlineData("-5")]
    public void A_rate_that_is_not_N_or_N_slash_BURST_is_refused(string rate)
    {
        var (exit, _, stderr) = Run("--target", Target, "--rate", rate, "m");

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, $"--rate \"{rate}\" is not N or N/BURST: at most N datagrams a second and BURST at once, each 1 to 1000000 (BURST defaults to 50; example: --rate 200/20).");
    }

    [Fact]
    public void A_rate_with_a_pcap_file_is_refused_because_nothing_is_sent()
    {
        var (exit, _, stderr) = Run(ToPcap("--rate", "100", "m"));

        exit.Should().Be(SendTool.UsageError);
        OneLine(stderr, "--rate paces what is sent to a receiver, and --write-pcap sends nothing");
    }

    [Fact]
    public void A_message_in_brackets_is_a_message_and_never_silently_taken_for_a_parser_directive()
    {
        var (exit, stdout, stderr) = Run(ToPcap("[suggest]"));
        var (firstExit, _, firstStderr) = Run(["[BOOT]", .. ToPcap()]);

        exit.Should().Be(0, stderr);
        stdout.Should().Contain("-;[suggest]\\n");
        firstExit.Should().Be(SendTool.UsageError);
        OneLine(firstStderr, "a first argument in brackets ([BOOT]) would be taken for a parser directive and lost: put the options first, or the message after --");
    }

    [Fact]
    public void Standard_output_that_cannot_be_written_is_one_line_and_exit_1()
    {
        var stderr = new StringWriter();

        int exit = SendTool.RunProcess(ToPcap("m"), new FailingWriter("No space left on device"), stderr);

        exit.Should().Be(SendTool.SendError);
        stderr.ToString().Should().Be("netconsole-send: cannot write standard output: No space left on device" + Environment.NewLine);
    }

    [Fact]
    public void An_unexpected_failure_still_ends_in_one_line_and_exit_1()
    {
        var stderr = new StringWriter();

        int exit = SendTool.RunProcess(ToPcap("--stdin"), new StringWriter(), stderr, new UnexpectedInput());

        exit.Should().Be(SendTool.SendError);
        stderr.ToString().Should().Be("netconsole-send: unexpected error (InvalidOperationException): not a stream the tool knows" + Environment.NewLine);
    }

    // The real process: what a user sees, exit code and all (an unhandled exception would be 134 and a stack trace).
    [SkippableTheory]
    [InlineData("--version", 0, "")]
    [InlineData("--target " + Target + " --source-mac 02:00:00:00:00:01 --write-pcap /dev/full m", 1, "netconsole-send: cannot write /dev/full: No space left on device (nothing written)")]
    [InlineData("--target " + Target + " --source-mac 02:00:00:00:00:01 --write-pcap OUT --message-file /dev/zero", 2, "netconsole-send: --message-file /dev/zero is longer than 65536 bytes")]
    [InlineData("--target " + Target + " --source-mac 02:00:00:00:00:01 --write-pcap OUT m >/dev/full", 1, "netconsole-send: cannot write standard output: No space left on device")]
    [InlineData("--help >&-", 1, "netconsole-send: cannot write standard output: Bad file descriptor")]
    public async Task The_tool_process_ends_with_its_exit_code_and_one_line(string arguments, int expectedExit, string expectedStderr)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the cases use Linux devices");
        string tool = Path.Combine(AppContext.BaseDirectory, "netconsole-send.dll");
        var start = new ProcessStartInfo("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec \"$0\" \"$1\" {arguments.Replace("OUT", Path.Combine(_dir, "p.pcap"), StringComparison.Ordinal)}");
        start.ArgumentList.Add(ChildProcess.DotnetHost());
        start.ArgumentList.Add(tool);

        ChildProcess.Result result = await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60));

        result.ExitCode.Should().Be(expectedExit, result.Stderr);
        if (expectedStderr.Length == 0)
        {
            result.Stderr.Should().BeEmpty();
            result.Stdout.Should().MatchRegex(@"^0\.\d+\.\d+\S*\n$");
        }
        else
        {
            result.Stderr.Should().StartWith(expectedStderr).And.EndWith("\n");
            result.Stderr.TrimEnd('\n').Should().NotContain("\n");
        }
    }

    private sealed class FailingWriter(string reason) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => throw new IOException(reason);

        public override void Write(string? value) => throw new IOException(reason);

        public override void WriteLine(string? value) => throw new IOException(reason);
    }

    private sealed class UnexpectedInput : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("not a stream the tool knows");
    }
}
