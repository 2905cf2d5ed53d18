using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Netconsole.Lab;
using Netconsole.Receiving;
using Netconsole.Tests.Receiving;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// The spool against real processes, frames and a real receiver (issue 18): an application logs
/// 200 records while its device is down and is killed with SIGKILL; the link comes back and the
/// next run of the application, with the same target configuration, sends the 200 first, in
/// order, with their sequence numbers and the line replayed_from_pid=PID of the killed process,
/// then its own records, and the spool directory is left empty. A record torn by the kill (the
/// file cut inside its last record) is left out: the 199 whole ones arrive, nothing half.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab
public sealed class SpoolLabTests(ITestOutputHelper output) : LabFixture
{
    private const int Count = 200;

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Records_of_a_process_killed_during_an_outage_are_sent_first_by_its_next_run(bool tornLastRecord)
    {
        string dll = TestAppChild.RequireLab();
        NetworkLab lab = Lab();
        await using NetconsoleReceiver receiver = IPv4Receiver(lab);
        string spool = Directory.CreateTempSubdirectory("netconsole-spool-lab-").FullName;
        try
        {
            lab.SetDeviceDown();
            int killedPid = await LogAndGetKilled(dll, lab, spool);
            string file = Directory.GetFiles(spool, "*.spool").Should().ContainSingle("the killed process left its spool").Subject;
            Path.GetFileName(file).Should().Contain($".{killedPid}-");
            if (tornLastRecord)
            {
                // What a kill in the middle of the last append leaves: the record cut short.
                using FileStream stream = new(file, FileMode.Open, FileAccess.Write);
                stream.SetLength(stream.Length - 7);
            }

            lab.SetDeviceUp();
            var start = Child(dll, "plain", lab, spool);
            ChildProcess.Result next = await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60));
            output.WriteLine($"the next run: exit code {next.ExitCode}\n{next.Stdout}{next.Stderr}");
            next.ExitCode.Should().Be(0);

            int spooled = tornLastRecord ? Count - 1 : Count;
            var records = new List<ReceivedRecord>();
            for (int i = 0; i < spooled + 3; i++)
            {
                records.Add(await TestWait.ReadAsync(receiver));
            }

            string pid = killedPid.ToString(CultureInfo.InvariantCulture);
            List<ReceivedRecord> replayed = records[..spooled];
            replayed.Select(r => r.TextString).Should().Equal(Enumerable.Range(1, spooled).Select(i => $"record {i} of {Count}"), "the killed process's records come first, in order, each whole");
            replayed.Should().AllSatisfy(r => r.Dictionary.Should().Contain(new KeyValuePair<string, string>("replayed_from_pid", pid)));
            replayed.Zip(replayed.Skip(1)).Should().AllSatisfy(p => p.Second.Sequence.Should().Be(p.First.Sequence + 1), "their own sequence numbers, consecutive");
            List<ReceivedRecord> own = records[spooled..];
            own.Select(r => r.TextString).Should().Equal("record 1 of 3", "record 2 of 3", "record 3 of 3");
            own.Should().AllSatisfy(r => r.Dictionary.Select(d => d.Key).Should().NotContain("replayed_from_pid"));
            own[0].Sequence.Should().BeGreaterThan(replayed[^1].Sequence, "the next run numbers from its own start, later");
            Directory.GetFiles(spool).Should().BeEmpty("the killed process's spool was taken, and the next run's went once sent");

            // Nothing more: no half record after the whole ones.
            using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            Func<Task> more = async () => await receiver.ReadAsync(quiet.Token);
            await more.Should().ThrowAsync<OperationCanceledException>();
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }

    // The application logs its records while its device is down, says they are buffered, and is killed with SIGKILL.
    private async Task<int> LogAndGetKilled(string dll, NetworkLab lab, string spool)
    {
        ProcessStartInfo start = Child(dll, "log-and-hang", lab, spool);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using Process child = Process.Start(start)!;
        Task<string> errors = child.StandardError.ReadToEndAsync();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line = await child.StandardOutput.ReadLineAsync(deadline.Token);
            line.Should().Be($"buffered {Count}", "the child waits until its {0} records are in the replay buffer", Count);
        }
        finally
        {
            child.Kill(); // SIGKILL: no handler, no flush, no disposal runs
            await child.WaitForExitAsync();
        }

        output.WriteLine($"the killed process {child.Id}: exit code {child.ExitCode}; stderr: {await errors.WaitAsync(TimeSpan.FromSeconds(30))}");
        return child.Id;
    }

    private static ProcessStartInfo Child(string dll, string mode, NetworkLab lab, string spool)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost());
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--count={Count}"));
        const string Target = "--Logging:Netconsole:Targets:0:";
        start.ArgumentList.Add(Target + "Name=app");
        start.ArgumentList.Add(Target + "DeviceName=" + lab.DeviceName);
        start.ArgumentList.Add(Target + "LocalAddress=" + lab.DeviceIPv4);
        start.ArgumentList.Add(Target + "RemoteAddress=" + lab.PeerIPv4);
        start.ArgumentList.Add(Target + "RemoteMac=" + Netconsole.Devices.MacAddressText.Format(lab.PeerMac));
        start.ArgumentList.Add(Target + "Extended=true");
        start.ArgumentList.Add(Target + "SpoolDirectory=" + spool);
        return start;
    }
}
