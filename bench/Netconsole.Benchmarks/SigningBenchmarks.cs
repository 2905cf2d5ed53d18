using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using BenchmarkDotNet.Attributes;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Benchmarks;

/// <summary>
/// What signing costs a record (issue 17): format and build its frames for an extended IPv4
/// target, unsigned (the baseline) and signed with HMAC-SHA256, the same record in the same run.
/// Records: one datagram (120 bytes of text) and 5 KiB fragmented into six datagrams.
/// </summary>
[MemoryDiagnoser]
[HideColumns("Error", "StdDev", "Median", "RatioSD")]
public class SigningBenchmarks
{
    private static readonly PhysicalAddress SourceMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress DestinationMac = PhysicalAddress.Parse("02-00-00-00-00-02");

    private readonly byte[] _frame = new byte[2048];
    private RecordFormatter _unsigned = null!;
    private RecordFormatter _signed = null!;
    private FrameBuilder _frames = null!;
    private NetconsoleRecord _record;

    /// <summary>Record text size in bytes.</summary>
    [Params(120, 5 * 1024)]
    public int TextBytes { get; set; }

    /// <summary>Builds both formatters and the frame builder.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var options = new NetconsoleTargetOptions { LocalAddress = IPAddress.Parse("192.0.2.1"), RemoteAddress = IPAddress.Parse("192.0.2.2"), Extended = true };
        options.Userdata["host"] = "web-1";
        options.Sysdata = SysdataFields.MessageId;
        _unsigned = new RecordFormatter(options.ToRecordFormat());
        options.SigningKey = new RecordSigningKey("ops-2026a", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        _signed = new RecordFormatter(options.ToRecordFormat());
        _frames = new FrameBuilder(SourceMac, DestinationMac, options.LocalAddress, options.LocalPort, options.RemoteAddress, options.RemotePort);
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("order 4711 shipped to warehouse 3; ", (TextBytes / 35) + 1))[..TextBytes]);
        _record = new NetconsoleRecord(6, text) { Sequence = 1, TimestampMicroseconds = 1000, Dictionary = [new("CATEGORY", "Shop.Orders")] };
    }

    /// <summary>Format and frame, unsigned (the baseline).</summary>
    [Benchmark(Baseline = true)]
    public int FormatFrameUnsigned() => FormatAndFrame(_unsigned);

    /// <summary>Format, sign and frame.</summary>
    [Benchmark]
    public int FormatSignFrame() => FormatAndFrame(_signed);

    private int FormatAndFrame(RecordFormatter formatter)
    {
        int bytes = 0;
        foreach (ReadOnlySpan<byte> datagram in formatter.Format(_record))
        {
            bytes += _frames.Build(datagram, _frame);
        }

        return bytes;
    }
}
