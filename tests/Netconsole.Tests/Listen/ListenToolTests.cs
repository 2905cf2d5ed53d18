using System.Net;
using System.Net.Sockets;
using Netconsole.Listen;
using Netconsole.Tests.Receiving;

namespace Netconsole.Tests.Listen;

// netconsole-listen run in-process on an ephemeral loopback port.
public class ListenToolTests
{
    private sealed record Run(int Exit, string[] Stdout, string[] Stderr, IPEndPoint? Local);

    private static async Task<Run> RunAsync(string[] args, Func<IPEndPoint, Task>? whileListening = null, CancellationToken cancellationToken = default)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        IPEndPoint? local = null;
        Task<int> run = ListenTool.RunAsync(args, stdout, stderr, endpoint => local = endpoint, cancellationToken);
        if (local is not null && whileListening is not null)
        {
            await whileListening(local);
        }

        int exit = await run.WaitAsync(TestWait.Timeout, CancellationToken.None);
        return new Run(exit, Lines(stdout), Lines(stderr), local);
    }

    private static string[] Lines(StringWriter writer) => writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    // A safety net: with --count the tool exits as soon as the records are printed.
    private static string[] Listening(params string[] more) => ["--address", "127.0.0.1", "--port", "0", "--timeout", "30", .. more];

    [Fact]
    public async Task Prints_one_line_per_record_and_reports_a_gap_on_stderr()
    {
        IPEndPoint? from = null;
        Run run = await RunAsync(Listening("--count", "3"), local =>
        {
            using var sender = new TestSender(local);
            from = sender.LocalEndPoint;
            sender.Send(TestSender.Record(1, "first"));
            sender.Send(TestSender.Record(2, "second"));
            sender.Send(TestSender.Record(5, "fifth", level: 3));
            return Task.CompletedTask;
        });

        run.Exit.Should().Be(0, string.Join("\n", run.Stderr));
        run.Stdout.Should().Equal(
            $"{from} seq=1 ts=1001 user.notice first",
            $"{from} seq=2 ts=1002 user.notice second",
            $"{from} seq=5 ts=1005 user.err fifth");
        run.Stderr.Should().Equal(
            $"netconsole-listen: listening on {run.Local} (senders told apart by address and port)",
            $"{from}: 2 records lost (seq 3-4)",
            "netconsole-listen: 3 records from 3 datagrams, 1 sender; 0 dropped unread, 0 socket errors",
            $"  {from}: 3 records, 3 datagrams, 0 fragments, 2 lost, 0 out of order, 0 duplicates, 0 malformed, 0 incomplete, 0 restarts");
    }

    [Fact]
    public async Task Prints_a_fragmented_record_and_a_continued_group_whole()
    {
        IPEndPoint? from = null;
        string small = TestSender.Text(5 * 1024);
        string large = TestSender.Text(20 * 1024);
        int fragments = 0, groupDatagrams = 0, parts = 0;
        Run run = await RunAsync(Listening("--count", "2"), local =>
        {
            using var sender = new TestSender(local);
            from = sender.LocalEndPoint;
            fragments = sender.Send(TestSender.Record(1, small));
            groupDatagrams = sender.Send(TestSender.Record(2, large), out parts);
            return Task.CompletedTask;
        });

        run.Exit.Should().Be(0, string.Join("\n", run.Stderr));
        run.Stdout.Should().Equal(
            $"{from} seq=1 ts=1001 user.notice [{fragments} fragments] {small}",
            $"{from} seq=2 ts=1002 user.notice [{parts} parts, {groupDatagrams} fragments] {large}");
    }

    [Fact]
    public async Task Prints_the_dictionary_after_the_text()
    {
        IPEndPoint? from = null;
        Run run = await RunAsync(Listening("--count", "1"), local =>
        {
            using var sender = new TestSender(local);
            from = sender.LocalEndPoint;
            sender.Send(TestSender.Record(1, "two\nlines") with { Dictionary = [new("SUBSYSTEM", "net"), new("NOTE", "a b")] });
            return Task.CompletedTask;
        });

        run.Stdout.Should().Equal($"{from} seq=1 ts=1001 user.notice two\\x0alines\tSUBSYSTEM=net NOTE=a\\x20b");
    }

    [Fact]
    public async Task Tells_senders_apart_by_address_only_with_by_address()
    {
        Run run = await RunAsync(Listening("--count", "2", "--by-address"), local =>
        {
            using var first = new TestSender(local);
            using var second = new TestSender(local);
            first.Send(TestSender.Record(1, "one"));
            second.Send(TestSender.Record(2, "two"));
            return Task.CompletedTask;
        });

        run.Exit.Should().Be(0);
        run.Stdout.Should().Equal("127.0.0.1 seq=1 ts=1001 user.notice one", "127.0.0.1 seq=2 ts=1002 user.notice two");
        run.Stderr.Should().Contain(l => l.EndsWith("(senders told apart by address)", StringComparison.Ordinal));
        run.Stderr.Should().Contain("  127.0.0.1: 2 records, 2 datagrams, 0 fragments, 0 lost, 0 out of order, 0 duplicates, 0 malformed, 0 incomplete, 0 restarts");
    }

    [Fact]
    public async Task Reports_malformed_datagrams_on_stderr_and_keeps_listening()
    {
        IPEndPoint? from = null;
        Run run = await RunAsync(Listening("--count", "1"), local =>
        {
            using var sender = new TestSender(local);
            from = sender.LocalEndPoint;
            sender.SendRaw("6,abc,1,-;bad sequence number\n");
            sender.Send(TestSender.Record(1, "after"));
            return Task.CompletedTask;
        });

        run.Exit.Should().Be(0);
        run.Stdout.Should().Equal($"{from} seq=1 ts=1001 user.notice after");
        run.Stderr.Should().Contain($"{from}: 1 malformed datagram");
    }

    [Fact]
    public async Task Prints_datagrams_as_they_arrive_with_raw()
    {
        IPEndPoint? from = null;
        Run run = await RunAsync(Listening("--count", "2", "--raw"), local =>
        {
            using var sender = new TestSender(local);
            from = sender.LocalEndPoint;
            sender.SendRaw("13,1,1001,-;hello\n");
            sender.SendRaw("x");
            return Task.CompletedTask;
        });

        run.Exit.Should().Be(0);
        run.Stdout.Should().Equal($"{from} 18 bytes: 13,1,1001,-;hello\\x0a", $"{from} 1 bytes: x");
    }

    [Fact]
    public async Task Exits_with_0_and_a_summary_when_interrupted()
    {
        using var interrupt = new CancellationTokenSource();
        Run run = await RunAsync(Listening(), _ =>
        {
            interrupt.Cancel();
            return Task.CompletedTask;
        }, interrupt.Token);

        run.Exit.Should().Be(0);
        run.Stdout.Should().BeEmpty();
        run.Stderr[^1].Should().Be("netconsole-listen: 0 records from 0 datagrams, 0 senders; 0 dropped unread, 0 socket errors");
    }

    [Fact]
    public async Task Exits_with_1_when_the_timeout_passes_before_count_records()
    {
        Run run = await RunAsync(["--address", "127.0.0.1", "--port", "0", "--timeout", "0.2", "--count", "1"]);

        run.Exit.Should().Be(ListenTool.Failure);
        run.Stderr[^1].Should().Be("netconsole-listen: timed out after 0.2 s with 0 of 1 records");
    }

    [Fact]
    public async Task Exits_with_0_when_the_timeout_passes_without_a_count()
    {
        Run run = await RunAsync(["--address", "127.0.0.1", "--port", "0", "--timeout", "0.2"]);

        run.Exit.Should().Be(0);
    }

    [Fact]
    public async Task Exits_with_1_when_the_port_is_taken()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        Run run = await RunAsync(["--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "5"]);

        run.Exit.Should().Be(ListenTool.Failure);
        run.Stderr.Should().ContainSingle().Which.Should().StartWith($"netconsole-listen: cannot listen on 127.0.0.1:{port}: ");
    }

    [Theory]
    [InlineData("--port", "70000")]
    [InlineData("--port", "http")]
    [InlineData("--address", "not-an-address")]
    [InlineData("--count", "0")]
    [InlineData("--timeout", "-1")]
    [InlineData("--bogus")]
    [InlineData("extra")]
    public async Task Exits_with_2_and_one_line_on_bad_options(params string[] args)
    {
        Run run = await RunAsync(args);

        run.Exit.Should().Be(ListenTool.UsageError);
        run.Stdout.Should().BeEmpty();
        run.Stderr.Should().ContainSingle().Which.Should().StartWith("netconsole-listen: ");
    }

    [Fact]
    public async Task Help_documents_the_line_format()
    {
        Run run = await RunAsync(["--help"]);

        run.Exit.Should().Be(0);
        run.Stdout.Should().Contain(l => l.Contains("SENDER seq=SEQ ts=TS_USEC [release=REL] FACILITY.LEVEL", StringComparison.Ordinal));
    }
}
