using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Netconsole.Wire;

namespace Netconsole.Send;

/// <summary>One line per frame, for the one-record mode.</summary>
internal static class FrameLog
{
    public static string Route(IPAddress local, int localPort, IPAddress remote, int remotePort) =>
        $"{new IPEndPoint(local, localPort)} -> {new IPEndPoint(remote, remotePort)}";

    public static void Write(TextWriter? log, long index, int frameLength, string route, ReadOnlySpan<byte> datagram)
    {
        if (log is null)
        {
            return;
        }

        const int Max = 72;
        string text = Encoding.UTF8.GetString(datagram[..Math.Min(Max, datagram.Length)]).Replace("\n", "\\n", StringComparison.Ordinal);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"frame {index}: {frameLength} bytes, {route}, payload {datagram.Length} bytes: {text}{(datagram.Length > Max ? "..." : "")}"));
    }
}

/// <summary>Where the tool's datagrams go with --write-pcap: frames in a pcap file (live sending goes through <see cref="LiveTarget"/>).</summary>
internal sealed class PcapSink : IDisposable
{
    /// <summary>Where frames go when the target gives no remote MAC and no device is opened to resolve one: broadcast, as the kernel.</summary>
    internal static readonly PhysicalAddress Broadcast = new([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

    private readonly PcapFileWriter _writer;
    private readonly FrameBuilder _frames;
    private readonly string _route;
    private readonly TextWriter? _log;
    private readonly byte[] _frame;

    private PcapSink(PcapFileWriter writer, FrameBuilder frames, string route, TextWriter? log)
    {
        _writer = writer;
        _frames = frames;
        _route = route;
        _log = log;
        _frame = new byte[frames.MaxFrameLength];
    }

    public long Sent { get; private set; }

    public long Dropped => 0;

    public string Verb => "written";

    public static PcapSink Create(FileInfo file, FrameBuilder frames, string route, TextWriter? log)
    {
        try
        {
            return new PcapSink(new PcapFileWriter(file.FullName), frames, route, log);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write {file.FullName}: {e.Message}");
        }
    }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        int length = _frames.Build(datagram, _frame);
        _writer.Write(_frame.AsSpan(0, length));
        FrameLog.Write(_log, ++Sent, length, _route, datagram);
    }

    public void Dispose() => _writer.Dispose();
}

