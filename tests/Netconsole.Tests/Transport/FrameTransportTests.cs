using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Transport;

// Integration tests: each runs in the private network namespace, on lo or on a veth pair it
// creates and deletes, once through libpcap and once through a packet socket: the two
// transports must behave alike (issue 19).
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // the lab
public class FrameTransportTests
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(3);

    public static TheoryData<string> Transports => [.. LabTransports.Kinds];

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_frame_sent_on_a_veth_arrives_on_its_peer_byte_for_byte(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, "udp port 6666");
        var builder = new FrameBuilder(
            transport.DeviceMac, PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"),
            IPAddress.Parse("192.0.2.1"), 6665, IPAddress.Parse("192.0.2.2"), 6666);
        var frame = new byte[builder.MaxFrameLength];
        int length = builder.Build("6,1,0,-;over the veth\n"u8, frame);

        transport.Send(frame.AsSpan(0, length));

        capture.Next(Arrival).Should().Equal(frame[..length]);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void The_transport_s_capture_holds_an_ARP_frame_that_arrives_on_the_device(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using IFrameTransport peer = LabTransports.Open(kind, veth.B);
        using IFrameCapture capture = transport.OpenCapture()!;
        byte[] reply = Netconsole.Tests.Resolution.ArpFramesTests.Reply(
            peer.DeviceMac, IPAddress.Parse("192.0.2.2"), transport.DeviceMac, IPAddress.Parse("192.0.2.1"));

        peer.Send(reply);

        var buffer = new byte[2048];
        int length = capture.Receive(buffer, Arrival);
        buffer[..length].Should().Equal(reply);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void The_transport_s_capture_leaves_out_frames_that_are_neither_ARP_nor_ICMPv6(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using IFrameTransport peer = LabTransports.Open(kind, veth.B);
        using IFrameCapture capture = transport.OpenCapture()!;
        byte[] udp = TestFrames.Experimental(peer.DeviceMac, 120); // another EtherType: not asked for
        byte[] reply = Netconsole.Tests.Resolution.ArpFramesTests.Reply(
            peer.DeviceMac, IPAddress.Parse("192.0.2.2"), transport.DeviceMac, IPAddress.Parse("192.0.2.1"));

        peer.Send(udp);
        peer.Send(reply);

        var buffer = new byte[2048];
        int length = capture.Receive(buffer, Arrival);
        buffer[..length].Should().Equal(reply, "the frame before it was filtered out by the kernel");
        capture.Receive(buffer, TimeSpan.Zero).Should().Be(0);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_veth_transport_describes_its_device(string kind)
    {
        using VethPair veth = VethPair.Create();

        using IFrameTransport transport = LabTransports.Open(kind, veth.A);

        transport.DeviceName.Should().Be(veth.A);
        transport.DeviceMac.Should().Be(NetworkDevice.FindByName(veth.A)!.Mac);
        transport.IsLoopback.Should().BeFalse();
        LabTransports.MaxFrameLength(transport).Should().Be(1514, "a veth's MTU is 1500, plus the 14-byte Ethernet header");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Lo_is_accepted_as_an_Ethernet_loopback_device(string kind)
    {
        Lab.Require();

        using IFrameTransport transport = LabTransports.Open(kind, "lo");

        transport.DeviceName.Should().Be("lo");
        transport.IsLoopback.Should().BeTrue();
        transport.DeviceMac.GetAddressBytes().Should().Equal(0, 0, 0, 0, 0, 0);
        LabTransports.MaxFrameLength(transport).Should().Be(65536 + 14);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Sending_on_a_down_device_fails_with_DeviceDown_and_the_first_send_after_up_succeeds(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        veth.SetDown(veth.A);

        for (int attempt = 0; attempt < 2; attempt++)
        {
            FrameTransportException down = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60));
            down.Error.Should().Be(FrameTransportError.DeviceDown);
            down.IsPermanent.Should().BeFalse();
            down.DeviceName.Should().Be(veth.A);
            down.Message.Should().Contain("is down").And.Contain("send again once the device is up");
        }

        veth.SetUp(veth.A);
        byte[] first = TestFrames.Experimental(transport.DeviceMac, 60);
        transport.Send(first);

        capture.NextEqualTo(first, Arrival).Should().NotBeNull("the first frame after up is sent, not lost to a stale 'Network is down'");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Sending_on_a_deleted_device_fails_with_DeviceGone_for_good(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        veth.Delete();

        FrameTransportException gone = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60));

        gone.Error.Should().Be(FrameTransportError.DeviceGone);
        gone.IsPermanent.Should().BeTrue();
        gone.Message.Should().Contain("went away").And.Contain("open a new one");
        gone.InnerException!.Message.Should().Contain("No such device or address");
        SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60)).Error.Should().Be(FrameTransportError.DeviceGone);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_re_created_device_needs_a_new_transport(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport old = LabTransports.Open(kind, veth.A);
        veth.Delete();
        Lab.Ip("link", "add", veth.A, "type", "veth", "peer", "name", veth.B);
        veth.SetUp(veth.A);
        veth.SetUp(veth.B);

        SendFails(old, TestFrames.Experimental(old.DeviceMac, 60)).Error.Should().Be(FrameTransportError.DeviceGone);

        using IFrameTransport reopened = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        byte[] frame = TestFrames.Experimental(reopened.DeviceMac, 60);
        reopened.Send(frame);
        capture.NextEqualTo(frame, Arrival).Should().NotBeNull();
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Opening_a_missing_device_fails_with_NoSuchDevice_listing_the_devices(string kind)
    {
        Lab.Require();
        string name = Lab.UniqueName("x");

        FrameTransportException missing = OpenFails(kind, name);

        missing.Error.Should().Be(FrameTransportError.NoSuchDevice);
        missing.DeviceName.Should().Be(name);
        missing.Message.Should().Contain($"no network device of that name").And.Contain("Devices: lo");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Opening_a_libpcap_pseudo_device_fails_with_NoSuchDevice(string kind)
    {
        Lab.Require();

        // libpcap lists "any", but it is no network device: it is refused before anything is opened.
        OpenFails(kind, "any").Error.Should().Be(FrameTransportError.NoSuchDevice);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Opening_a_down_device_fails_with_DeviceDown(string kind)
    {
        using VethPair veth = VethPair.Create();
        veth.SetDown(veth.A);

        FrameTransportException down = OpenFails(kind, veth.A);

        down.Error.Should().Be(FrameTransportError.DeviceDown);
        down.Message.Should().Contain($"ip link set {veth.A} up");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Opening_a_device_that_is_not_Ethernet_fails_with_NotEthernet(string kind)
    {
        Lab.Require();
        string tun = Lab.UniqueName("t");
        Lab.Ip("tuntap", "add", "dev", tun, "mode", "tun");
        try
        {
            Lab.Ip("link", "set", tun, "up");

            FrameTransportException notEthernet = OpenFails(kind, tun);

            notEthernet.Error.Should().Be(FrameTransportError.NotEthernet);
            notEthernet.Message.Should().Contain("not an Ethernet device").And.Contain("DLT_EN10MB");
        }
        finally
        {
            Lab.IpQuietly("link", "del", tun);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_frame_of_MTU_plus_14_is_sent_and_one_byte_more_fails_with_FrameTooLong(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);

        FrameTransportException tooLong = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 1515));
        byte[] longest = TestFrames.Experimental(transport.DeviceMac, 1514);
        transport.Send(longest);

        tooLong.Error.Should().Be(FrameTransportError.FrameTooLong);
        tooLong.IsPermanent.Should().BeFalse();
        tooLong.Message.Should().Contain("1515 bytes").And.Contain("at most 1514");
        capture.NextEqualTo(longest, Arrival).Should().NotBeNull();
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_lowered_MTU_is_noticed_when_the_kernel_refuses_a_frame(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        Lab.Ip("link", "set", veth.A, "mtu", "1280");

        FrameTransportException tooLong = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 1514));

        tooLong.Error.Should().Be(FrameTransportError.FrameTooLong);
        tooLong.InnerException!.Message.Should().Contain("Message too long");
        LabTransports.MaxFrameLength(transport).Should().Be(1294);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void A_raised_MTU_is_noticed_before_a_longer_frame_is_refused(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);
        Lab.Ip("link", "set", veth.B, "mtu", "2000");
        Lab.Ip("link", "set", veth.A, "mtu", "2000");
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        byte[] frame = TestFrames.Experimental(transport.DeviceMac, 2014);

        transport.Send(frame);

        LabTransports.MaxFrameLength(transport).Should().Be(2014);
        capture.NextEqualTo(frame, Arrival).Should().NotBeNull();
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Sending_after_Dispose_fails_with_Closed(string kind)
    {
        Lab.Require();
        IFrameTransport transport = LabTransports.Open(kind, "lo");
        transport.Dispose();
        transport.Dispose();

        FrameTransportException closed = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60));

        closed.Error.Should().Be(FrameTransportError.Closed);
        closed.IsPermanent.Should().BeTrue();
        closed.Message.Should().Contain("closed");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void Concurrent_sends_while_another_thread_disposes_only_ever_see_Closed(string kind)
    {
        // On a veth of its own: a flood on lo would stall the captures other tests run on lo.
        using VethPair veth = VethPair.Create();
        IFrameTransport transport = LabTransports.Open(kind, veth.A);
        const int Senders = 4;
        var sent = new int[Senders];
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var sending = new CountdownEvent(Senders);
        var threads = Enumerable.Range(0, Senders).Select(i => new Thread(() =>
        {
            byte[] frame = TestFrames.Experimental(transport.DeviceMac, 100);
            try
            {
                while (true)
                {
                    transport.Send(frame);
                    if (++sent[i] == 1)
                    {
                        sending.Signal();
                    }
                }
            }
            catch (FrameTransportException e) when (e.Error == FrameTransportError.Closed)
            {
                // The only way out.
            }
#pragma warning disable CA1031 // The test collects whatever else happens.
            catch (Exception e)
#pragma warning restore CA1031
            {
                unexpected.Enqueue(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        // Every sender is in its loop, sending, when the transport is disposed under it.
        sending.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue("every sender gets frames out");

        transport.Dispose();

        threads.ForEach(t => t.Join(TimeSpan.FromSeconds(10)).Should().BeTrue());
        unexpected.Should().BeEmpty();
        sent.Should().OnlyContain(n => n > 0);
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void EnsureCanReach_refuses_IPv4_on_lo_and_accepts_IPv6(string kind)
    {
        Lab.Require();
        using IFrameTransport transport = LabTransports.Open(kind, "lo");

        transport.EnsureCanReach(IPAddress.IPv6Loopback);
        FrameTransportException refusal = Assert.Throws<FrameTransportException>(() => transport.EnsureCanReach(IPAddress.Loopback));

        refusal.Message.Should().Contain("never reach local sockets").And.Contain("\"+@/lo,@::1/\"");
    }

    [SkippableTheory]
    [MemberData(nameof(Transports))]
    public void EnsureCanReach_accepts_IPv4_on_a_veth(string kind)
    {
        using VethPair veth = VethPair.Create();
        using IFrameTransport transport = LabTransports.Open(kind, veth.A);

        transport.EnsureCanReach(IPAddress.Parse("192.0.2.2"));
    }

    private static FrameTransportException SendFails(IFrameTransport transport, byte[] frame) =>
        Assert.Throws<FrameTransportException>(() => transport.Send(frame));

    private static FrameTransportException OpenFails(string kind, string name) =>
        Assert.Throws<FrameTransportException>(() => LabTransports.Open(kind, name).Dispose());
}
