using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using System.Threading.Channels;
using Netconsole.Interop;

namespace Netconsole.Receiving;

/// <summary>
/// A netconsole receiver on a UDP socket: receives datagrams from any number of senders,
/// reassembles them into records with a <see cref="RecordReassembler"/>, and queues the
/// records for reading (<see cref="ReadAllAsync"/>, <see cref="ReadAsync"/>, <see cref="TryRead"/>).
/// What netconsd does, for tests, samples and applications.
/// </summary>
/// <remarks>
/// <para>
/// One receive loop drains the socket into a reused 64 KiB buffer; a timer every 50 ms (or
/// half the reassembly timeout, when shorter) delivers continued groups whose next part did
/// not come and gives up on records whose fragments did not all arrive
/// (<see cref="RecordReassembler.Expire"/>). Records are queued in the order they complete.
/// </para>
/// <para>
/// The queue is bounded (<see cref="NetconsoleReceiverOptions.Capacity"/>): when it is full the
/// oldest unread record is dropped and counted, so the loop never waits for a reader and the
/// socket never overflows because of one. The socket's receive buffer is enlarged
/// (<see cref="NetconsoleReceiverOptions.ReceiveBufferSize"/>) for bursts.
/// </para>
/// <para>
/// Nothing a sender does stops the loop: malformed datagrams are counted by the reassembler,
/// socket errors (such as an ICMP port unreachable reported as a connection reset on some
/// platforms) in <see cref="NetconsoleReceiverStatistics.SocketErrors"/>. If the socket is
/// closed by someone else, the receiver stops as if disposed.
/// </para>
/// <para>
/// Senders are keyed as <see cref="NetconsoleReceiverOptions.SenderKey"/> says; an IPv4 sender
/// on a dual-stack socket is reported with its IPv4 address. Dispose flushes: held continued
/// groups are delivered, then the queue is completed, and records still queued can be read
/// until it is empty. Every member is thread-safe.
/// </para>
/// </remarks>
public sealed class NetconsoleReceiver : IAsyncDisposable, IDisposable
{
    // The largest UDP payload (65,507 over IPv4, 65,527 over IPv6) fits; netconsole sends at most 1000.
    private const int BufferSize = 64 * 1024;

    // Beyond this many distinct source socket addresses the address cache starts over.
    private const int MaxCachedAddresses = 4096;

    // Linux SOL_SOCKET / SO_RCVBUFFORCE: a receive buffer beyond net.core.rmem_max with CAP_NET_ADMIN.
    private static readonly TimeSpan MaxExpireInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;
    private readonly bool _ownsSocket;
    private readonly SenderKey _senderKey;
    private readonly IPEndPoint _endPointFactory;
    private readonly Dictionary<SocketAddress, IPEndPoint> _senders = new();
    private readonly Channel<ReceivedRecord> _channel;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly Timer _expireTimer;

    // Guards the reassembler, the output list and _finished; records are queued under it too,
    // so the loop and the timer queue them in the order the reassembler delivered them.
    private readonly Lock _lock = new();
    private readonly RecordReassembler _reassembler;
    private readonly List<ReceivedRecord> _output = [];
    private bool _finished;

    private long _datagrams;
    private long _records;
    private long _unreadDropped;
    private long _queuedBytes; // the Cost of the records in the channel
    private readonly long _maxQueuedBytes;
    private long _socketErrors;
    private int _disposed;

    /// <summary>
    /// Starts receiving on an already bound UDP socket, such as one created inside another
    /// network namespace and handed over.
    /// </summary>
    /// <param name="boundSocket">A bound IPv4 or IPv6 UDP socket. The receiver closes it when disposed unless <see cref="NetconsoleReceiverOptions.LeaveSocketOpen"/> is set.</param>
    /// <param name="options">Settings, taken as they are now; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="boundSocket"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The socket is not a UDP socket over IPv4 or IPv6, or is not bound.</exception>
    public NetconsoleReceiver(Socket boundSocket, NetconsoleReceiverOptions? options = null)
        : this(boundSocket, options ?? new NetconsoleReceiverOptions(), ownsSocket: !(options?.LeaveSocketOpen ?? false))
    {
    }

    private NetconsoleReceiver(Socket socket, NetconsoleReceiverOptions options, bool ownsSocket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.SocketType != SocketType.Dgram || socket.ProtocolType != ProtocolType.Udp
            || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"A netconsole receiver needs a UDP socket over IPv4 or IPv6, not {socket.AddressFamily} {socket.SocketType} {socket.ProtocolType}.", nameof(socket));
        }

        if (socket.LocalEndPoint is not IPEndPoint local)
        {
            throw new ArgumentException("The socket is not bound: bind it first, or use NetconsoleReceiver.Listen.", nameof(socket));
        }

        _socket = socket;
        _ownsSocket = ownsSocket;
        _senderKey = options.SenderKey;
        LocalEndPoint = local;
        _endPointFactory = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        _reassembler = new RecordReassembler(options.Reassembler);
        _channel = Channel.CreateBounded<ReceivedRecord>(
            new BoundedChannelOptions(options.Capacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleWriter = true, // every write happens under _lock
                SingleReader = false,
            },
            dropped =>
            {
                Interlocked.Increment(ref _unreadDropped);
                Interlocked.Add(ref _queuedBytes, -dropped.Cost);
            });
        _maxQueuedBytes = options.MaxQueuedBytes;
        if (options.ReceiveBufferSize != 0)
        {
            // Best effort: the system's default buffer still works, with less room for bursts.
            SocketOptions.TrySetReceiveBuffer(socket, options.ReceiveBufferSize);
        }

        TimeSpan half = options.Reassembler.Timeout / 2;
        TimeSpan interval = half < MaxExpireInterval ? (half < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : half) : MaxExpireInterval;
        _expireTimer = new Timer(static state => ((NetconsoleReceiver)state!).OnExpireTimer(), this, interval, interval);
        _loop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The address and port the socket is bound to (port chosen by the system when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Binds a new UDP socket to <paramref name="endpoint"/> and starts receiving on it. The
    /// IPv6 any address (<c>[::]</c>) gives a dual-stack socket that receives IPv4 datagrams too;
    /// <c>0.0.0.0</c> receives IPv4 only; a specific address receives what is sent to it. Port 0
    /// lets the system choose one: see <see cref="LocalEndPoint"/>.
    /// </summary>
    /// <param name="endpoint">The local address and port, for example <c>[::]:6666</c>.</param>
    /// <param name="options">Settings, taken as they are now; <see langword="null"/> for the defaults.</param>
    /// <returns>The running receiver, which owns the socket.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is <see langword="null"/>.</exception>
    /// <exception cref="SocketException">The socket cannot be created or bound (port in use, address not local, IPv6 unavailable).</exception>
    public static NetconsoleReceiver Listen(IPEndPoint endpoint, NetconsoleReceiverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endpoint);
            return new NetconsoleReceiver(socket, options ?? new NetconsoleReceiverOptions(), ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads records as they arrive until the receiver is disposed and its queue is empty, or
    /// <paramref name="cancellationToken"/> is canceled. Several readers share the records:
    /// each record goes to one of them.
    /// </summary>
    /// <param name="cancellationToken">Stops the enumeration (with <see cref="OperationCanceledException"/>).</param>
    /// <returns>The records, in the order they completed.</returns>
    public IAsyncEnumerable<ReceivedRecord> ReadAllAsync(CancellationToken cancellationToken = default) => ReadAll(cancellationToken);

    // Each record read through TryRead, so the queue's memory count follows.
    private async IAsyncEnumerable<ReceivedRecord> ReadAll([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (TryRead(out ReceivedRecord? record))
            {
                yield return record;
            }
        }
    }

    /// <summary>Waits for the next record.</summary>
    /// <param name="cancellationToken">Stops waiting (with <see cref="OperationCanceledException"/>).</param>
    /// <returns>The record.</returns>
    /// <exception cref="ChannelClosedException">The receiver was disposed and every record has been read.</exception>
    public async ValueTask<ReceivedRecord> ReadAsync(CancellationToken cancellationToken = default) =>
        Taken(await _channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Takes the next record if one is waiting.</summary>
    /// <param name="record">The record, or <see langword="null"/> when none is waiting.</param>
    /// <returns><see langword="true"/> when a record was taken.</returns>
    public bool TryRead([MaybeNullWhen(false)] out ReceivedRecord record)
    {
        if (_channel.Reader.TryRead(out record))
        {
            Taken(record);
            return true;
        }

        return false;
    }

    // A record left the queue: its memory is no longer the queue's.
    private ReceivedRecord Taken(ReceivedRecord record)
    {
        Interlocked.Add(ref _queuedBytes, -record.Cost);
        return record;
    }

    /// <summary>Waits until a record can be read.</summary>
    /// <param name="cancellationToken">Stops waiting (with <see cref="OperationCanceledException"/>).</param>
    /// <returns><see langword="true"/> when a record is waiting; <see langword="false"/> when the receiver was disposed and every record has been read.</returns>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>The receiver's counters and the reassembler's counters of all senders together.</summary>
    /// <returns>A snapshot.</returns>
    public NetconsoleReceiverStatistics GetStatistics()
    {
        ReassemblerStatistics reassembler;
        lock (_lock)
        {
            reassembler = _reassembler.GetStatistics();
        }

        return new NetconsoleReceiverStatistics(
            Interlocked.Read(ref _datagrams),
            Interlocked.Read(ref _records),
            Interlocked.Read(ref _unreadDropped),
            Interlocked.Read(ref _socketErrors),
            _channel.Reader.Count,
            Interlocked.Read(ref _queuedBytes),
            reassembler);
    }

    /// <summary>
    /// One sender's counters and state, or <see langword="null"/> when it is not tracked (never
    /// heard, or evicted). The sender is keyed as the receiver keys it: an IPv4-mapped address is
    /// taken as IPv4, and the port is ignored with <see cref="SenderKey.Address"/>.
    /// </summary>
    /// <param name="sender">The sender's address and port.</param>
    /// <returns>A snapshot, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> is <see langword="null"/>.</exception>
    public SenderStatistics? GetSenderStatistics(IPEndPoint sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        IPEndPoint key = KeyOf(sender);
        lock (_lock)
        {
            return _reassembler.GetSenderStatistics(key);
        }
    }

    /// <summary>Every tracked sender's counters and state, most recently heard first.</summary>
    /// <returns>Snapshots.</returns>
    public IReadOnlyList<SenderStatistics> GetAllSenderStatistics()
    {
        lock (_lock)
        {
            return _reassembler.GetAllSenderStatistics();
        }
    }

    /// <summary>
    /// Stops receiving, delivers the continued groups still held (incomplete records are given
    /// up and counted), completes the queue and closes the socket if the receiver owns it.
    /// Records still queued can be read afterwards. Calling it again does nothing; it never throws.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopLoop();
        try
        {
            // The loop catches everything; this only waits for it to notice the cancellation.
            _loop.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // Never throw from Dispose.
        }

        Shutdown();
    }

    /// <summary>
    /// Stops receiving, delivers the continued groups still held, completes the queue and closes
    /// the socket if the receiver owns it, without blocking a thread. Calling it again does
    /// nothing; it never throws.
    /// </summary>
    /// <returns>A task that completes when the receiver has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopLoop();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Never throw from Dispose.
        }

        try
        {
            await _expireTimer.DisposeAsync().ConfigureAwait(false); // waits for a callback in progress
        }
        catch (Exception)
        {
            // Never throw from Dispose.
        }

        Shutdown();
    }

    private void StopLoop()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (AggregateException)
        {
            // Nothing registers callbacks that could throw; ignore whatever did.
        }
    }

    private void Shutdown()
    {
        Finish(null);
        if (_ownsSocket)
        {
            try
            {
                _socket.Dispose();
            }
            catch (Exception)
            {
                // Never throw from Dispose.
            }
        }

        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? failure = null;
        try
        {
            byte[] buffer = GC.AllocateUninitializedArray<byte>(BufferSize);
            var address = new SocketAddress(_socket.AddressFamily);
            CancellationToken stopping = _stopping.Token;
            int errorsInARow = 0;
            while (!stopping.IsCancellationRequested)
            {
                int length;
                try
                {
                    length = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, address, stopping).ConfigureAwait(false);
                    errorsInARow = 0;
                }
                catch (SocketException) when (!stopping.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _socketErrors);
                    if (++errorsInARow > 1)
                    {
                        // A persistent error must not spin a core.
                        await Task.Delay(ErrorBackoff, stopping).ConfigureAwait(false);
                    }

                    continue;
                }

                Interlocked.Increment(ref _datagrams);
                IPEndPoint sender = SenderOf(address);
                lock (_lock)
                {
                    if (_finished)
                    {
                        return;
                    }

                    _reassembler.Add(sender, buffer.AsSpan(0, length), Stopwatch.GetTimestamp(), _output);
                    QueueOutput();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException && _stopping.IsCancellationRequested)
        {
            return; // disposed: Dispose finishes.
        }
        catch (ObjectDisposedException)
        {
            // The socket was closed by its owner: stop as if disposed.
        }
        catch (Exception e)
        {
            failure = e; // a bug: readers see it instead of waiting forever.
        }

        Finish(failure);
    }

    private void OnExpireTimer()
    {
        try
        {
            lock (_lock)
            {
                if (_finished)
                {
                    return;
                }

                _reassembler.Expire(Stopwatch.GetTimestamp(), _output);
                QueueOutput();
            }
        }
        catch (Exception e)
        {
            // An exception escaping a timer callback would end the process.
            Finish(e);
        }
    }

    // Under _lock.
    private void QueueOutput()
    {
        foreach (ReceivedRecord record in _output)
        {
            // Over the memory budget: the oldest unread records go, as when the queue is full.
            long cost = record.Cost;
            while (Interlocked.Read(ref _queuedBytes) + cost > _maxQueuedBytes && _channel.Reader.TryRead(out ReceivedRecord? oldest))
            {
                Interlocked.Add(ref _queuedBytes, -oldest.Cost);
                Interlocked.Increment(ref _unreadDropped);
            }

            Interlocked.Add(ref _queuedBytes, cost);
            if (_channel.Writer.TryWrite(record))
            {
                Interlocked.Increment(ref _records);
            }
            else
            {
                Interlocked.Add(ref _queuedBytes, -cost);
            }
        }

        _output.Clear();
    }

    private void Finish(Exception? failure)
    {
        lock (_lock)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            try
            {
                _reassembler.Flush(_output);
                QueueOutput();
            }
            catch (Exception e)
            {
                failure ??= e;
            }

            _channel.Writer.TryComplete(failure);
        }

        try
        {
            _expireTimer.Dispose(); // nothing left to expire; and a timer would keep an undisposed receiver alive
        }
        catch (Exception)
        {
            // Never throw from Dispose.
        }
    }

    // The same sender keeps one identity: IPv4 whether it reached an IPv4 or a dual-stack socket,
    // and port 0 when keyed by address. Cached by raw socket address, so a datagram from a known
    // sender allocates nothing here.
    private IPEndPoint SenderOf(SocketAddress address)
    {
        if (_senders.TryGetValue(address, out IPEndPoint? sender))
        {
            return sender;
        }

        if (_senders.Count >= MaxCachedAddresses)
        {
            _senders.Clear();
        }

        var key = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(key.Buffer.Span);
        sender = KeyOf((IPEndPoint)_endPointFactory.Create(key));
        _senders.Add(key, sender);
        return sender;
    }

    private IPEndPoint KeyOf(IPEndPoint endpoint)
    {
        IPAddress address = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address;
        int port = _senderKey == SenderKey.Address ? 0 : endpoint.Port;
        return ReferenceEquals(address, endpoint.Address) && port == endpoint.Port ? endpoint : new IPEndPoint(address, port);
    }
}
