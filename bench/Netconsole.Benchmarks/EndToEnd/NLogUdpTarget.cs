using System.Net.Sockets;
using System.Text;
using NLog;
using NLog.Targets;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// A minimal NLog UDP target: renders the layout and sends it as one datagram through a
/// connected UDP socket, reusing its buffers (no allocation per event here). It stands in for
/// NLog's NetworkTarget, which NLog 6 moved to the NLog.Targets.Network package (not available
/// to this build); it does less per event than NetworkTarget, which allocates the payload and
/// sends asynchronously, so it is a lower bound of NLog's UDP cost.
/// </summary>
internal sealed class NLogUdpTarget : TargetWithLayout
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly Socket _socket;
    private readonly StringBuilder _text = new(256);
    private char[] _chars = new char[1024];
    private byte[] _bytes = new byte[4096];
    private long _sent;
    private long _sendErrors;

    public NLogUdpTarget(Socket connectedSocket)
    {
        _socket = connectedSocket;
        // NetworkTarget's default layout.
        Layout = "${longdate}|${level:uppercase=true}|${logger}|${message:withexception=true}";
    }

    /// <summary>Datagrams sent.</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Datagrams the socket refused (counted, not thrown).</summary>
    public long SendErrors => Volatile.Read(ref _sendErrors);

    protected override void Write(LogEventInfo logEvent)
    {
        _text.Clear();
        Layout.Render(logEvent, _text);
        int length = _text.Length;
        if (_chars.Length < length)
        {
            _chars = new char[length * 2];
        }

        _text.CopyTo(0, _chars, 0, length);
        int max = Utf8.GetMaxByteCount(length);
        if (_bytes.Length < max)
        {
            _bytes = new byte[max * 2];
        }

        int count = Utf8.GetBytes(_chars, 0, length, _bytes, 0);
        try
        {
            _socket.Send(_bytes.AsSpan(0, count), SocketFlags.None);
            Volatile.Write(ref _sent, _sent + 1);
        }
        catch (SocketException)
        {
            Volatile.Write(ref _sendErrors, _sendErrors + 1);
        }
    }
}
