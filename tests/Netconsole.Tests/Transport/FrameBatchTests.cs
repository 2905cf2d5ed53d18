using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Transport;

namespace Netconsole.Tests.Transport;

// IFrameTransport.SendBatch's default implementation (a Send per frame), against a fake transport
// that fails the frame it is told to.
public class FrameBatchTests
{
    private static readonly byte[][] Frames = [Frame(1, 20), Frame(2, 14), Frame(3, 60)];

    [Fact]
    public void Every_frame_is_sent_in_order_and_the_count_is_returned()
    {
        var transport = new FailingTransport();

        int sent = Send(transport, Frames);

        sent.Should().Be(3);
        transport.Sent.Should().HaveCount(3);
        transport.Sent[0].Should().Equal(Frames[0]);
        transport.Sent[1].Should().Equal(Frames[1]);
        transport.Sent[2].Should().Equal(Frames[2]);
    }

    [Fact]
    public void When_the_first_frame_fails_its_error_is_thrown_and_no_later_frame_is_tried()
    {
        var down = new FrameTransportException(FrameTransportError.DeviceDown, "fake0", "down");
        var transport = new FailingTransport { FailAt = 0, Failure = down };

        FrameTransportException thrown = Assert.Throws<FrameTransportException>(() => Send(transport, Frames));

        thrown.Should().BeSameAs(down);
        transport.Attempts.Should().Be(1);
        transport.Sent.Should().BeEmpty();
    }

    [Fact]
    public void When_a_later_frame_fails_the_frames_before_it_are_counted_and_no_later_frame_is_tried()
    {
        var transport = new FailingTransport { FailAt = 1, Failure = new FrameTransportException(FrameTransportError.Other, "fake0", "ENOBUFS") };

        int sent = Send(transport, Frames);

        sent.Should().Be(1);
        transport.Attempts.Should().Be(2);
        transport.Sent.Should().ContainSingle().Which.Should().Equal(Frames[0]);
    }

    [Fact]
    public void The_frame_that_failed_is_the_first_of_the_next_batch_and_its_error_is_thrown_there()
    {
        var gone = new FrameTransportException(FrameTransportError.DeviceGone, "fake0", "gone");
        var transport = new FailingTransport { FailAt = 1, Failure = gone, FailFromThenOn = true };
        int sent = Send(transport, Frames);

        FrameTransportException thrown = Assert.Throws<FrameTransportException>(() => Send(transport, Frames[sent..]));

        thrown.Should().BeSameAs(gone);
    }

    [Fact]
    public void An_empty_batch_sends_nothing_and_returns_0()
    {
        var transport = new FailingTransport();

        ((IFrameTransport)transport).SendBatch([], []).Should().Be(0);
        transport.Attempts.Should().Be(0);
    }

    [Theory]
    [InlineData(new[] { 20, 13 })] // shorter than an Ethernet header
    [InlineData(new[] { 20, 14, 61 })] // one byte more than the frames hold
    public void A_batch_that_is_not_well_formed_is_refused_before_any_frame_is_sent(int[] lengths)
    {
        var transport = new FailingTransport();
        byte[] batch = [.. Frames.SelectMany(f => f)];

        Assert.Throws<ArgumentException>(() => ((IFrameTransport)transport).SendBatch(batch, lengths));

        transport.Attempts.Should().Be(0);
    }

    private static int Send(IFrameTransport transport, byte[][] frames) =>
        transport.SendBatch([.. frames.SelectMany(f => f)], [.. frames.Select(f => f.Length)]);

    private static byte[] Frame(byte marker, int length) => [.. Enumerable.Repeat(marker, length)];

    // Implements Send only: SendBatch is the interface's default.
    private sealed class FailingTransport : IFrameTransport
    {
        private int _attempts;

        /// <summary>The attempt (0 for the first) that fails, or -1.</summary>
        public int FailAt { get; init; } = -1;

        public bool FailFromThenOn { get; init; }

        public FrameTransportException? Failure { get; init; }

        public List<byte[]> Sent { get; } = [];

        public int Attempts => _attempts;

        public string DeviceName => "fake0";

        public PhysicalAddress DeviceMac => PhysicalAddress.None;

        public bool IsLoopback => false;

        public void EnsureCanReach(IPAddress remoteAddress)
        {
        }

        public void Send(ReadOnlySpan<byte> frame)
        {
            int attempt = _attempts++;
            if (attempt == FailAt || (FailFromThenOn && FailAt >= 0 && attempt > FailAt))
            {
                throw Failure!;
            }

            Sent.Add(frame.ToArray());
        }

        public IFrameCapture? OpenCapture() => null;

        public void Dispose()
        {
        }
    }
}
