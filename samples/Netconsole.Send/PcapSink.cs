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
    private readonly string _path;
    private readonly string _route;
    private readonly TextWriter? _log;
    private readonly byte[] _frame;

    private PcapSink(PcapFileWriter writer, FrameBuilder frames, string path, string route, TextWriter? log)
    {
        _writer = writer;
        _frames = frames;
        _path = path;
        _route = route;
        _log = log;
        _frame = new byte[frames.MaxFrameLength];
    }

    public long Sent { get; private set; }

    public long Dropped => 0;

    public string Verb => "written";

    /// <summary>Creates the file and writes its header.</summary>
    /// <exception cref="UsageException">The file cannot be created (a directory, no permission, no such directory): exit 2.</exception>
    /// <exception cref="SendFailureException">The header cannot be written (a full disk): exit 1.</exception>
    public static PcapSink Create(string path, FrameBuilder frames, string route, TextWriter? log)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            throw new UsageException($"--write-pcap {fullPath} is a directory: give a file name.");
        }

        FileStream file;
        try
        {
            // No buffer: every frame reaches the file when it is written, so a write error shows at
            // that frame and nothing is counted as written before it is.
            file = new FileStream(fullPath, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new UsageException($"cannot write {fullPath}: {e.Message}");
        }

        try
        {
            return new PcapSink(new PcapFileWriter(file), frames, fullPath, route, log);
        }
        catch (IOException e)
        {
            file.Dispose();
            throw new SendFailureException($"cannot write {fullPath}: {Reason(e, fullPath)} (nothing written)");
        }
    }

    /// <exception cref="SendFailureException">The frame could not be written: exit 1.</exception>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        int length = _frames.Build(datagram, _frame);
        try
        {
            _writer.Write(_frame.AsSpan(0, length));
        }
        catch (IOException e)
        {
            throw new SendFailureException(string.Create(CultureInfo.InvariantCulture,
                $"cannot write {_path}: {Reason(e, _path)} ({Sent} frame(s) written before)"));
        }

        FrameLog.Write(_log, ++Sent, length, _route, datagram);
    }

    /// <summary>Closes the file; what it holds is on disk (or the error says why not).</summary>
    /// <exception cref="SendFailureException">Closing failed: exit 1.</exception>
    public void Close()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException e)
        {
            throw new SendFailureException($"cannot write {_path}: {Reason(e, _path)}");
        }
    }

    // The runtime appends " : 'path'" to the system's reason; the message names the file already.
    private static string Reason(IOException e, string path) => e.Message.Replace($" : '{path}'", "", StringComparison.Ordinal);

    public void Dispose()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            // Already reported by Send or Close; the file is closed either way.
        }
    }
}
