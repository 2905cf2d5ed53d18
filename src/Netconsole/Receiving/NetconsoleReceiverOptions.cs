namespace Netconsole.Receiving;

/// <summary>Settings of a <see cref="NetconsoleReceiver"/>, taken when it is created.</summary>
public sealed class NetconsoleReceiverOptions
{
    /// <summary>The default <see cref="Capacity"/>, 10,000 records.</summary>
    public const int DefaultCapacity = 10_000;

    /// <summary>The default <see cref="ReceiveBufferSize"/>, 4 MiB.</summary>
    public const int DefaultReceiveBufferSize = 4 * 1024 * 1024;

    /// <summary>The default <see cref="MaxQueuedBytes"/>, 32 MiB.</summary>
    public const long DefaultMaxQueuedBytes = 32L * 1024 * 1024;

    private const int MaxReceiveSockets = 64;

    private long _maxQueuedBytes = DefaultMaxQueuedBytes;
    private int _capacity = DefaultCapacity;
    private int _receiveSockets = 1;
    private int _receiveBufferSize = DefaultReceiveBufferSize;
    private SenderKey _senderKey = SenderKey.AddressAndPort;
    private RecordReassemblerOptions _reassembler = new();

    /// <summary>
    /// How many records wait for a reader at most. When a record arrives and the queue is full,
    /// the oldest unread record is dropped and counted
    /// (<see cref="NetconsoleReceiverStatistics.RecordsDroppedUnread"/>): the receive loop never
    /// waits for a slow reader, so the socket keeps being drained. The default is
    /// <see cref="DefaultCapacity"/> (10,000 records). At least 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int Capacity
    {
        get => _capacity;
        set => _capacity = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The record queue must hold at least one record.");
    }

    /// <summary>
    /// The most memory the records waiting for a reader may hold, in bytes, counted as they are
    /// held decoded (text, dictionary entries and their strings: a record of short dictionary
    /// lines holds ~20 times its wire size). When a record would go over it, the oldest unread
    /// records are dropped and counted (<see cref="NetconsoleReceiverStatistics.RecordsDroppedUnread"/>),
    /// as for <see cref="Capacity"/>. With the reassembler's limit
    /// (<see cref="RecordReassemblerOptions.MaxBufferedBytes"/>, 32 MiB) this keeps a receiver's
    /// heap within ~128 MiB whatever arrives (the GC holds up to about twice what is counted). The default is <see cref="DefaultMaxQueuedBytes"/> (32 MiB).
    /// At least 65,536.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 65,536.</exception>
    public long MaxQueuedBytes
    {
        get => _maxQueuedBytes;
        set => _maxQueuedBytes = value >= 65_536 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The queue must be allowed at least 65,536 bytes.");
    }

    /// <summary>
    /// The socket's receive buffer (SO_RCVBUF) in bytes, so a burst of datagrams waits in the
    /// kernel instead of being dropped while the receive loop catches up; 0 leaves the socket's
    /// buffer as it is. Best effort: on Linux a process with CAP_NET_ADMIN gets the full size
    /// (SO_RCVBUFFORCE), others are capped by <c>net.core.rmem_max</c> (often 208 KiB), and a
    /// refusal is ignored. The default is <see cref="DefaultReceiveBufferSize"/> (4 MiB).
    /// Applies to sockets passed to the constructor too. At least 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int ReceiveBufferSize
    {
        get => _receiveBufferSize;
        set => _receiveBufferSize = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The receive buffer size cannot be negative (0 leaves it as it is).");
    }

    /// <summary>
    /// How senders are told apart for reassembly, sequence tracking and statistics. The default
    /// is <see cref="SenderKey.AddressAndPort"/>; <see cref="SenderKey.Address"/> behaves like
    /// netconsd. Either way an IPv4 sender reaching a dual-stack socket is reported with its IPv4
    /// address, not as an IPv4-mapped IPv6 address.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="Receiving.SenderKey"/>.</exception>
    public SenderKey SenderKey
    {
        get => _senderKey;
        set => _senderKey = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown sender key.");
    }

    /// <summary>
    /// The reassembly limits (timeout for missing fragments and continued-group parts, senders,
    /// memory). The default is a new <see cref="RecordReassemblerOptions"/> (200 ms, as netconsd).
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public RecordReassemblerOptions Reassembler
    {
        get => _reassembler;
        set => _reassembler = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// How many sockets <see cref="NetconsoleReceiver.Listen"/> binds to the endpoint, each with a
    /// receive thread and a reassembler of its own, so receiving can use that many cores (Linux
    /// only beyond 1). The sockets share the port with SO_REUSEPORT, and the receiver has the
    /// kernel steer each datagram by its sender (a hash of its address, and of its port unless
    /// <see cref="SenderKey"/> is <see cref="Receiving.SenderKey.Address"/>): one sender always
    /// reaches the same socket, so its records stay in order and its sequence numbers are tracked
    /// in one place; one sender never uses more than one core. What the sockets receive goes to
    /// the one queue (<see cref="Capacity"/> and <see cref="MaxQueuedBytes"/> count it all), the
    /// statistics are summed, each socket's reassembler holds an
    /// equal share of <see cref="RecordReassemblerOptions.MaxBufferedBytes"/> (so the memory bound
    /// stays the receiver's) and tracks up to <see cref="RecordReassemblerOptions.MaxSenders"/>
    /// senders itself. Worth it when many senders together are more than one core can receive.
    /// The default is 1: one socket, without SO_REUSEPORT. From 1 to 64. A socket passed to the
    /// <see cref="NetconsoleReceiver(System.Net.Sockets.Socket, NetconsoleReceiverOptions?)"/>
    /// constructor is received on alone: there it must be 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 64.</exception>
    public int ReceiveSockets
    {
        get => _receiveSockets;
        set => _receiveSockets = value is >= 1 and <= MaxReceiveSockets ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Receive on 1 to 64 sockets.");
    }

    /// <summary>
    /// For a socket passed to <see cref="NetconsoleReceiver(System.Net.Sockets.Socket, NetconsoleReceiverOptions?)"/>:
    /// <see langword="true"/> leaves it open when the receiver is disposed, so the caller still
    /// owns it. The default is <see langword="false"/>: the receiver owns the socket and closes
    /// it. A socket created by <see cref="NetconsoleReceiver.Listen"/> is always closed.
    /// </summary>
    public bool LeaveSocketOpen { get; set; }
}
