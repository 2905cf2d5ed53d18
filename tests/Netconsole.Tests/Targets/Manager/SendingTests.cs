using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Targets.Manager;

/// <summary>Send goes to every enabled target; everything else is a counted drop, never an exception.</summary>
public sealed class SendingTests : ManagerTestBase
{

    private NetconsoleTarget EnabledOnVeth0(NetconsoleTargetOptions? options = null)
    {
        Register("veth0");
        NetconsoleTarget target = Manager.Add(options ?? ByName("veth0"));
        Manager.Enable(target.Name).IsEnabled.Should().BeTrue();
        return target;
    }

    /// <summary>A target without a replay buffer: it drops what it cannot send at once, as the kernel does (ReplayTests covers the buffer).</summary>
    private static NetconsoleTargetOptions WithoutReplay()
    {
        NetconsoleTargetOptions options = ByName("veth0");
        options.ReplayBufferMaxRecords = 0;
        return options;
    }

    private static string Payload(byte[] frame) => Encoding.UTF8.GetString(frame, Ipv4Headers, frame.Length - Ipv4Headers);

    [Fact]
    public void An_enabled_target_injects_the_record_in_one_frame_to_broadcast_from_the_device()
    {
        NetconsoleTarget target = EnabledOnVeth0();

        Manager.Send(NetconsoleRecord.FromString(6, "hello"));

        byte[] frame = Factory.Last.Frames.Should().ContainSingle().Subject;
        frame.AsSpan(0, 6).ToArray().Should().Equal(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
        frame.AsSpan(6, 6).ToArray().Should().Equal(FakeTransportFactory.TransportMac.GetAddressBytes());
        frame.AsSpan(26, 4).ToArray().Should().Equal(Local.GetAddressBytes(), "the device's first IPv4 address is the source");
        frame.AsSpan(30, 4).ToArray().Should().Equal(Remote.GetAddressBytes());
        Payload(frame).Should().Be("hello\n");
        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsSent.Should().Be(1);
        statistics.DatagramsSent.Should().Be(1);
        statistics.RecordsDropped.Should().Be(0);
    }

    [Fact]
    public void The_remote_mac_and_local_address_of_the_options_are_used_when_set()
    {
        var remoteMac = PhysicalAddress.Parse("12-34-56-78-9A-BC");
        NetconsoleTargetOptions options = ByName("veth0");
        options.RemoteMac = remoteMac;
        options.LocalAddress = IPAddress.Parse("192.0.2.77");
        EnabledOnVeth0(options);

        Manager.Send(NetconsoleRecord.FromString(6, "hello"));

        byte[] frame = Factory.Last.Frames.Single();
        frame.AsSpan(0, 6).ToArray().Should().Equal(remoteMac.GetAddressBytes());
        frame.AsSpan(26, 4).ToArray().Should().Equal(192, 0, 2, 77);
    }

    [Fact]
    public void Every_target_gets_every_record()
    {
        Register("veth0");
        Register("veth1", MacB);
        NetconsoleTarget a = Manager.Add(ByName("veth0", "a"));
        NetconsoleTarget b = Manager.Add(ByName("veth1", "b"));
        Manager.Enable("a");
        Manager.Enable("b");

        SendRecords(3);

        a.GetStatistics().RecordsSent.Should().Be(3);
        b.GetStatistics().RecordsSent.Should().Be(3);
        Factory.Opened.Should().OnlyContain(t => t.Frames.Count == 3);
    }

    [Fact]
    public void Records_on_a_disabled_target_are_counted_as_dropped()
    {
        NetconsoleTarget target = Manager.Add(ByName("veth0"));

        SendRecords(2);

        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsDropped.Should().Be(2);
        statistics.RecordsDroppedByReason[TargetDropReason.Disabled].Should().Be(2);
    }

    [Fact]
    public void Without_a_replay_buffer_records_on_a_deactivated_target_are_counted_as_dropped()
    {
        NetconsoleTarget target = EnabledOnVeth0(WithoutReplay());
        Watcher.Unregister("veth0");
        Settle();

        SendRecords(3);

        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsDropped.Should().Be(3);
        statistics.RecordsDroppedByReason[TargetDropReason.Deactivated].Should().Be(3);
        statistics.RecordsSent.Should().Be(0);
    }

    [Fact]
    public void Without_a_replay_buffer_device_down_send_errors_are_counted_as_device_down_drops_and_the_target_stays_enabled()
    {
        NetconsoleTarget target = EnabledOnVeth0(WithoutReplay());
        Factory.Last.Fail = FrameTransportError.DeviceDown;

        SendRecords(2);
        Settle();

        TargetStatistics statistics = target.GetStatistics();
        statistics.State.Should().Be(TargetState.Enabled);
        statistics.RecordsDroppedByReason[TargetDropReason.DeviceDown].Should().Be(2);
        statistics.TransmitErrors.Should().Be(2);

        Factory.Last.Fail = null;
        SendRecords(1);
        target.GetStatistics().RecordsSent.Should().Be(1);
    }

    [Fact]
    public void A_device_gone_send_error_deactivates_the_target()
    {
        NetconsoleTarget target = EnabledOnVeth0(WithoutReplay());
        Factory.Last.Fail = FrameTransportError.DeviceGone;

        SendRecords(2);
        Settle();

        target.State.Should().Be(TargetState.Deactivated);
        target.StateReason.Should().Be("device veth0 gone: fake DeviceGone");
        Factory.Last.IsDisposed.Should().BeTrue();
        TargetStatistics statistics = target.GetStatistics();
        (statistics.RecordsDroppedByReason[TargetDropReason.DeviceGone] + statistics.RecordsDroppedByReason[TargetDropReason.Deactivated]).Should().Be(2);
        statistics.RecordsDroppedByReason[TargetDropReason.DeviceGone].Should().BeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public void A_target_deactivated_by_a_dead_transport_resumes_when_the_device_comes_back()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Factory.Last.Fail = FrameTransportError.DeviceGone;
        SendRecords(1);
        Settle();

        Watcher.Unregister("veth0");
        Register("veth0");
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        SpinWait.SpinUntil(() => target.GetStatistics().RecordsBuffered == 0, Timeout).Should().BeTrue("the record the dead transport refused is replayed");
        SendRecords(1);
        target.GetStatistics().RecordsSent.Should().Be(1);
        target.GetStatistics().RecordsReplayed.Should().Be(1);
    }

    [Fact]
    public void Other_transport_errors_are_counted_as_transmit_errors_and_the_target_stays_enabled()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Factory.Last.Fail = FrameTransportError.FrameTooLong;

        SendRecords(1);
        Settle();

        target.State.Should().Be(TargetState.Enabled);
        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.TransmitError].Should().Be(1);
    }

    [Fact]
    public void An_unexpected_exception_is_counted_never_thrown()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        Factory.Last.ThrowOnSend = new InvalidOperationException("transport bug");

        FluentActions.Invoking(() => SendRecords(1)).Should().NotThrow();

        target.GetStatistics().RecordsDroppedByReason[TargetDropReason.InternalError].Should().Be(1);
    }

    [Fact]
    public void A_record_that_becomes_a_continued_group_shifts_the_targets_later_sequence_numbers()
    {
        NetconsoleTargetOptions options = ByName("veth0");
        options.Extended = true;
        EnabledOnVeth0(options);
        var big = new NetconsoleRecord(6, Encoding.UTF8.GetBytes(new string('a', 20_000))) { Sequence = 10 };
        int used = new RecordFormatter(options.ToRecordFormat()).Format(big).SequenceNumbersUsed;
        used.Should().BeGreaterThan(1);

        Manager.Send(big);
        Manager.Send(NetconsoleRecord.FromString(6, "next") with { Sequence = 11 });

        string last = Payload(Factory.Last.Frames[^1]);
        last.Should().StartWith($"14,{10 + used},").And.EndWith(";next\n");
    }

    [Fact]
    public void TrySend_sends_to_that_target_only_and_says_it_went_out()
    {
        NetconsoleTarget target = EnabledOnVeth0();
        NetconsoleTarget other = Manager.Add(ByName("veth0", name: "other"));

        target.TrySend(NetconsoleRecord.FromString(6, "only here"), out _).Should().BeTrue();

        Payload(Factory.Last.Frames.Should().ContainSingle().Subject).Should().Be("only here\n");
        target.GetStatistics().RecordsSent.Should().Be(1);
        (other.GetStatistics().RecordsSent + other.GetStatistics().RecordsDropped).Should().Be(0, "the record was not offered to the other target");
    }

    [Theory]
    [InlineData(null, TargetDropReason.Disabled)]
    [InlineData(FrameTransportError.DeviceDown, TargetDropReason.DeviceDown)]
    [InlineData(FrameTransportError.FrameTooLong, TargetDropReason.TransmitError)]
    public void TrySend_says_why_a_record_was_dropped_and_counts_it_under_that_reason(FrameTransportError? error, TargetDropReason expected)
    {
        NetconsoleTarget target;
        if (error is { } failure)
        {
            target = EnabledOnVeth0(WithoutReplay());
            Factory.Last.Fail = failure;
        }
        else
        {
            target = Manager.Add(ByName("veth0"));
        }

        target.TrySend(NetconsoleRecord.FromString(6, "lost"), out TargetDropReason reason).Should().BeFalse();

        reason.Should().Be(expected);
        TargetStatistics statistics = target.GetStatistics();
        statistics.RecordsDroppedByReason[expected].Should().Be(1);
        statistics.RecordsDropped.Should().Be(1);
    }

    [Fact]
    public void Statistics_print_as_one_readable_line_without_the_reasons_that_did_not_happen()
    {
        NetconsoleTarget target = EnabledOnVeth0(WithoutReplay());
        SendRecords(2);
        Factory.Last.Fail = FrameTransportError.DeviceDown;
        SendRecords(1, firstSequence: 3);

        target.GetStatistics().ToString().Should().Be(
            "Enabled, sent 2 records (2 datagrams), replayed 0, buffered 0, dropped 1 (DeviceDown 1), transmit errors 1, resumes 0, next-hop checks 0 (0 changed)");
    }

    [Theory]
    [InlineData(false, 100)]
    [InlineData(true, 100)]
    [InlineData(true, 5000)]
    public void Sending_allocates_nothing_per_record_in_steady_state(bool extended, int textBytes)
    {
        Factory.KeepFrames = false;
        NetconsoleTargetOptions options = ByName("veth0");
        options.Extended = extended;
        EnabledOnVeth0(options);
        var record = new NetconsoleRecord(6, Encoding.UTF8.GetBytes(new string('a', textBytes)))
        {
            Dictionary = [new("CATEGORY", "Shop.Orders")],
        };
        for (int i = 0; i < 100; i++)
        {
            Manager.Send(record with { Sequence = (ulong)i });
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 100; i < 1100; i++)
        {
            Manager.Send(record with { Sequence = (ulong)i });
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0, "the send path (offer, format, frame, transport, next-hop due check) reuses its buffers");
        Factory.Last.Sent.Should().BeGreaterThanOrEqualTo(1100);
    }
}
