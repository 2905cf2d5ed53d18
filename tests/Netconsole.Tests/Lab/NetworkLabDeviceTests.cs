using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Tests.Integration;
using Xunit.Abstractions;
using static Netconsole.Tests.Lab.LabTestSupport;

namespace Netconsole.Tests.Lab;

// Each interface operation on the device end has its observable effect, checked through ip.
// One lab at a time, as every other lab test: a route lookup without a device (targets
// written "@/,@ip/") must not find another test's lab.
[Collection(LabTestsRunAlone.Name)]
public sealed class NetworkLabDeviceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void DeleteDevice_removes_both_ends()
    {
        using NetworkLab lab = CreateLab(output);
        string name = lab.DeviceName;

        lab.DeleteDevice();

        lab.DeviceExists.Should().BeFalse();
        lab.QueryDevice().Should().BeNull();
        lab.QueryPeer().Should().BeNull();
        Links().Should().NotContain(name);
        Links(lab.PeerNamespace).Should().Equal("lo");
        FluentActions.Invoking(lab.SetDeviceUp).Should().Throw<InvalidOperationException>();
    }

    [SkippableFact]
    public void RecreateDevice_with_the_same_name_brings_back_addresses_and_traffic()
    {
        using NetworkLab lab = CreateLab(output);
        (string name, PhysicalAddress mac, int index) = (lab.DeviceName, lab.DeviceMac, lab.DeviceIndex);
        lab.DeleteDevice();

        lab.RecreateDevice();

        NetworkDevice device = lab.QueryDevice()!;
        device.Name.Should().Be(name);
        device.Mac.Should().Be(mac, "a null MAC keeps the previous one");
        device.Index.Should().NotBe(index, "a new interface gets a new index").And.Be(lab.DeviceIndex);
        device.IsRunning.Should().BeTrue();
        device.Addresses.Should().Contain([lab.DeviceIPv4, lab.DeviceIPv6]);
        lab.QueryPeer()!.Mac.Should().Be(lab.PeerMac);
        AssertUdpFlows(lab, AddressFamily.InterNetwork, 6666);
        AssertUdpFlows(lab, AddressFamily.InterNetworkV6, 6666);
    }

    [SkippableFact]
    public void RecreateDevice_with_another_name_and_the_old_mac_keeps_the_mac()
    {
        using NetworkLab lab = CreateLab(output);
        (string oldName, PhysicalAddress mac) = (lab.DeviceName, lab.DeviceMac);
        string newName = lab.NewDeviceName();
        lab.DeleteDevice();

        lab.RecreateDevice(newName, mac);

        lab.DeviceName.Should().Be(newName);
        Links().Should().Contain(newName).And.NotContain(oldName);
        lab.QueryDevice()!.Mac.Should().Be(mac);
        LinkField(newName, "address").Should().Be(FormatMac(mac));
        AssertUdpFlows(lab, AddressFamily.InterNetwork, 6666);
    }

    [SkippableFact]
    public void RecreateDevice_with_a_new_mac_takes_it()
    {
        using NetworkLab lab = CreateLab(output);
        PhysicalAddress mac = NetworkLab.RandomMac();
        lab.DeleteDevice();

        lab.RecreateDevice(mac: mac);

        lab.DeviceMac.Should().Be(mac);
        lab.QueryDevice()!.Mac.Should().Be(mac);
    }

    [SkippableFact]
    public void RenameDevice_keeps_the_index_mac_and_addresses()
    {
        using NetworkLab lab = CreateLab(output);
        (string oldName, PhysicalAddress mac, int index) = (lab.DeviceName, lab.DeviceMac, lab.DeviceIndex);
        string newName = lab.NewDeviceName();

        lab.RenameDevice(newName);

        lab.DeviceName.Should().Be(newName);
        Links().Should().Contain(newName).And.NotContain(oldName);
        NetworkDevice device = lab.QueryDevice()!;
        device.Index.Should().Be(index);
        device.Mac.Should().Be(mac);
        device.IsRunning.Should().BeTrue();
        device.Addresses.Should().Contain([lab.DeviceIPv4, lab.DeviceIPv6], "the device keeps IPv6 addresses while down");
        AssertUdpFlows(lab, AddressFamily.InterNetworkV6, 6666);
    }

    [SkippableFact]
    public void Names_outside_the_prefix_are_refused()
    {
        using NetworkLab lab = CreateLab(output);

        FluentActions.Invoking(() => lab.RenameDevice("eth0")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => lab.RenameDevice(lab.Id + "-much-too-long")).Should().Throw<ArgumentException>();
        lab.DeviceName.Should().Be(lab.Id);
    }

    [SkippableFact]
    public void SetDeviceDown_and_SetDeviceUp_change_the_operstate()
    {
        using NetworkLab lab = CreateLab(output);

        lab.SetDeviceDown();

        LinkField(lab.DeviceName, "operstate").Should().Be("DOWN");
        lab.QueryDevice()!.IsUp.Should().BeFalse();
        lab.QueryPeer()!.IsRunning.Should().BeFalse("the peer loses carrier with its other end down");

        lab.SetDeviceUp();

        LinkField(lab.DeviceName, "operstate").Should().Be("UP");
        lab.QueryDevice()!.Addresses.Should().Contain([lab.DeviceIPv4, lab.DeviceIPv6]);
        AssertUdpFlows(lab, AddressFamily.InterNetwork, 6666);
    }

    [SkippableFact]
    public void SetPeerDown_takes_the_carrier_away_while_the_device_stays_up()
    {
        using NetworkLab lab = CreateLab(output);

        lab.SetPeerDown();

        LinkField(lab.DeviceName, "operstate").Should().Be("DOWN");
        LinkField(lab.DeviceName, "flags").Should().Contain("NO-CARRIER").And.Contain("\"UP\"");
        lab.QueryDevice()!.IsUp.Should().BeTrue();
        lab.QueryDevice()!.IsRunning.Should().BeFalse();

        lab.SetPeerUp();

        lab.QueryDevice()!.IsRunning.Should().BeTrue();
    }

    [SkippableFact]
    public void SetDeviceMac_changes_the_mac_in_place()
    {
        using NetworkLab lab = CreateLab(output);
        int index = lab.DeviceIndex;
        PhysicalAddress mac = NetworkLab.RandomMac();

        lab.SetDeviceMac(mac);

        lab.DeviceMac.Should().Be(mac);
        LinkField(lab.DeviceName, "address").Should().Be(FormatMac(mac));
        lab.QueryDevice()!.Index.Should().Be(index);
        AssertUdpFlows(lab, AddressFamily.InterNetwork, 6666);
    }

    private static string FormatMac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2")));
}
