using System.Runtime.Versioning;
using Netconsole.Transport;

namespace Netconsole.Tests.Transport;

// IFrameTransport.SendBatch on a real veth, through libpcap (the default implementation: a Send
// per frame) and through a packet socket (sendmmsg): the same frames arrive, the same errors.
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab
public class FrameBatchLabTests
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(3);

    public static TheoryData<string> Transports => [.. LabTransports.Kinds];

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_batch_of_150_frames_arrives_on_the_peer_in_order_byte_for_byte(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter, snapshotLength: 1514);
        // More than one sendmmsg call takes (64), of every length from the shortest to the longest.
        byte[][] frames = [.. Enumerable.Range(0, 150).Select(i => TestFrames.Experimental(transport.DeviceMac, 60 + (i * 97 % 1455)))];
        (byte[] batch, int[] lengths) = Batch(frames);

        int sent = transport.SendBatch(batch, lengths);

        sent.Should().Be(150);
        foreach (byte[] frame in frames)
        {
            capture.Next(Arrival).Should().Equal(frame);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_batch_stops_before_a_frame_longer_than_the_MTU_which_fails_when_it_comes_first(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        byte[] first = TestFrames.Experimental(transport.DeviceMac, 60);
        byte[] tooLong = TestFrames.Experimental(transport.DeviceMac, 1515);
        byte[] last = TestFrames.Experimental(transport.DeviceMac, 1514);
        (byte[] batch, int[] lengths) = Batch(first, tooLong, last);

        int sent = transport.SendBatch(batch, lengths);
        FrameTransportException refused = Assert.Throws<FrameTransportException>(() => transport.SendBatch(batch.AsSpan(60), lengths.AsSpan(1)));
        int rest = transport.SendBatch(batch.AsSpan(60 + 1515), lengths.AsSpan(2));

        sent.Should().Be(1);
        refused.Error.Should().Be(FrameTransportError.FrameTooLong);
        refused.Message.Should().Contain("1515 bytes");
        rest.Should().Be(1);
        capture.Next(Arrival).Should().Equal(first);
        capture.Next(Arrival).Should().Equal(last, "the refused frame never reached the wire");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_frame_the_kernel_refuses_after_the_first_ends_the_batch_and_fails_with_its_reason_when_sent_first(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        // The transport still takes 1514 bytes for the longest frame: only the kernel knows better.
        Lab.Ip("link", "set", veth.A, "mtu", "1280");
        byte[] first = TestFrames.Experimental(transport.DeviceMac, 60);
        byte[] refused = TestFrames.Experimental(transport.DeviceMac, 1514);
        byte[] last = TestFrames.Experimental(transport.DeviceMac, 60);
        (byte[] batch, int[] lengths) = Batch(first, refused, last);

        int sent = transport.SendBatch(batch, lengths);
        FrameTransportException tooLong = Assert.Throws<FrameTransportException>(() => transport.SendBatch(batch.AsSpan(60), lengths.AsSpan(1)));

        sent.Should().Be(1);
        tooLong.Error.Should().Be(FrameTransportError.FrameTooLong);
        tooLong.Message.Should().Contain("1514 bytes");
        LabTransports.MaxFrameLength(transport).Should().Be(1294, "a refusal by the kernel made the transport read the MTU again");
        transport.SendBatch(batch.AsSpan(60 + 1514), lengths.AsSpan(2)).Should().Be(1);
        capture.Next(Arrival).Should().Equal(first);
        capture.Next(Arrival).Should().Equal(last);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_batch_on_a_down_device_fails_with_DeviceDown_and_the_first_batch_after_up_arrives_whole(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        veth.SetDown(veth.A);
        (byte[] whileDown, int[] downLengths) = Batch(TestFrames.Experimental(transport.DeviceMac, 60), TestFrames.Experimental(transport.DeviceMac, 60));

        FrameTransportException down = Assert.Throws<FrameTransportException>(() => transport.SendBatch(whileDown, downLengths));
        veth.SetUp(veth.A);
        byte[][] frames = [TestFrames.Experimental(transport.DeviceMac, 60), TestFrames.Experimental(transport.DeviceMac, 61)];
        (byte[] afterUp, int[] upLengths) = Batch(frames);
        int sent = transport.SendBatch(afterUp, upLengths);

        down.Error.Should().Be(FrameTransportError.DeviceDown);
        down.IsPermanent.Should().BeFalse();
        sent.Should().Be(2, "a stale 'Network is down' is not reported once the device is up");
        capture.Next(Arrival).Should().Equal(frames[0]);
        capture.Next(Arrival).Should().Equal(frames[1]);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_batch_on_a_deleted_device_fails_with_DeviceGone_for_good(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        veth.Delete();
        (byte[] batch, int[] lengths) = Batch(TestFrames.Experimental(transport.DeviceMac, 60), TestFrames.Experimental(transport.DeviceMac, 60));

        FrameTransportException gone = Assert.Throws<FrameTransportException>(() => transport.SendBatch(batch, lengths));
        FrameTransportException again = Assert.Throws<FrameTransportException>(() => transport.SendBatch(batch, lengths));

        gone.Error.Should().Be(FrameTransportError.DeviceGone);
        gone.IsPermanent.Should().BeTrue();
        again.Error.Should().Be(FrameTransportError.DeviceGone);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_batch_after_Dispose_fails_with_Closed(string kind)
    {
        using VethPair veth = VethPair.Create();
        IFrameTransport transport = LabTransports.Open(kind, veth.A);
        transport.Dispose();
        (byte[] batch, int[] lengths) = Batch(TestFrames.Experimental(transport.DeviceMac, 60));

        Assert.Throws<FrameTransportException>(() => transport.SendBatch(batch, lengths)).Error.Should().Be(FrameTransportError.Closed);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_batch_whose_lengths_overrun_its_frames_is_refused_and_nothing_is_sent(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        (byte[] batch, _) = Batch(TestFrames.Experimental(transport.DeviceMac, 60), TestFrames.Experimental(transport.DeviceMac, 60));

        byte[] marker = TestFrames.Experimental(transport.DeviceMac, 60);

        Assert.Throws<ArgumentException>(() => transport.SendBatch(batch, [60, 61]));
        transport.Send(marker);

        capture.Next(Arrival).Should().Equal(marker, "no frame of the refused batch went before it");
    }

    private static (byte[] Batch, int[] Lengths) Batch(params byte[][] frames) =>
        ([.. frames.SelectMany(f => f)], [.. frames.Select(f => f.Length)]);
}
