using System.Text;
using Netconsole.Listen;

namespace Netconsole.Tests.Listen;

/// <summary>Whatever the input, netconsole-listen ends with one line on stderr and exit code 1 or 2, never a stack trace.</summary>
public class ListenToolRobustnessTests
{
    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(TextWriter? stdout, params string[] args)
    {
        var output = new StringWriter();
        var stderr = new StringWriter();
        int exit = await ListenTool.RunProcessAsync(args, stdout ?? output, stderr, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return (exit, output.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("5000000")]
    [InlineData("4294968")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0")]
    public async Task A_timeout_a_timer_cannot_wait_is_refused_with_the_range(string seconds)
    {
        var (exit, stdout, stderr) = await RunAsync(null, "--timeout", seconds);

        exit.Should().Be(ListenTool.UsageError);
        stdout.Should().BeEmpty();
        stderr.Should().Be($"netconsole-listen: --timeout {seconds} is out of range: give a number of seconds above 0 and at most 4294967 (49 days); leave it out to listen until Ctrl+C.{Environment.NewLine}");
    }

    [Fact]
    public async Task The_longest_timeout_is_accepted()
    {
        using var interrupt = new CancellationTokenSource();
        Task<int> run = ListenTool.RunAsync(["--address", "127.0.0.1", "--port", "0", "--timeout", "4294967"], new StringWriter(), new StringWriter(), interrupt.Token);
        interrupt.Cancel();

        (await run.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, "a timer takes 49.7 days");
    }

    [Theory]
    [InlineData("--port", "http", "--port \"http\" is not a whole number from 0 to 65535.")]
    [InlineData("--count", "99999999999", "--count \"99999999999\" is not a whole number from 1 to 2147483647.")]
    [InlineData("--timeout", "soon", "--timeout \"soon\" is not a number of seconds above 0 and at most 4294967.")]
    public async Task A_number_that_is_not_one_says_what_is_valid(string option, string value, string expected)
    {
        var (exit, _, stderr) = await RunAsync(null, option, value);

        exit.Should().Be(ListenTool.UsageError);
        stderr.Should().StartWith("netconsole-listen: " + expected);
        stderr.TrimEnd('\n').Should().NotContain("\n");
    }

    [Fact]
    public async Task An_argument_in_brackets_is_refused_not_dropped_as_a_parser_directive()
    {
        var (exit, _, stderr) = await RunAsync(null, "[suggest]", "--timeout", "1");

        exit.Should().Be(ListenTool.UsageError);
        stderr.Should().Be("netconsole-listen: unexpected argument [suggest] (see --help)" + Environment.NewLine);
    }

    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var (exit, stdout, stderr) = await RunAsync(null, "--version");

        exit.Should().Be(0, stderr);
        stdout.Trim().Should().StartWith("0.");
    }

    [Fact]
    public async Task Standard_output_that_cannot_be_written_is_one_line_and_exit_1()
    {
        var (exit, _, stderr) = await RunAsync(new FailingWriter(), "--help");

        exit.Should().Be(ListenTool.Failure);
        stderr.Should().Be("netconsole-listen: cannot write standard output: No space left on device" + Environment.NewLine);
    }

    private sealed class FailingWriter : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => throw new IOException("No space left on device");

        public override void Write(string? value) => throw new IOException("No space left on device");

        public override void WriteLine(string? value) => throw new IOException("No space left on device");
    }
}
