using System.Net.NetworkInformation;
using System.Net;
using Netconsole.Resolution;
using Netconsole.Tests.Transport;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Resolution;

/// <summary>
/// The default resolver over the transport abstraction, on an interface index no device has (so
/// the neighbour table knows nothing): ARP through a transport that receives, and what the
/// reason says when the transport cannot.
/// </summary>
public sealed class NextHopTests
{
    private const int NoSuchInterface = int.MaxValue;
    private static readonly PhysicalAddress OurMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress PeerMac = PhysicalAddress.Parse("02-00-5E-10-00-02");
    private static readonly IPAddress Local = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Remote = IPAddress.Parse("192.0.2.2");

    [SkippableFact]
    public void A_recheck_through_a_transport_that_cannot_receive_learns_nothing_and_says_why()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the neighbour table is read through rtnetlink");
        using var transport = new ScriptedTransport(canReceive: false);

        NextHopAnswer answer = NextHop.Default(Query(transport), recheck: true);

        answer.Mac.Should().BeNull();
        answer.Note.Should().Be("next hop 192.0.2.2 could not be re-checked: not in the neighbour table, and ARP is not possible with ScriptedTransport, which cannot receive frames");
        transport.Sent.Should().BeEmpty();
    }

    [SkippableFact]
    public void A_recheck_asks_the_next_hop_through_the_transport()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the neighbour table is read through rtnetlink first");
        using var transport = new ScriptedTransport { Responder = _ => [ArpFramesTests.Reply(PeerMac, Remote, OurMac, Local)] };

        NextHopAnswer answer = NextHop.Default(Query(transport), recheck: true);

        answer.Should().Be(new NextHopAnswer(PeerMac, "next hop 192.0.2.2 is 02:00:5e:10:00:02 (ARP, re-checked)"));
        transport.CapturesOpened.Should().Be(1);
    }

    [SkippableFact]
    public void Setup_through_a_transport_that_cannot_receive_falls_back_to_broadcast_and_says_why()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the neighbour table is read through rtnetlink");
        using var transport = new ScriptedTransport(canReceive: false);

        NextHopAnswer answer = NextHop.Default(Query(transport, IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2")), recheck: false);

        answer.Mac.Should().Be(Ethernet.Broadcast);
        answer.Note.Should().Be("warning: next hop 2001:db8::2 is not in the neighbour table, and neighbour solicitation is not possible with "
            + "ScriptedTransport, which cannot receive frames: sending to broadcast, which switches may drop; give the remote MAC in the target");
    }

    [SkippableFact]
    public void Setup_when_the_capture_needs_libpcap_and_it_is_missing_says_so_instead_of_blaming_the_next_hop()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the neighbour table is read through rtnetlink");
        using var transport = new ScriptedTransport { CaptureFailure = new FrameTransportException(FrameTransportError.LibpcapMissing, "veth-scripted", "libpcap is missing") };

        NextHopAnswer answer = NextHop.Default(Query(transport), recheck: false);

        answer.Mac.Should().Be(Ethernet.Broadcast);
        answer.Note.Should().Be("warning: next hop 192.0.2.2 is not in the neighbour table, and ARP is not possible without libpcap, which captures the replies "
            + "(install libpcap0.8, or libpcap): sending to broadcast, which switches may drop; give the remote MAC in the target");
        transport.Sent.Should().BeEmpty("nothing is asked that no capture could hear");
    }

    private static NextHopQuery Query(ScriptedTransport transport, IPAddress? local = null, IPAddress? remote = null) =>
        new(NoSuchInterface, OurMac, local ?? Local, remote ?? Remote, transport);
}
