using System.Buffers.Binary;
using System.Net.NetworkInformation;
using System.Net;
using Netconsole.Devices;
using Netconsole.Interop;
using Netconsole.Targets;
using Netconsole.Tests.Resolution;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Transport;

/// <summary>
/// What target setup asks of any <see cref="IFrameTransport"/>, not only the libpcap one: whether
/// the remote can be reached, whether the device is loopback, and whether it can receive frames
/// for next-hop resolution (and, when it cannot, the reason says so).
/// </summary>
public sealed class TransportSetupTests : IDisposable
{
    private static readonly PhysicalAddress DeviceMac = PhysicalAddress.Parse("02-00-00-00-00-0A");
    private static readonly PhysicalAddress PeerMac = PhysicalAddress.Parse("02-00-5E-10-00-02");
    private static readonly IPAddress Local = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Remote = IPAddress.Parse("192.0.2.2");

    private readonly ManualDeviceWatcher _watcher = new();
    private TargetManager? _manager;

    public void Dispose()
    {
        _manager?.Dispose();
        _watcher.Dispose();
    }

    [Fact]
    public void A_remote_the_transport_refuses_fails_the_enable_with_its_message()
    {
        var refusal = new FrameTransportException(FrameTransportError.Other, "veth0", "Cannot send to 192.0.2.2 on veth0: scripted refusal.");
        var transport = new ScriptedTransport { Unreachable = refusal };

        EnableResult result = Enable(transport);

        result.State.Should().NotBe(TargetState.Enabled);
        result.Reason.Should().Contain("scripted refusal");
        transport.Sent.Should().BeEmpty();
    }

    [Fact]
    public void A_loopback_transport_sends_to_the_zero_mac_and_resolves_nothing()
    {
        var transport = new ScriptedTransport { IsLoopback = true };

        EnableResult result = Enable(transport);
        _manager!.Send(NetconsoleRecord.FromString(6, "hello"));

        result.State.Should().Be(TargetState.Enabled);
        result.Reason.Should().Be("enabled on device veth0");
        transport.CapturesOpened.Should().Be(0);
        transport.Sent.Should().ContainSingle().Which.AsSpan(0, 6).ToArray().Should().Equal(new byte[6]);
    }

    [SkippableFact]
    public void A_transport_that_cannot_receive_gets_the_neighbour_table_and_a_reason_that_says_it_was_not_asked()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the neighbour table is read through rtnetlink");
        var transport = new ScriptedTransport(canReceive: false);

        EnableResult result = Enable(transport);
        _manager!.Send(NetconsoleRecord.FromString(6, "hello"));

        result.State.Should().Be(TargetState.Enabled);
        result.Reason.Should().Be(
            "enabled on device veth0; warning: next hop 192.0.2.2 is not in the neighbour table, and ARP is not possible with "
            + "ScriptedTransport, which cannot receive frames: sending to broadcast, which switches may drop; give the remote MAC in the target");
        transport.Sent.Should().ContainSingle().Which.AsSpan(0, 6).ToArray().Should().Equal(Ethernet.Broadcast.GetAddressBytes());
    }

    [SkippableFact]
    public void A_transport_that_can_receive_resolves_the_next_hop_by_arp_through_itself()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the neighbour table is read through rtnetlink first");
        var transport = new ScriptedTransport
        {
            Responder = frame => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == Ethernet.EtherTypeArp
                ? [ArpFramesTests.Reply(PeerMac, Remote, DeviceMac, Local)]
                : [],
        };

        EnableResult result = Enable(transport);
        _manager!.Send(NetconsoleRecord.FromString(6, "hello"));

        result.State.Should().Be(TargetState.Enabled);
        result.Reason.Should().Be("enabled on device veth0; next hop 192.0.2.2 is 02:00:5e:10:00:02 (ARP)");
        transport.CapturesOpened.Should().Be(1);
        transport.Sent.Should().HaveCount(2);
        transport.Sent[1].AsSpan(0, 6).ToArray().Should().Equal(PeerMac.GetAddressBytes());
    }

    private EnableResult Enable(ScriptedTransport transport)
    {
        _watcher.Register("veth0", DeviceMac, [Local]);
        _manager = new TargetManager(new TargetManagerOptions { Watcher = _watcher, TransportFactory = new OneTransport(transport) });
        NetconsoleTarget target = _manager.Add(new NetconsoleTargetOptions { Name = "t", DeviceName = "veth0", RemoteAddress = Remote });
        return _manager.Enable(target.Name);
    }

    private sealed class OneTransport(IFrameTransport transport) : IFrameTransportFactory
    {
        public IFrameTransport Open(string deviceName) => transport;
    }
}
