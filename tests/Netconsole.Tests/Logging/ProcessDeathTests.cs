using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Logging.ProcessDeath;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Logging;

/// <summary>
/// CaptureProcessDeath's parts without a death (issue 21): the shared ring (what a slot keeps, what
/// it cuts, what a lap overwrites), the settings passed to the watchdog, the death record's text,
/// the configuration key, and a provider that starts its watchdog and ends it on disposal.
/// The deaths themselves: Integration/ProcessDeathLabTests.
/// </summary>
public sealed unsafe class ProcessDeathTests
{
    private static DeathRing NewRing() => new((byte*)NativeMemory.AllocZeroed(DeathRing.TotalSize)); // a test's: never freed

    private static void Write(DeathRing ring, uint position, string message, Exception? exception = null, string? threadName = "worker") =>
        ring.Write(position, 6, 1234, 42, "Started", "MyApp.Orders", 3, 17, threadName, message, exception);

    [Fact]
    public void A_slot_keeps_the_record_queued_at_its_position()
    {
        DeathRing ring = NewRing();

        Write(ring, 5, "order 7 accepted");

        ring.TryRead(5, out RingRecord record).Should().BeTrue();
        record.Should().Be(new RingRecord(6, 1234, 42, "Started", "MyApp.Orders", 3, 17, "worker", "order 7 accepted", 0, 16));
        record.FullText.Should().Be("order 7 accepted");
        ring.TryRead(4, out _).Should().BeFalse("nothing was queued at 4");
        ring.TryRead(5 + DeathRing.SlotCount, out _).Should().BeFalse("the slot holds position 5, not the one a lap later");
    }

    [Fact]
    public void A_record_without_a_thread_name_reads_back_without_one()
    {
        DeathRing ring = NewRing();

        Write(ring, 0, "text", threadName: null);

        ring.TryRead(0, out RingRecord record).Should().BeTrue();
        record.ThreadName.Should().BeNull();
        record.Text.Should().Be("text");
    }

    [Fact]
    public void A_long_text_is_cut_to_the_slot_and_marked_with_what_was_left_out()
    {
        DeathRing ring = NewRing();
        string message = new('x', 2000);

        Write(ring, 9, message);

        ring.TryRead(9, out RingRecord record).Should().BeTrue();
        int kept = DeathRing.SlotChars - "MyApp.Orders".Length - "worker".Length - "Started".Length;
        record.Text.Should().Be(new string('x', kept));
        record.FullText.Should().Be(new string('x', kept) + $" [+{2000 - kept} chars]");
    }

    [Fact]
    public void An_exception_keeps_its_type_and_message_not_its_stack_trace()
    {
        DeathRing ring = NewRing();

        Write(ring, 1, "payment failed", new InvalidOperationException("card declined"));

        ring.TryRead(1, out RingRecord record).Should().BeTrue();
        record.FullText.Should().Be("payment failed\nSystem.InvalidOperationException: card declined");
        (record.Flags & DeathRing.FlagException).Should().NotBe(0);
    }

    [Fact]
    public void A_record_a_lap_later_takes_the_slot_and_the_earlier_one_is_gone()
    {
        DeathRing ring = NewRing();

        Write(ring, 3, "first lap");
        Write(ring, 3 + DeathRing.SlotCount, "second lap");

        ring.TryRead(3, out _).Should().BeFalse();
        ring.TryRead(3 + DeathRing.SlotCount, out RingRecord record).Should().BeTrue();
        record.Text.Should().Be("second lap");
    }

    [Fact]
    public void The_newest_position_is_found_across_the_32_bit_wrap()
    {
        DeathRing ring = NewRing();
        uint start = uint.MaxValue - 2;
        for (uint i = 0; i < 6; i++)
        {
            Write(ring, unchecked(start + i), $"record {i}");
        }

        ring.TryFindNewest(start, out uint newest).Should().BeTrue();
        newest.Should().Be(2u, "positions compare by wrapping difference");
        NewRing().TryFindNewest(0, out _).Should().BeFalse("an empty ring has no newest");
    }

    [Fact]
    public void What_the_sender_publishes_reads_back()
    {
        DeathRing ring = NewRing();
        ring.Initialize("facility=1\n"u8);

        ring.PublishSkew(1, 4);
        ring.PublishSent(200, 5000);
        ring.PublishSequence(5001);

        ring.IsValid.Should().BeTrue();
        ring.SentPosition.Should().Be(200);
        ring.NextSequence.Should().Be(5001);
        ring.Skew(1).Should().Be(4);
        ring.ReadSettings().Should().Be("facility=1\n");
        ring.ClearSettings();
        ring.ReadSettings().Should().BeEmpty("a signing secret stays no longer than the watchdog's start");
    }

    [Fact]
    public void The_watchdog_marks_itself_ready_only_while_the_application_waits()
    {
        DeathRing ring = NewRing();
        ring.Initialize([]);
        ring.TryMarkReady().Should().BeTrue();
        ring.State.Should().Be(DeathRing.StateReady);

        DeathRing given = NewRing();
        given.Initialize([]);
        given.State = DeathRing.StateCleanExit; // the application gave up waiting
        given.TryMarkReady().Should().BeFalse();
        given.State.Should().Be(DeathRing.StateCleanExit);
    }

    [Fact]
    public void The_settings_carry_every_option_that_shapes_a_frame_including_the_signing_key()
    {
        byte[] secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var target = new NetconsoleTargetOptions
        {
            Name = "app=1 %",
            DeviceName = "veth0",
            LocalAddress = IPAddress.Parse("192.0.2.1"),
            LocalPort = 7001,
            RemoteAddress = IPAddress.Parse("2001:db8::2"),
            RemotePort = 6667,
            RemoteMac = PhysicalAddress.Parse("02-00-00-00-00-02"),
            Extended = true,
            PrependRelease = true,
            Release = "6.4.0-test",
            Sysdata = SysdataFields.Cpu | SysdataFields.TaskName,
            Facility = 16,
            MaxDatagramsPerSecond = 1000,
            MaxDatagramBurst = 20,
            SigningKey = new RecordSigningKey("logs-2026", secret),
        };
        target.Userdata.Add("region", "eu-west 1:a=b");
        var settings = new WatchdogSettings { Facility = 3, WantsDictionary = true, FlushTimeout = TimeSpan.FromMilliseconds(1500) };
        settings.Targets.Add(target);

        WatchdogSettings read = WatchdogSettings.Parse(settings.Write());

        read.Facility.Should().Be(3);
        read.WantsDictionary.Should().BeTrue();
        read.FlushTimeout.Should().Be(TimeSpan.FromMilliseconds(1500));
        NetconsoleTargetOptions copy = read.Targets.Should().ContainSingle().Subject;
        copy.ToString().Should().Be(target.ToString());
        copy.Name.Should().Be("app=1 %");
        copy.Release.Should().Be("6.4.0-test");
        copy.Sysdata.Should().Be(SysdataFields.Cpu | SysdataFields.TaskName);
        copy.Facility.Should().Be(16);
        copy.MaxDatagramsPerSecond.Should().Be(1000);
        copy.MaxDatagramBurst.Should().Be(20);
        copy.Userdata.Select(p => $"{p.Key}={p.Value}").Should().Equal("region=eu-west 1:a=b");
        copy.SigningKey!.KeyId.Should().Be("logs-2026");
        copy.SigningKey.Secret.ToArray().Should().Equal(secret);
    }

    [Theory]
    [InlineData(9, "netconsole: process 4242 (myapp) was killed by signal 9 (SIGKILL), possibly by the OOM killer; no core dump. The watchdog sent the 12 records it had queued and not sent.")]
    [InlineData(6 | 0x80, "netconsole: process 4242 (myapp) was killed by signal 6 (SIGABRT); core dumped. The watchdog sent the 12 records it had queued and not sent.")]
    [InlineData(11, "netconsole: process 4242 (myapp) was killed by signal 11 (SIGSEGV); no core dump. The watchdog sent the 12 records it had queued and not sent.")]
    [InlineData(3 << 8, "netconsole: process 4242 (myapp) exited with code 3 without shutting its logger down. The watchdog sent the 12 records it had queued and not sent.")]
    public void The_death_record_names_the_signal_or_the_exit_code(int waitStatus, string text) =>
        new DeathCause(waitStatus).Describe(4242, "myapp", 12, 0).Should().Be(text);

    [Fact]
    public void Without_an_exit_status_the_death_record_says_the_cause_is_unknown_and_counts_what_was_lost() =>
        new DeathCause(null).Describe(4242, null, 1, 3).Should().Be(
            "netconsole: process 4242 died; the cause is unknown (the kernel gave no exit status: Linux 6.15 or later reports it through PIDFD_INFO_EXIT). "
            + "The watchdog sent the 1 record it had queued and not sent; 3 queued records were no longer in its ring.");

    [Fact]
    public void The_configuration_key_CaptureProcessDeath_binds()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""{ "CaptureProcessDeath": true }""")))
            .Build();
        var options = new NetconsoleLoggerOptions();

        new NetconsoleLoggerConfigureOptions(configuration).Configure(options);

        options.CaptureProcessDeath.Should().BeTrue();
        options.ConfigurationWarnings.Should().BeEmpty("the key is known");
    }

    [SkippableFact]
    public void A_provider_starts_its_watchdog_and_disposal_ends_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the watchdog is Linux only");
        using var harness = new LoggingHarness();
        var options = new NetconsoleLoggerOptions { CaptureProcessDeath = true, ManagerOptions = harness.ManagerOptions, StandardError = () => harness.StandardError };
        options.Targets.Add("+@/veth0,@192.0.2.2/");
        var provider = new NetconsoleLoggerProvider(options);
        int watchdog;
        try
        {
            provider.DeathWatch.Should().NotBeNull("the watchdog started (its diagnostics: {0})", string.Join("; ", harness.StandardErrorLines()));
            watchdog = provider.DeathWatch!.WatchdogProcessId;
            File.ReadAllText($"/proc/{watchdog}/cmdline").Should().Contain(ProcessDeathWatch.WatchdogAssembly)
                .And.NotContain("192.0.2.2", "the targets go through the shared memory, never the command line");
            Directory.GetFiles("/dev/shm", $"netconsole-watchdog-{Environment.ProcessId}-*").Should().BeEmpty("the shared file is unlinked once mapped");
        }
        finally
        {
            provider.Dispose();
        }

        File.Exists($"/proc/{watchdog}/stat").Should().BeFalse("disposal ended the watchdog and reaped it");
    }
}
