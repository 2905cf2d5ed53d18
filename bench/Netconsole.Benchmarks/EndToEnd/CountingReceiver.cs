using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;

namespace Netconsole.Benchmarks.EndToEnd;

/// <summary>
/// The far end of every path: one thread doing blocking receive(2) on a UDP socket opened in
/// the lab's peer namespace, checking each datagram and counting it into the current
/// <see cref="ReceivePhase"/>. Cheaper than NetconsoleReceiver (no parsing into records, no
/// channel), so it is not the bottleneck; it allocates nothing per datagram.
/// </summary>
internal sealed class CountingReceiver : IDisposable
{
    private const int SocketLevel = 1;      // SOL_SOCKET
    private const int ReceiveBufferForce = 33; // SO_RCVBUFFORCE: root may exceed net.core.rmem_max

    private readonly Socket _socket;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private ReceivePhase _phase = new(0);
    private int _threadId;

    public CountingReceiver(Socket socket, int receiveBufferBytes)
    {
        _socket = socket;
        _socket.SetRawSocketOption(SocketLevel, ReceiveBufferForce, BitConverter.GetBytes(receiveBufferBytes));
        _thread = new Thread(Run) { IsBackground = true, Name = "e2e-receiver" };
        _thread.Start();
        _started.Wait();
    }

    /// <summary>The receiving thread's kernel thread id.</summary>
    public int ThreadId => Volatile.Read(ref _threadId);

    /// <summary>Bytes the receiving thread has allocated (updated every 4096 datagrams).</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Counts from now on into a new phase expecting record ids 0 to <paramref name="expected"/> - 1.</summary>
    public ReceivePhase Begin(int expected)
    {
        var phase = new ReceivePhase(expected);
        Volatile.Write(ref _phase, phase);
        return phase;
    }

    /// <summary>
    /// Waits until the phase has every expected record, or nothing arrived for <paramref name="quiet"/>
    /// (after at least one datagram or <paramref name="quiet"/> since now), or <paramref name="limit"/> passed.
    /// </summary>
    public static void WaitQuiet(ReceivePhase phase, TimeSpan quiet, TimeSpan limit)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            if (phase.Received >= phase.Expected)
            {
                return;
            }

            long last = phase.LastArrival;
            long now = Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(last == 0 ? start : last, now) >= quiet || Stopwatch.GetElapsedTime(start, now) >= limit)
            {
                return;
            }

            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        _socket.Dispose(); // ends the blocking receive
        _thread.Join(TimeSpan.FromSeconds(5));
        _started.Dispose();
    }

    private void Run()
    {
        Volatile.Write(ref _threadId, ThreadClock.CurrentThreadId());
        _started.Set();
        byte[] buffer = new byte[65536];
        long count = 0;
        while (true)
        {
            int length;
            try
            {
                length = _socket.Receive(buffer.AsSpan(), SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Volatile.Read(ref _phase).Count(buffer.AsSpan(0, length));
            if ((++count & 4095) == 0)
            {
                AllocatedBytes = GC.GetAllocatedBytesForCurrentThread();
            }
        }
    }
}

/// <summary>
/// What arrived during one measured run: each record carries its id in its text
/// (<c>order ID shipped to warehouse north-3; customer notified by mail</c>, whatever the
/// framing around it); every id is checked against the range, duplicates and the text after
/// it. Drop notices (<c>netconsole: N records dropped</c>) are counted with the N they announce.
/// Written by the receiving thread only.
/// </summary>
internal sealed class ReceivePhase(int expected)
{
    internal const string Suffix = " shipped to warehouse north-3; customer notified by mail";
    private static ReadOnlySpan<byte> Marker => "order "u8;
    private static ReadOnlySpan<byte> SuffixBytes => " shipped to warehouse north-3; customer notified by mail"u8;
    private static ReadOnlySpan<byte> NoticeMarker => "netconsole: "u8;

    private readonly bool[] _seen = new bool[expected];
    private long _received;
    private long _datagrams;
    private long _bytes;
    private long _duplicates;
    private long _malformed;
    private long _notices;
    private long _announcedDrops;
    private long _firstArrival;
    private long _lastArrival;

    public int Expected { get; } = expected;

    /// <summary>Distinct valid record ids received.</summary>
    public long Received => Volatile.Read(ref _received);

    public long Datagrams => Volatile.Read(ref _datagrams);

    public long PayloadBytes => Volatile.Read(ref _bytes);

    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Datagrams that were neither a valid record in range nor a drop notice.</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    public long Notices => Volatile.Read(ref _notices);

    public long AnnouncedDrops => Volatile.Read(ref _announcedDrops);

    /// <summary>Stopwatch timestamp of the first datagram; 0 before it.</summary>
    public long FirstArrival => Volatile.Read(ref _firstArrival);

    /// <summary>Stopwatch timestamp of the latest datagram; 0 before the first.</summary>
    public long LastArrival => Volatile.Read(ref _lastArrival);

    public void Count(ReadOnlySpan<byte> datagram)
    {
        long now = Stopwatch.GetTimestamp();
        if (_firstArrival == 0)
        {
            Volatile.Write(ref _firstArrival, now);
        }

        _datagrams++;
        _bytes += datagram.Length;
        int at = datagram.IndexOf(Marker);
        if (at >= 0
            && Utf8Parser.TryParse(datagram[(at + Marker.Length)..], out int id, out int digits)
            && datagram[(at + Marker.Length + digits)..].StartsWith(SuffixBytes)
            && id >= 0 && id < _seen.Length)
        {
            if (_seen[id])
            {
                _duplicates++;
            }
            else
            {
                _seen[id] = true;
                _received++;
            }
        }
        else if ((at = datagram.IndexOf(NoticeMarker)) >= 0
            && Utf8Parser.TryParse(datagram[(at + NoticeMarker.Length)..], out long dropped, out _))
        {
            _notices++;
            _announcedDrops += dropped;
        }
        else
        {
            _malformed++;
        }

        Volatile.Write(ref _lastArrival, now);
    }
}
