using System.Net;
using System.Net.NetworkInformation;
using CsCheck;
using Netconsole.Resolution;
using static Netconsole.Tests.Devices.NetlinkBytes;

namespace Netconsole.Tests.Resolution;

// The RTM_GETNEIGH dump request and the parser of its answer, over crafted bytes.
public sealed class NeighbourTableTests
{
    private const ushort NewNeighbour = 28;
    private const uint Sequence = 17;
    private static readonly byte[] Mac = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

    private static byte[] Neighbour(byte family, int index, ushort state, string? address, byte[]? mac, uint sequence = Sequence, ushort flags = 2)
    {
        byte[] ndmsg = Concat([family, 0, 0, 0], I32(index), U16(state), [0, 1]);
        byte[] attributes = Concat(
            address is null ? [] : Attribute(1, IPAddress.Parse(address).GetAddressBytes()),
            mac is null ? [] : Attribute(2, mac),
            Attribute(3, Concat(U32(1), U32(2), U32(3), U32(4)))); // NDA_CACHEINFO, ignored
        return Message(NewNeighbour, Concat(ndmsg, attributes), sequence, flags);
    }

    private static (NeighbourDumpStatus Status, List<NeighbourEntry> Entries, bool Interrupted, int Error) Parse(byte[] datagram, uint sequence = Sequence)
    {
        var entries = new List<NeighbourEntry>();
        NeighbourDumpStatus status = NeighbourTable.ParseDump(datagram, sequence, entries, out bool interrupted, out int error);
        return (status, entries, interrupted, error);
    }

    [Fact]
    public void The_request_is_an_RTM_GETNEIGH_dump_of_one_family()
    {
        byte[] request = NeighbourTable.BuildDumpRequest(10, 7, 5);

        request.Should().Equal(Message(30, Concat([10, 0, 0, 0], I32(7), [0, 0, 0, 0]), 5, 0x301));
    }

    [Fact]
    public void Entries_come_out_with_index_address_mac_and_state_until_done()
    {
        byte[] first = Concat(Neighbour(2, 3, 0x02, "192.0.2.2", Mac), Neighbour(2, 4, 0x01, "192.0.2.9", null));
        byte[] last = Concat(Neighbour(10, 3, 0x04, "2001:db8::2", Mac), Done(Sequence));

        var (status, entries, interrupted, _) = Parse(first);
        status.Should().Be(NeighbourDumpStatus.More);
        interrupted.Should().BeFalse();
        entries.Should().Equal(
            new NeighbourEntry(3, IPAddress.Parse("192.0.2.2"), new PhysicalAddress(Mac), 0x02),
            new NeighbourEntry(4, IPAddress.Parse("192.0.2.9"), null, 0x01));

        var (lastStatus, lastEntries, _, _) = Parse(last);
        lastStatus.Should().Be(NeighbourDumpStatus.Done);
        lastEntries.Should().ContainSingle().Which.Should().Be(new NeighbourEntry(3, IPAddress.Parse("2001:db8::2"), new PhysicalAddress(Mac), 0x04));
    }

    [Theory]
    [InlineData(0x02, true)]  // REACHABLE
    [InlineData(0x04, true)]  // STALE
    [InlineData(0x08, true)]  // DELAY
    [InlineData(0x10, true)]  // PROBE
    [InlineData(0x80, true)]  // PERMANENT
    [InlineData(0x40, true)]  // NOARP
    [InlineData(0x01, false)] // INCOMPLETE
    [InlineData(0x20, false)] // FAILED
    [InlineData(0x00, false)] // NONE
    public void Usable_states(ushort state, bool usable)
    {
        new NeighbourEntry(1, IPAddress.Loopback, new PhysicalAddress(Mac), state).IsUsable.Should().Be(usable);
    }

    [Fact]
    public void An_entry_without_a_link_address_is_not_usable()
    {
        new NeighbourEntry(1, IPAddress.Loopback, null, 0x02).IsUsable.Should().BeFalse();
    }

    [Fact]
    public void An_error_stops_the_dump_with_its_errno()
    {
        var (status, _, _, error) = Parse(Error(22, Sequence));

        status.Should().Be(NeighbourDumpStatus.Error);
        error.Should().Be(22);
    }

    [Fact]
    public void Interrupted_dumps_are_reported()
    {
        Parse(Neighbour(2, 3, 2, "192.0.2.2", Mac, flags: 0x12)).Interrupted.Should().BeTrue();
    }

    [Fact]
    public void Messages_for_other_requests_and_entries_without_a_destination_are_skipped()
    {
        byte[] datagram = Concat(Neighbour(2, 3, 2, "192.0.2.2", Mac, sequence: 99), Done(99), Neighbour(2, 3, 2, null, Mac), Neighbour(7, 3, 2, "192.0.2.2", Mac));

        var (status, entries, _, _) = Parse(datagram);

        status.Should().Be(NeighbourDumpStatus.More);
        entries.Should().BeEmpty();
    }

    [Fact]
    public void An_entry_with_truncated_attributes_is_skipped()
    {
        byte[] ndmsg = Concat([2, 0, 0, 0], I32(3), U16(2), [0, 1]);
        byte[] datagram = Message(NewNeighbour, Concat(ndmsg, Attribute(1, [192, 0, 2, 2]), [10, 0, 2, 0, 2, 0]), Sequence);

        Parse(datagram).Entries.Should().BeEmpty();
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var entries = new List<NeighbourEntry>();
            FluentActions.Invoking(() => NeighbourTable.ParseDump(bytes, 0, entries, out _, out _)).Should().NotThrow();
            FluentActions.Invoking(() => NeighbourTable.ParseEntry(bytes)).Should().NotThrow();
        }, iter: 20_000);
    }

    [Fact]
    public void Corrupted_valid_dumps_never_throw()
    {
        byte[] valid = Concat(Neighbour(2, 3, 2, "192.0.2.2", Mac, 0), Neighbour(10, 3, 4, "2001:db8::2", Mac, 0), Done(0), Error(22));
        ParseCorruptions(valid, datagram =>
        {
            var entries = new List<NeighbourEntry>();
            FluentActions.Invoking(() => NeighbourTable.ParseDump(datagram, 0, entries, out _, out _)).Should().NotThrow();
        });
    }
}
