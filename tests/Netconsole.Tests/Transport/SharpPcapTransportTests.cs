using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Transport;

// Integration tests: each runs in the private network namespace, on lo or on a veth pair it
// creates and deletes.
[Collection(Netconsole.Tests.Integration.LabTestsRunAlone.Name)]
public class SharpPcapTransportTests
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(3);

    [SkippableFact]
    public void A_frame_sent_on_a_veth_arrives_on_its_peer_byte_for_byte()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
        using var capture = new FrameCapture(veth.B, "udp port 6666");
        var builder = new FrameBuilder(
            transport.DeviceMac, PhysicalAddress.Parse("FF-FF-FF-FF-FF-FF"),
            IPAddress.Parse("192.0.2.1"), 6665, IPAddress.Parse("192.0.2.2"), 6666);
        var frame = new byte[builder.MaxFrameLength];
        int length = builder.Build("6,1,0,-;over the veth\n"u8, frame);

        transport.Send(frame.AsSpan(0, length));

        capture.Next(Arrival).Should().Equal(frame[..length]);
    }

    [SkippableFact]
    public void A_veth_transport_describes_its_device()
    {
        using VethPair veth = VethPair.Create();

        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);

        transport.DeviceName.Should().Be(veth.A);
        transport.DeviceMac.Should().Be(NetworkDevice.FindByName(veth.A)!.Mac);
        transport.IsLoopback.Should().BeFalse();
        transport.MaxFrameLength.Should().Be(1514, "a veth's MTU is 1500, plus the 14-byte Ethernet header");
    }

    [SkippableFact]
    public void Lo_is_accepted_as_an_Ethernet_loopback_device()
    {
        Lab.Require();

        using SharpPcapTransport transport = SharpPcapTransportFactory.Open("lo");

        transport.DeviceName.Should().Be("lo");
        transport.IsLoopback.Should().BeTrue();
        transport.DeviceMac.GetAddressBytes().Should().Equal(0, 0, 0, 0, 0, 0);
        transport.MaxFrameLength.Should().Be(65536 + 14);
    }

    [SkippableFact]
    public void Sending_on_a_down_device_fails_with_DeviceDown_and_the_first_send_after_up_succeeds()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
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

    [SkippableFact]
    public void Sending_on_a_deleted_device_fails_with_DeviceGone_for_good()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
        veth.Delete();

        FrameTransportException gone = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60));

        gone.Error.Should().Be(FrameTransportError.DeviceGone);
        gone.IsPermanent.Should().BeTrue();
        gone.Message.Should().Contain("went away").And.Contain("open a new one");
        gone.InnerException!.Message.Should().Contain("No such device or address");
        SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60)).Error.Should().Be(FrameTransportError.DeviceGone);
    }

    [SkippableFact]
    public void A_re_created_device_needs_a_new_transport()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport old = SharpPcapTransportFactory.Open(veth.A);
        veth.Delete();
        Lab.Ip("link", "add", veth.A, "type", "veth", "peer", "name", veth.B);
        veth.SetUp(veth.A);
        veth.SetUp(veth.B);

        SendFails(old, TestFrames.Experimental(old.DeviceMac, 60)).Error.Should().Be(FrameTransportError.DeviceGone);

        using SharpPcapTransport reopened = SharpPcapTransportFactory.Open(veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        byte[] frame = TestFrames.Experimental(reopened.DeviceMac, 60);
        reopened.Send(frame);
        capture.NextEqualTo(frame, Arrival).Should().NotBeNull();
    }

    [SkippableFact]
    public void Opening_a_missing_device_fails_with_NoSuchDevice_listing_the_devices()
    {
        Lab.Require();
        string name = Lab.UniqueName("x");

        FrameTransportException missing = OpenFails(name);

        missing.Error.Should().Be(FrameTransportError.NoSuchDevice);
        missing.DeviceName.Should().Be(name);
        missing.Message.Should().Contain($"no network device of that name").And.Contain("Devices: lo");
    }

    [SkippableFact]
    public void Opening_a_libpcap_pseudo_device_fails_with_NoSuchDevice()
    {
        Lab.Require();

        // libpcap lists "any", but it is no network device: it is refused before anything is opened.
        OpenFails("any").Error.Should().Be(FrameTransportError.NoSuchDevice);
    }

    [SkippableFact]
    public void Opening_a_down_device_fails_with_DeviceDown()
    {
        using VethPair veth = VethPair.Create();
        veth.SetDown(veth.A);

        FrameTransportException down = OpenFails(veth.A);

        down.Error.Should().Be(FrameTransportError.DeviceDown);
        down.Message.Should().Contain($"ip link set {veth.A} up");
    }

    [SkippableFact]
    public void Opening_a_device_that_is_not_Ethernet_fails_with_NotEthernet()
    {
        Lab.Require();
        string tun = Lab.UniqueName("t");
        Lab.Ip("tuntap", "add", "dev", tun, "mode", "tun");
        try
        {
            Lab.Ip("link", "set", tun, "up");

            FrameTransportException notEthernet = OpenFails(tun);

            notEthernet.Error.Should().Be(FrameTransportError.NotEthernet);
            notEthernet.Message.Should().Contain("not an Ethernet device").And.Contain("DLT_EN10MB");
        }
        finally
        {
            Lab.IpQuietly("link", "del", tun);
        }
    }

    [SkippableFact]
    public void A_frame_of_MTU_plus_14_is_sent_and_one_byte_more_fails_with_FrameTooLong()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);

        FrameTransportException tooLong = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 1515));
        byte[] longest = TestFrames.Experimental(transport.DeviceMac, 1514);
        transport.Send(longest);

        tooLong.Error.Should().Be(FrameTransportError.FrameTooLong);
        tooLong.IsPermanent.Should().BeFalse();
        tooLong.Message.Should().Contain("1515 bytes").And.Contain("at most 1514");
        capture.NextEqualTo(longest, Arrival).Should().NotBeNull();
    }

    [SkippableFact]
    public void A_lowered_MTU_is_noticed_when_the_kernel_refuses_a_frame()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
        Lab.Ip("link", "set", veth.A, "mtu", "1280");

        FrameTransportException tooLong = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 1514));

        tooLong.Error.Should().Be(FrameTransportError.FrameTooLong);
        tooLong.InnerException!.Message.Should().Contain("Message too long");
        transport.MaxFrameLength.Should().Be(1294);
    }

    [SkippableFact]
    public void A_raised_MTU_is_noticed_before_a_longer_frame_is_refused()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
        Lab.Ip("link", "set", veth.B, "mtu", "2000");
        Lab.Ip("link", "set", veth.A, "mtu", "2000");
        using var capture = new FrameCapture(veth.B, TestFrames.ExperimentalFilter);
        byte[] frame = TestFrames.Experimental(transport.DeviceMac, 2014);

        transport.Send(frame);

        transport.MaxFrameLength.Should().Be(2014);
        capture.NextEqualTo(frame, Arrival).Should().NotBeNull();
    }

    [SkippableFact]
    public void Sending_after_Dispose_fails_with_Closed()
    {
        Lab.Require();
        SharpPcapTransport transport = SharpPcapTransportFactory.Open("lo");
        transport.Dispose();
        transport.Dispose();

        FrameTransportException closed = SendFails(transport, TestFrames.Experimental(transport.DeviceMac, 60));

        closed.Error.Should().Be(FrameTransportError.Closed);
        closed.IsPermanent.Should().BeTrue();
        closed.Message.Should().Contain("closed");
    }

    [SkippableFact]
    public void Concurrent_sends_while_another_thread_disposes_only_ever_see_Closed()
    {
        // On a veth of its own: a flood on lo would stall the captures other tests run on lo.
        using VethPair veth = VethPair.Create();
        SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);
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

    [SkippableFact]
    public void EnsureCanReach_refuses_IPv4_on_lo_and_accepts_IPv6()
    {
        Lab.Require();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open("lo");

        transport.EnsureCanReach(IPAddress.IPv6Loopback);
        FrameTransportException refusal = Assert.Throws<FrameTransportException>(() => transport.EnsureCanReach(IPAddress.Loopback));

        refusal.Message.Should().Contain("never reach local sockets").And.Contain("\"+@/lo,@::1/\"");
    }

    [SkippableFact]
    public void EnsureCanReach_accepts_IPv4_on_a_veth()
    {
        using VethPair veth = VethPair.Create();
        using SharpPcapTransport transport = SharpPcapTransportFactory.Open(veth.A);

        transport.EnsureCanReach(IPAddress.Parse("192.0.2.2"));
    }

    private static FrameTransportException SendFails(SharpPcapTransport transport, byte[] frame) =>
        Assert.Throws<FrameTransportException>(() => transport.Send(frame));

    private static FrameTransportException OpenFails(string name) =>
        Assert.Throws<FrameTransportException>(() => SharpPcapTransportFactory.Open(name).Dispose());
}
