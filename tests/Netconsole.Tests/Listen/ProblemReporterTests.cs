using System.Net;
using Netconsole.Listen;
using Netconsole.Receiving;

namespace Netconsole.Tests.Listen;

/// <summary>
/// What netconsole-listen remembers per sender to tell gaps and restarts on stderr. Spoofed
/// source addresses are free: each new one cost it ~350 bytes, forever (172 MiB resident after
/// 300,000 of them in the lab flood, issue 16).
/// </summary>
public sealed class ProblemReporterTests : IDisposable
{
    private static readonly IPEndPoint Legitimate = new(IPAddress.Parse("192.0.2.1"), 6665);
    private readonly NetconsoleReceiver _receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly StringWriter _stderr = new();

    public void Dispose()
    {
        _receiver.Dispose();
        _stderr.Dispose();
    }

    private static ReceivedRecord Record(IPEndPoint sender, ulong sequence) =>
        new(sender, true, null, 6, sequence, sequence, RecordContinuation.None, "x"u8.ToArray(), [], 1, 1, 0);

    private static IPEndPoint Spoofed(int i) => new(new IPAddress([198, 51, 100, (byte)(1 + (i % 254))]), 1024 + (i / 254));

    [Fact]
    public void What_it_remembers_stays_bounded_whatever_number_of_senders_it_prints()
    {
        var reporter = new ListenTool.ProblemReporter(_receiver, _stderr);

        for (int i = 0; i < 3 * ListenTool.ProblemReporter.MaxSendersRemembered; i++)
        {
            reporter.BeforeRecord(Record(Spoofed(i), 1));
        }

        reporter.SendersRemembered.Should().Be(ListenTool.ProblemReporter.MaxSendersRemembered);
    }

    [Fact]
    public void A_gap_is_still_told_for_a_sender_heard_again_after_thousands_of_others()
    {
        var reporter = new ListenTool.ProblemReporter(_receiver, _stderr);
        reporter.BeforeRecord(Record(Legitimate, 1));
        for (int i = 0; i < ListenTool.ProblemReporter.MaxSendersRemembered - 1; i++)
        {
            reporter.BeforeRecord(Record(Spoofed(i), 1));
        }

        reporter.BeforeRecord(Record(Legitimate, 5));

        _stderr.ToString().Should().Be("192.0.2.1:6665: 3 records lost (seq 2-4)" + Environment.NewLine);
    }
}
