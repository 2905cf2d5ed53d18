using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using BenchmarkDotNet.Attributes;
using Netconsole.Targets;
using Netconsole.Wire;
using PacketDotNet;

namespace Netconsole.Benchmarks;

/// <summary>
/// Format one record and build its frames: this library's FrameBuilder against PacketDotNet
/// building the same frames from the same datagrams (the baseline). Records: one datagram
/// (120 bytes of text) and a 5 KiB text fragmented into six datagrams.
/// </summary>
[MemoryDiagnoser]
[HideColumns("Error", "StdDev", "Median", "RatioSD")]
public class FormatAndFrameBenchmarks
{
    private static readonly PhysicalAddress SourceMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress DestinationMac = PhysicalAddress.Parse("02-00-00-00-00-02");

    private RecordFormatter _formatter = null!;
    private FrameBuilder _frames = null!;
    private NetconsoleRecord _record;
    private IPAddress _source = null!;
    private IPAddress _destination = null!;
    private readonly byte[] _frame = new byte[2048];

    /// <summary>Record text size in bytes.</summary>
    [Params(120, 5 * 1024)]
    public int TextBytes { get; set; }

    /// <summary>Extended (true) or basic format.</summary>
    [Params(true, false)]
    public bool Extended { get; set; }

    /// <summary>IP family of the target.</summary>
    [Params("IPv4", "IPv6")]
    public string Family { get; set; } = "IPv4";

    /// <summary>Builds the target, formatter and frame builder.</summary>
    [GlobalSetup]
    public void Setup()
    {
        bool v6 = Family == "IPv6";
        _source = IPAddress.Parse(v6 ? "2001:db8::1" : "192.0.2.1");
        _destination = IPAddress.Parse(v6 ? "2001:db8::2" : "192.0.2.2");
        var options = new NetconsoleTargetOptions { LocalAddress = _source, RemoteAddress = _destination, Extended = Extended };
        if (Extended)
        {
            options.Userdata["host"] = "web-1";
            options.Sysdata = SysdataFields.MessageId;
        }

        _formatter = new RecordFormatter(options.ToRecordFormat());
        _frames = new FrameBuilder(SourceMac, DestinationMac, _source, options.LocalPort, _destination, options.RemotePort);
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("order 4711 shipped to warehouse 3; ", TextBytes / 35 + 1))[..TextBytes]);
        _record = new NetconsoleRecord(6, text) { Sequence = 1, TimestampMicroseconds = 1000, Dictionary = [new("CATEGORY", "Shop.Orders")] };
    }

    /// <summary>Formatting only (no frames).</summary>
    [Benchmark]
    public int FormatOnly()
    {
        int bytes = 0;
        foreach (ReadOnlySpan<byte> datagram in _formatter.Format(_record))
        {
            bytes += datagram.Length;
        }

        return bytes;
    }

    /// <summary>Format and build every frame with this library's FrameBuilder.</summary>
    [Benchmark]
    public int FormatAndFrameBuilder()
    {
        int bytes = 0;
        foreach (ReadOnlySpan<byte> datagram in _formatter.Format(_record))
        {
            bytes += _frames.Build(datagram, _frame);
        }

        return bytes;
    }

    /// <summary>Format, then build every frame with PacketDotNet (the baseline).</summary>
    [Benchmark(Baseline = true)]
    public int FormatAndPacketDotNet()
    {
        int bytes = 0;
        foreach (ReadOnlySpan<byte> datagram in _formatter.Format(_record))
        {
            var udp = new UdpPacket(6665, 6666) { PayloadData = datagram.ToArray() };
            IPPacket ip = Family == "IPv6"
                ? new IPv6Packet(_source, _destination) { HopLimit = 32 }
                : new IPv4Packet(_source, _destination) { TimeToLive = 64 };
            ip.PayloadPacket = udp;
            var ethernet = new EthernetPacket(SourceMac, DestinationMac, Family == "IPv6" ? EthernetType.IPv6 : EthernetType.IPv4)
            {
                PayloadPacket = ip,
            };
            udp.UpdateUdpChecksum();
            if (ip is IPv4Packet v4)
            {
                v4.UpdateIPChecksum();
            }

            bytes += ethernet.Bytes.Length;
        }

        return bytes;
    }
}
