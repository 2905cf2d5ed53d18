using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Resolution;
using Netconsole.Tests.Transport;
using Netconsole.Transport;

namespace Netconsole.Tests.Resolution;

/// <summary>
/// The ARP / Neighbor Discovery exchange over the transport abstraction, without a device: the
/// requests go out through <see cref="IFrameTransport.Send"/>, the replies come from its capture.
/// </summary>
public sealed class ActiveResolverExchangeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);
    private static readonly PhysicalAddress OurMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress PeerMac = PhysicalAddress.Parse("02-00-5E-10-00-02");
    private static readonly PhysicalAddress OtherMac = PhysicalAddress.Parse("02-00-5E-10-00-03");
    private static readonly IPAddress OursIPv4 = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress PeerIPv4 = IPAddress.Parse("192.0.2.2");
    private static readonly IPAddress OursIPv6 = IPAddress.Parse("2001:db8::1");
    private static readonly IPAddress PeerIPv6 = IPAddress.Parse("2001:db8::2");

    [Fact]
    public void An_arp_reply_in_the_capture_answers_the_request_sent_through_the_transport()
    {
        using var transport = new ScriptedTransport
        {
            // Our own request, another host's reply and unrelated traffic come first: only the peer's reply counts.
            Responder = request =>
            [
                request,
                ArpFramesTests.Reply(OtherMac, IPAddress.Parse("192.0.2.3"), OurMac, OursIPv4),
                new byte[60],
                ArpFramesTests.Reply(PeerMac, PeerIPv4, OurMac, OursIPv4),
            ],
        };

        PhysicalAddress? mac = Resolve(transport, OursIPv4, PeerIPv4, attempts: 3);

        mac.Should().Be(PeerMac);
        transport.Sent.Should().ContainSingle().Which.Should().Equal(ArpFrames.BuildRequest(OurMac, OursIPv4, PeerIPv4));
    }

    [Fact]
    public void A_neighbor_advertisement_in_the_capture_answers_the_solicitation()
    {
        using var transport = new ScriptedTransport
        {
            Responder = _ => [NdpFramesTests.Advertisement(PeerMac, PeerIPv6, OursIPv6)],
        };

        PhysicalAddress? mac = Resolve(transport, OursIPv6, PeerIPv6, attempts: 3);

        mac.Should().Be(PeerMac);
        transport.Sent.Should().ContainSingle().Which.Should().Equal(NdpFrames.BuildSolicitation(OurMac, OursIPv6, PeerIPv6));
    }

    [Fact]
    public void The_second_attempt_is_answered_when_the_first_is_not()
    {
        int requests = 0;
        using var transport = new ScriptedTransport
        {
            Responder = _ => ++requests == 2 ? [ArpFramesTests.Reply(PeerMac, PeerIPv4, OurMac, OursIPv4)] : [],
        };

        Resolve(transport, OursIPv4, PeerIPv4, attempts: 3).Should().Be(PeerMac);
        transport.Sent.Should().HaveCount(2);
    }

    [Fact]
    public void Silence_gives_null_after_one_request_per_attempt_and_the_whole_timeout()
    {
        using var transport = new ScriptedTransport();
        var clock = Stopwatch.StartNew();

        PhysicalAddress? mac = Resolve(transport, OursIPv4, PeerIPv4, attempts: 3);

        mac.Should().BeNull();
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(Timeout * 3);
        transport.Sent.Should().HaveCount(3).And.AllSatisfy(f => f.Should().Equal(ArpFrames.BuildRequest(OurMac, OursIPv4, PeerIPv4)));
    }

    [Fact]
    public void A_send_failure_is_the_transports_exception_not_a_null()
    {
        using var transport = new FailingTransport();
        using var capture = new ScriptedTransport().OpenCapture()!;

        FluentActions.Invoking(() => ActiveResolver.Resolve(transport, capture, OurMac, OursIPv4, PeerIPv4, Timeout, 1))
            .Should().Throw<FrameTransportException>().Which.Error.Should().Be(FrameTransportError.DeviceDown);
    }

    [Fact]
    public void Arguments_are_checked_before_anything_is_sent()
    {
        using var transport = new ScriptedTransport();
        using IFrameCapture capture = transport.OpenCapture()!;
        IPAddress v4 = IPAddress.Parse("192.0.2.1");
        IPAddress v6 = IPAddress.Parse("2001:db8::1");
        IPAddress nobodyV6 = IPAddress.Parse("2001:db8::99");

        FluentActions.Invoking(() => ActiveResolver.Resolve(transport, capture, OurMac, v4, nobodyV6, Timeout, 1))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve(transport, capture, OurMac, v6, nobodyV6, TimeSpan.Zero, 1))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve(transport, capture, OurMac, v6, nobodyV6, Timeout, 0))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ActiveResolver.Resolve(transport, capture, PhysicalAddress.None, v6, nobodyV6, Timeout, 1))
            .Should().Throw<ArgumentException>();
        transport.Sent.Should().BeEmpty();
    }

    private static PhysicalAddress? Resolve(ScriptedTransport transport, IPAddress source, IPAddress target, int attempts)
    {
        using IFrameCapture capture = transport.OpenCapture()!;
        return ActiveResolver.Resolve(transport, capture, OurMac, source, target, Timeout, attempts);
    }

    private sealed class FailingTransport : IFrameTransport
    {
        public string DeviceName => "veth-down";

        public PhysicalAddress DeviceMac => OurMac;

        public bool IsLoopback => false;

        public void EnsureCanReach(IPAddress remoteAddress)
        {
        }

        public void Send(ReadOnlySpan<byte> frame) =>
            throw new FrameTransportException(FrameTransportError.DeviceDown, DeviceName, "the device is down");

        public IFrameCapture? OpenCapture() => null;

        public void Dispose()
        {
        }
    }
}
