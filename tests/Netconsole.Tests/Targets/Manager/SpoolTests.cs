using System.Text;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>
/// The spool (issue 18, part 2): what waits in a target's replay buffer is also in a file of its
/// spool directory, which goes when nothing waits; a manager that ends with records waiting
/// leaves the file, and the next manager with that target sends its records first, marked with
/// the pid of the process that wrote them; the operator's disable deletes it; a spool that cannot
/// be written is counted and the records still go out from memory.
/// </summary>
public sealed class SpoolTests : ManagerTestBase, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netconsole-spool-").FullName;

    private NetconsoleTargetOptions Options(bool extended = true)
    {
        NetconsoleTargetOptions options = ByName("veth0", "spooled");
        options.Extended = extended;
        options.SpoolDirectory = _directory;
        return options;
    }

    private string[] SpoolFiles() => Directory.GetFiles(_directory, "*.spool");

    private static void Send(TargetManager manager, params int[] numbers)
    {
        foreach (int n in numbers)
        {
            manager.Send(NetconsoleRecord.FromString(6, $"r{n}") with { Sequence = (ulong)n, TimestampMicroseconds = 1000 + (ulong)n });
        }
    }

    // Each frame's payload as sent, its newline included (the spool keeps datagrams byte for byte).
    private static string[] Datagrams(FakeTransport transport) =>
        [.. transport.Frames.Select(f => Encoding.UTF8.GetString(f, Ipv4Headers, f.Length - Ipv4Headers))];

    private static void WaitUntil(Func<bool> condition, string because) =>
        SpinWait.SpinUntil(condition, Timeout).Should().BeTrue(because);

    // Records 1-3 wait (the device is gone), then this manager ends: its spool stays.
    private void LeaveThreeRecordsInTheSpool(bool extended = true)
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(Options(extended));
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        Watcher.Unregister("veth0");
        Settle();
        Send(Manager, 1, 2, 3);
        target.GetStatistics().RecordsBuffered.Should().Be(3);
        Manager.Dispose();
    }

    private TargetManager NextManager(FakeTransportFactory factory) => new(new TargetManagerOptions
    {
        Watcher = Watcher,
        TransportFactory = factory,
        RouteLookup = _ => null,
        NextHopResolver = (_, _) => new Netconsole.Resolution.NextHopAnswer(null, ""),
    });

    [Fact]
    public void Records_waiting_are_in_one_spool_file_of_this_process_which_goes_once_they_are_sent()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(Options());
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        SpoolFiles().Should().BeEmpty("nothing waits");

        Watcher.Unregister("veth0");
        Settle();
        Send(Manager, 1, 2, 3);
        string file = SpoolFiles().Should().ContainSingle().Subject;
        Path.GetFileName(file).Should().StartWith("spooled-").And.Contain($".{Environment.ProcessId}-");

        Register("veth0");
        Settle();
        WaitUntil(() => target.GetStatistics().RecordsReplayed == 3, "the three records are replayed");
        SpoolFiles().Should().BeEmpty("nothing waits any more");
        Datagrams(Factory.Last).Should().Equal("14,1,1001,-;r1\n", "14,2,1002,-;r2\n", "14,3,1003,-;r3\n");
    }

    [Fact]
    public void The_next_manager_of_the_target_sends_what_the_last_one_left_first_marked_with_its_pid_then_its_own()
    {
        LeaveThreeRecordsInTheSpool();
        SpoolFiles().Should().ContainSingle("a manager disposed while records wait leaves them for the next process");

        var factory = new FakeTransportFactory();
        using TargetManager next = NextManager(factory);
        Register("veth0");
        NetconsoleTarget target = next.Add(Options());
        next.Enable(target.Name).IsEnabled.Should().BeTrue();
        WaitUntil(() => target.GetStatistics().RecordsReplayed == 3, "the spooled records are replayed");
        Send(next, 10);

        int pid = Environment.ProcessId;
        Datagrams(factory.Last).Should().Equal(
            $"14,1,1001,-;r1\n replayed_from_pid={pid}\n",
            $"14,2,1002,-;r2\n replayed_from_pid={pid}\n",
            $"14,3,1003,-;r3\n replayed_from_pid={pid}\n",
            "14,10,1010,-;r10\n");
        TargetStatistics s = target.GetStatistics();
        s.RecordsFromSpool.Should().Be(3);
        s.RecordsReplayed.Should().Be(3);
        s.RecordsSent.Should().Be(1);
        s.SpoolErrors.Should().Be(0);
        (s.RecordsSent + s.RecordsReplayed + s.RecordsDropped + s.RecordsBuffered).Should().Be(1 + s.RecordsFromSpool, "offered + from spool = sent + replayed + dropped + buffered");
        SpoolFiles().Should().BeEmpty("the earlier file is deleted once its records are in this process's care, and this one's once they went");
    }

    [Fact]
    public void A_basic_format_record_from_the_spool_goes_as_it_was_without_a_line()
    {
        LeaveThreeRecordsInTheSpool(extended: false);

        var factory = new FakeTransportFactory();
        using TargetManager next = NextManager(factory);
        Register("veth0");
        NetconsoleTarget target = next.Add(Options(extended: false));
        next.Enable(target.Name).IsEnabled.Should().BeTrue();
        WaitUntil(() => target.GetStatistics().RecordsReplayed == 3, "the spooled records are replayed");

        Datagrams(factory.Last).Should().Equal("r1\n", "r2\n", "r3\n");
    }

    [Fact]
    public void A_target_of_another_name_leaves_the_spool_alone()
    {
        LeaveThreeRecordsInTheSpool();

        var factory = new FakeTransportFactory();
        using TargetManager next = NextManager(factory);
        Register("veth0");
        NetconsoleTargetOptions other = Options();
        other.Name = "other";
        NetconsoleTarget target = next.Add(other);
        next.Enable(target.Name).IsEnabled.Should().BeTrue();
        Send(next, 10);

        Datagrams(factory.Last).Should().Equal("14,10,1010,-;r10\n");
        target.GetStatistics().RecordsFromSpool.Should().Be(0);
        SpoolFiles().Should().ContainSingle("it is the spool of the target named spooled");
    }

    [Fact]
    public void A_disabled_target_takes_nothing_from_the_spool_until_it_is_enabled()
    {
        LeaveThreeRecordsInTheSpool();

        var factory = new FakeTransportFactory();
        using TargetManager next = NextManager(factory);
        Register("veth0");
        NetconsoleTarget target = next.Add(Options());
        target.GetStatistics().RecordsFromSpool.Should().Be(0, "a target added is disabled: it sends nothing, so it takes nothing");
        SpoolFiles().Should().ContainSingle();

        next.Enable(target.Name).IsEnabled.Should().BeTrue();
        WaitUntil(() => target.GetStatistics().RecordsReplayed == 3, "enabled, it replays the spool");
    }

    [Fact]
    public void The_operators_disable_drops_what_waits_and_deletes_the_spool()
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(Options());
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        Watcher.Unregister("veth0");
        Settle();
        Send(Manager, 1, 2);
        SpoolFiles().Should().ContainSingle();

        Manager.Disable(target.Name);

        SpoolFiles().Should().BeEmpty("the operator's disable wins: nothing is sent later, by this process or the next");
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(2);
    }

    [Fact]
    public void A_spool_that_cannot_be_written_is_counted_and_the_records_still_go_out_from_memory()
    {
        string notADirectory = Path.Combine(_directory, "a-file");
        File.WriteAllText(notADirectory, "in the way");
        Register("veth0");
        NetconsoleTargetOptions options = Options();
        options.SpoolDirectory = notADirectory;
        NetconsoleTarget target = Manager.Add(options);
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        Watcher.Unregister("veth0");
        Settle();

        Send(Manager, 1, 2);

        target.GetStatistics().SpoolErrors.Should().Be(1, "the first record could not be spooled; no further try until nothing waits");
        Register("veth0");
        Settle();
        WaitUntil(() => target.GetStatistics().RecordsReplayed == 2, "the records are replayed from memory");
        Datagrams(Factory.Last).Should().Equal("14,1,1001,-;r1\n", "14,2,1002,-;r2\n");
    }

    [Fact]
    public void A_spool_directory_needs_the_replay_buffer()
    {
        NetconsoleTargetOptions options = Options();
        options.ReplayBufferMaxRecords = 0;

        Action validate = options.Validate;

        validate.Should().Throw<NetconsoleConfigurationException>().WithMessage("*SpoolDirectory*replay buffer*off*");
    }

    [Fact]
    public void A_relative_spool_directory_is_made_absolute_when_set()
    {
        var options = new NetconsoleTargetOptions { SpoolDirectory = "spool" };

        options.SpoolDirectory.Should().Be(Path.Combine(Environment.CurrentDirectory, "spool"));
        new NetconsoleTargetOptions { SpoolDirectory = "" }.SpoolDirectory.Should().BeNull();
    }

    void IDisposable.Dispose()
    {
        Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
