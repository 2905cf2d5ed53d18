using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
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
/// A receive thread of its own drains the socket into a reused 64 KiB buffer and hands each
/// datagram to the reassembler; a timer every 50 ms (or half the reassembly timeout, when
/// shorter) delivers continued groups whose next part did not come and gives up on records
/// whose fragments did not all arrive (<see cref="RecordReassembler.Expire"/>). Records are
/// queued in the order they complete. The thread is the receiver's, not the thread pool's: under
/// a flood it stays busy, and a reader on the pool (or on the same core) still gets its turn.
/// </para>
/// <para>
/// The queue is bounded (<see cref="NetconsoleReceiverOptions.Capacity"/>,
/// <see cref="NetconsoleReceiverOptions.MaxQueuedBytes"/>): when it is full the oldest unread
/// record is dropped and counted, so the receive thread never waits for a reader and the socket
/// never overflows because of one. The socket's receive buffer is enlarged
/// (<see cref="NetconsoleReceiverOptions.ReceiveBufferSize"/>) for bursts.
/// </para>
/// <para>
/// More cores (<see cref="NetconsoleReceiverOptions.ReceiveSockets"/>, Linux): <see cref="Listen"/>
/// binds several sockets to the endpoint with SO_REUSEPORT, each with its own receive thread and
/// reassembler, and has the kernel steer every datagram by its sender, so one sender always
/// reaches the same socket: its records stay in order. The queue, its limits and the statistics
/// are the receiver's, all sockets together.
/// </para>
/// <para>
/// Nothing a sender does stops the receiver: malformed datagrams are counted by the reassembler,
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

    // Beyond this many distinct source socket addresses a socket's address cache starts over.
    private const int MaxCachedAddresses = 4096;

    private static readonly TimeSpan MaxExpireInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Whether receive threads take the datagrams waiting in batches (recvmmsg, Linux); true
    /// unless a benchmark compares with one datagram per system call.
    /// </summary>
    internal static bool BatchReceive { get; set; } = true;

    private readonly ReceiveSocket[] _sockets;
    private readonly bool _ownsSocket;
    private readonly SenderKey _senderKey;
    private readonly IPEndPoint _endPointFactory;
    private readonly RecordQueue _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _threadsStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Timer _expireTimer;
    private readonly Lock _finishLock = new();
    private bool _finished;
    private int _threadsRunning;
    private long _socketErrors;
    private int _disposed;

    /// <summary>
    /// Starts receiving on an already bound UDP socket, such as one created inside another
    /// network namespace and handed over.
    /// </summary>
    /// <param name="boundSocket">A bound IPv4 or IPv6 UDP socket. The receiver closes it when disposed unless <see cref="NetconsoleReceiverOptions.LeaveSocketOpen"/> is set.</param>
    /// <param name="options">Settings, taken as they are now; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="boundSocket"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The socket is not a UDP socket over IPv4 or IPv6, or is not bound; or <see cref="NetconsoleReceiverOptions.ReceiveSockets"/> is not 1 (a socket handed over is received on alone).</exception>
    public NetconsoleReceiver(Socket boundSocket, NetconsoleReceiverOptions? options = null)
        : this([Validated(boundSocket, options)], options ?? new NetconsoleReceiverOptions(), ownsSocket: !(options?.LeaveSocketOpen ?? false))
    {
    }

    private NetconsoleReceiver(Socket[] sockets, NetconsoleReceiverOptions options, bool ownsSocket)
    {
        _ownsSocket = ownsSocket;
        _senderKey = options.SenderKey;
        Socket first = sockets[0];
        LocalEndPoint = (IPEndPoint)first.LocalEndPoint!;
        _endPointFactory = new IPEndPoint(first.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        _sockets = new ReceiveSocket[sockets.Length];
        var signedRuns = new SignedRunWindows();
        for (int i = 0; i < sockets.Length; i++)
        {
            // Each socket's reassembler gets its share of the buffered bytes, so the receiver's total
            // holds, and one replay check: a copy is a replay whatever sender, so socket, it comes from.
            _sockets[i] = new ReceiveSocket(sockets[i], new RecordReassembler(options.Reassembler, sockets.Length, signedRuns));
        }

        _queue = new RecordQueue(options.Capacity, options.MaxQueuedBytes);
        if (options.ReceiveBufferSize != 0)
        {
            foreach (Socket socket in sockets)
            {
                // Best effort: the system's default buffer still works, with less room for bursts.
                SocketOptions.TrySetReceiveBuffer(socket, options.ReceiveBufferSize);
            }
        }

        TimeSpan half = options.Reassembler.Timeout / 2;
        TimeSpan interval = half < MaxExpireInterval ? (half < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : half) : MaxExpireInterval;
        _expireTimer = new Timer(static state => ((NetconsoleReceiver)state!).OnExpireTimer(), this, interval, interval);
        _threadsRunning = _sockets.Length;
        foreach (ReceiveSocket receiving in _sockets)
        {
            // Background: an undisposed receiver does not keep the process alive.
            var thread = new Thread(() => ReceiveLoop(receiving))
            {
                IsBackground = true,
                Name = "Netconsole receive",
            };
            thread.UnsafeStart();
        }
    }

    /// <summary>The address and port the socket is bound to (port chosen by the system when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Binds a new UDP socket to <paramref name="endpoint"/> and starts receiving on it. The
    /// IPv6 any address (<c>[::]</c>) gives a dual-stack socket that receives IPv4 datagrams too;
    /// <c>0.0.0.0</c> receives IPv4 only; a specific address receives what is sent to it. Port 0
    /// lets the system choose one: see <see cref="LocalEndPoint"/>. With
    /// <see cref="NetconsoleReceiverOptions.ReceiveSockets"/> above 1, that many sockets share
    /// the endpoint (SO_REUSEPORT), senders spread over them.
    /// </summary>
    /// <param name="endpoint">The local address and port, for example <c>[::]:6666</c>.</param>
    /// <param name="options">Settings, taken as they are now; <see langword="null"/> for the defaults.</param>
    /// <returns>The running receiver, which owns the socket.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> is <see langword="null"/>.</exception>
    /// <exception cref="SocketException">The socket cannot be created or bound (port in use, address not local, IPv6 unavailable).</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="NetconsoleReceiverOptions.ReceiveSockets"/> is above 1 on a system other than Linux.</exception>
    public static NetconsoleReceiver Listen(IPEndPoint endpoint, NetconsoleReceiverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        options ??= new NetconsoleReceiverOptions();
        Socket[] sockets;
        if (options.ReceiveSockets > 1)
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new PlatformNotSupportedException("Several receive sockets need Linux (SO_REUSEPORT steered by sender); use ReceiveSockets = 1 here.");
            }

            sockets = ReusePortGroup.Bind(endpoint, options.ReceiveSockets, byPort: options.SenderKey == SenderKey.AddressAndPort);
        }
        else
        {
            sockets = [BindOne(endpoint)];
        }

        try
        {
            return new NetconsoleReceiver(sockets, options, ownsSocket: true);
        }
        catch
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }

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

    private async IAsyncEnumerable<ReceivedRecord> ReadAll([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_queue.TryRead(out ReceivedRecord? record))
            {
                yield return record;
            }
        }
    }

    /// <summary>Waits for the next record.</summary>
    /// <param name="cancellationToken">Stops waiting (with <see cref="OperationCanceledException"/>).</param>
    /// <returns>The record.</returns>
    /// <exception cref="ChannelClosedException">The receiver was disposed and every record has been read.</exception>
    public ValueTask<ReceivedRecord> ReadAsync(CancellationToken cancellationToken = default) =>
        _queue.ReadAsync(cancellationToken);

    /// <summary>Takes the next record if one is waiting.</summary>
    /// <param name="record">The record, or <see langword="null"/> when none is waiting.</param>
    /// <returns><see langword="true"/> when a record was taken.</returns>
    public bool TryRead([MaybeNullWhen(false)] out ReceivedRecord record) => _queue.TryRead(out record);

    /// <summary>Waits until a record can be read.</summary>
    /// <param name="cancellationToken">Stops waiting (with <see cref="OperationCanceledException"/>).</param>
    /// <returns>
    /// <see langword="true"/> when a record is waiting, or came while this call waited (with
    /// several readers another may have taken it: read with <see cref="TryRead"/> and wait again
    /// when it finds none, as with a channel); <see langword="false"/> when the receiver was
    /// disposed and every record has been read.
    /// </returns>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        _queue.WaitToReadAsync(cancellationToken);

    /// <summary>The receiver's counters and the reassembler's counters of all senders together (of all its sockets).</summary>
    /// <returns>A snapshot.</returns>
    public NetconsoleReceiverStatistics GetStatistics()
    {
        var reassemblers = new ReassemblerStatistics[_sockets.Length];
        long datagrams = 0;
        long records = 0;
        for (int i = 0; i < _sockets.Length; i++)
        {
            ReceiveSocket receiving = _sockets[i];
            datagrams += Volatile.Read(ref receiving.Datagrams);
            lock (receiving.Lock)
            {
                reassemblers[i] = receiving.Reassembler.GetStatistics();
                records += receiving.Records;
            }
        }

        return new NetconsoleReceiverStatistics(
            datagrams,
            records,
            _queue.Dropped,
            Interlocked.Read(ref _socketErrors),
            _queue.Count,
            _queue.Bytes,
            reassemblers.Length == 1 ? reassemblers[0] : NetconsoleReceiverStatistics.Sum(reassemblers));
    }

    /// <summary>Datagrams each socket received, in bind order (which is the steering program's index), for tests.</summary>
    internal long[] GetDatagramsPerSocket() => [.. _sockets.Select(r => Volatile.Read(ref r.Datagrams))];

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
        foreach (ReceiveSocket receiving in _sockets)
        {
            lock (receiving.Lock)
            {
                // A sender reaches one socket only: the first that knows it is the one.
                if (receiving.Reassembler.GetSenderStatistics(key) is { } statistics)
                {
                    return statistics;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Every tracked sender's counters and state, most recently heard first (with several
    /// <see cref="NetconsoleReceiverOptions.ReceiveSockets"/>: socket after socket, each so ordered).
    /// </summary>
    /// <returns>Snapshots.</returns>
    public IReadOnlyList<SenderStatistics> GetAllSenderStatistics()
    {
        if (_sockets.Length == 1)
        {
            lock (_sockets[0].Lock)
            {
                return _sockets[0].Reassembler.GetAllSenderStatistics();
            }
        }

        var all = new List<SenderStatistics>();
        foreach (ReceiveSocket receiving in _sockets)
        {
            lock (receiving.Lock)
            {
                all.AddRange(receiving.Reassembler.GetAllSenderStatistics());
            }
        }

        return all;
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

        StopThreads();
        try
        {
            // The receive threads catch everything; this only waits for them to notice the cancellation.
            _threadsStopped.Task.GetAwaiter().GetResult();
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

        StopThreads();
        try
        {
            await _threadsStopped.Task.ConfigureAwait(false);
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

    private static Socket Validated(Socket socket, NetconsoleReceiverOptions? options)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.SocketType != SocketType.Dgram || socket.ProtocolType != ProtocolType.Udp
            || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"A netconsole receiver needs a UDP socket over IPv4 or IPv6, not {socket.AddressFamily} {socket.SocketType} {socket.ProtocolType}.", nameof(socket));
        }

        if (socket.LocalEndPoint is not IPEndPoint)
        {
            throw new ArgumentException("The socket is not bound: bind it first, or use NetconsoleReceiver.Listen.", nameof(socket));
        }

        if (options is { ReceiveSockets: not 1 })
        {
            throw new ArgumentException($"ReceiveSockets is {options.ReceiveSockets}, but a socket handed over is received on alone: use NetconsoleReceiver.Listen for several sockets, or ReceiveSockets = 1.", nameof(options));
        }

        return socket;
    }

    private static Socket BindOne(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void StopThreads()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (Exception e) when (e is AggregateException or ObjectDisposedException)
        {
            // Nothing registers callbacks that could throw; ignore whatever did.
        }
    }

    private void Shutdown()
    {
        Finish(null);
        if (_ownsSocket)
        {
            foreach (ReceiveSocket receiving in _sockets)
            {
                try
                {
                    receiving.Socket.Dispose();
                }
                catch (Exception)
                {
                    // Never throw from Dispose.
                }
            }
        }

        _stopping.Dispose();
    }

    private void ReceiveLoop(ReceiveSocket receiving)
    {
        try
        {
            Exception? failure = null;
            bool stoppedByOwner = false;
            try
            {
                Receive(receiving);
                return; // disposed, or finished: Dispose finishes.
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException && _stopping.IsCancellationRequested)
            {
                return; // disposed: Dispose finishes.
            }
            catch (ObjectDisposedException)
            {
                stoppedByOwner = true; // the socket was closed by its owner: stop as if disposed.
            }
            catch (Exception e)
            {
                failure = e; // a bug: readers see it instead of waiting forever.
            }

            if (stoppedByOwner || failure is not null)
            {
                Finish(failure);
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _threadsRunning) == 0)
            {
                _threadsStopped.TrySetResult();
            }
        }
    }

    private void Receive(ReceiveSocket receiving)
    {
        Socket socket = receiving.Socket;
        byte[] buffer = GC.AllocateUninitializedArray<byte>(BufferSize);
        var address = new SocketAddress(socket.AddressFamily);
        CancellationToken stopping = _stopping.Token;
        DatagramBatch? batch = OperatingSystem.IsLinux() && BatchReceive ? new DatagramBatch() : null;
        SafeSocketHandle? handle = batch is null ? null : socket.SafeHandle;
        int errorsInARow = 0;
        while (!stopping.IsCancellationRequested)
        {
            if (batch is not null && OperatingSystem.IsLinux())
            {
                // What is waiting, a batch per system call; the wait below only when nothing is.
                int count = batch.Receive(handle!);
                if (count < 0)
                {
                    Interlocked.Increment(ref _socketErrors);
                }
                else if (count > 0)
                {
                    Volatile.Write(ref receiving.Datagrams, receiving.Datagrams + count);
                    lock (receiving.Lock)
                    {
                        if (receiving.Finished)
                        {
                            return;
                        }

                        long now = Stopwatch.GetTimestamp();
                        for (int i = 0; i < count; i++)
                        {
                            batch.CopySource(i, address);
                            receiving.Reassembler.Add(SenderOf(receiving, address), batch.Datagram(i), now, receiving.Output);
                        }

                        QueueOutput(receiving);
                    }

                    continue;
                }
            }

            int length;
            try
            {
                // Under load a datagram is waiting and this completes at once, allocating nothing;
                // idle, the thread waits here until one comes or the receiver is disposed.
                ValueTask<int> receive = socket.ReceiveFromAsync(buffer, SocketFlags.None, address, stopping);
                length = receive.IsCompletedSuccessfully ? receive.Result : receive.AsTask().GetAwaiter().GetResult();
                errorsInARow = 0;
            }
            catch (SocketException) when (!stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _socketErrors);
                if (++errorsInARow > 1)
                {
                    // A persistent error must not spin a core.
                    stopping.WaitHandle.WaitOne(ErrorBackoff);
                }

                continue;
            }

            Volatile.Write(ref receiving.Datagrams, receiving.Datagrams + 1);
            IPEndPoint sender = SenderOf(receiving, address);
            lock (receiving.Lock)
            {
                if (receiving.Finished)
                {
                    return;
                }

                receiving.Reassembler.Add(sender, buffer.AsSpan(0, length), Stopwatch.GetTimestamp(), receiving.Output);
                QueueOutput(receiving);
            }
        }
    }

    private void OnExpireTimer()
    {
        try
        {
            foreach (ReceiveSocket receiving in _sockets)
            {
                lock (receiving.Lock)
                {
                    if (receiving.Finished)
                    {
                        return;
                    }

                    receiving.Reassembler.Expire(Stopwatch.GetTimestamp(), receiving.Output);
                    QueueOutput(receiving);
                }
            }
        }
        catch (Exception e)
        {
            // An exception escaping a timer callback would end the process.
            Finish(e);
        }
    }

    // Under receiving.Lock: what the reassembler delivered, to the queue in one go.
    private void QueueOutput(ReceiveSocket receiving)
    {
        if (receiving.Output.Count > 0)
        {
            receiving.Records += _queue.Add(receiving.Output);
            receiving.Output.Clear();
        }
    }

    private void Finish(Exception? failure)
    {
        lock (_finishLock)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
        }

        StopThreads(); // the other sockets' threads too, when one of them failed

        foreach (ReceiveSocket receiving in _sockets)
        {
            lock (receiving.Lock)
            {
                receiving.Finished = true;
                try
                {
                    receiving.Reassembler.Flush(receiving.Output);
                    QueueOutput(receiving);
                }
                catch (Exception e)
                {
                    failure ??= e;
                }
            }
        }

        // Every socket is finished: nothing is queued after this.
        _queue.Complete(failure);
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
    // sender allocates nothing here. Called by the socket's receive thread only.
    private IPEndPoint SenderOf(ReceiveSocket receiving, SocketAddress address)
    {
        Dictionary<SocketAddress, IPEndPoint> senders = receiving.Senders;
        if (senders.TryGetValue(address, out IPEndPoint? sender))
        {
            return sender;
        }

        if (senders.Count >= MaxCachedAddresses)
        {
            senders.Clear();
        }

        var key = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(key.Buffer.Span);
        sender = KeyOf((IPEndPoint)_endPointFactory.Create(key));
        senders.Add(key, sender);
        return sender;
    }

    private IPEndPoint KeyOf(IPEndPoint endpoint)
    {
        IPAddress address = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address;
        int port = _senderKey == SenderKey.Address ? 0 : endpoint.Port;
        return ReferenceEquals(address, endpoint.Address) && port == endpoint.Port ? endpoint : new IPEndPoint(address, port);
    }

    /// <summary>One socket: its receive thread's state, and the reassembler of the senders it receives.</summary>
    private sealed class ReceiveSocket(Socket socket, RecordReassembler reassembler)
    {
        public readonly Socket Socket = socket;

        public readonly RecordReassembler Reassembler = reassembler;

        // Guards the reassembler, Output, Records and Finished; records are queued under it, so the
        // receive thread and the timer queue them in the order the reassembler delivered them.
        public readonly Lock Lock = new();

        public readonly List<ReceivedRecord> Output = [];

        // The receive thread's own.
        public readonly Dictionary<SocketAddress, IPEndPoint> Senders = new();

        public bool Finished;

        public long Records;

        public long Datagrams; // written by the receive thread only
    }
}
