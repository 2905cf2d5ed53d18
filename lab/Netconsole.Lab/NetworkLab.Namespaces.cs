using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Netconsole.Interop;

namespace Netconsole.Lab;

// Work inside the peer namespace. A socket (or packet capture handle) belongs to the network
// namespace of the thread that created it, for its whole life, and is usable from any
// thread afterwards; so a dedicated thread enters the namespace (setns), creates the
// resource and ends. Thread-pool threads never switch namespaces: they would carry the
// switch into unrelated work.
public sealed partial class NetworkLab
{
    private const int SoBindToDevice = 25; // SO_BINDTODEVICE

    /// <summary>
    /// Runs <paramref name="function"/> on a new, dedicated thread that has entered the peer
    /// namespace, waits for it and returns its result (or rethrows its exception). Sockets,
    /// listeners and captures created inside stay in the peer namespace and can be used from
    /// any thread afterwards.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="function">
    /// Synchronous work: anything it hands to other threads or awaits runs in the current
    /// namespace, not the peer's. It must not call back into the lab (child processes it
    /// starts would run in the peer namespace). Paths under /sys still show the namespace
    /// that mounted sysfs, not the peer's.
    /// </param>
    /// <returns>What <paramref name="function"/> returned.</returns>
    /// <exception cref="NetworkLabException">The thread could not enter the peer namespace.</exception>
    public T RunInPeerNamespace<T>(Func<T> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        ThrowIfDisposed();
        return RunInNamespace(PeerNamespacePath, function, _log);
    }

    /// <summary>Runs <paramref name="action"/> on a dedicated thread inside the peer namespace; see <see cref="RunInPeerNamespace{T}(Func{T})"/>.</summary>
    /// <param name="action">Synchronous work.</param>
    /// <exception cref="NetworkLabException">The thread could not enter the peer namespace.</exception>
    public void RunInPeerNamespace(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        RunInPeerNamespace<object?>(() =>
        {
            action();
            return null;
        });
    }

    /// <summary>
    /// Opens a UDP socket inside the peer namespace bound to the peer's address of the
    /// family: 192.0.2.2 for <see cref="AddressFamily.InterNetwork"/>, 2001:db8::2 for
    /// <see cref="AddressFamily.InterNetworkV6"/>. The lab closes it on Dispose (closing it
    /// earlier is fine).
    /// </summary>
    /// <param name="family">InterNetwork or InterNetworkV6.</param>
    /// <param name="port">The UDP port, 0 (any free port: read LocalEndPoint) to 65535.</param>
    /// <returns>The bound socket, usable from any thread.</returns>
    /// <exception cref="ArgumentException">The family is neither IPv4 nor IPv6.</exception>
    public Socket OpenPeerUdpSocket(AddressFamily family, int port)
    {
        IPAddress address = family switch
        {
            AddressFamily.InterNetwork => PeerIPv4,
            AddressFamily.InterNetworkV6 => PeerIPv6,
            _ => throw new ArgumentException($"The address family {family} is neither InterNetwork nor InterNetworkV6.", nameof(family)),
        };
        return OpenPeerUdpSocket(new IPEndPoint(address, port));
    }

    /// <summary>
    /// Opens a UDP socket inside the peer namespace bound to <paramref name="localEndPoint"/>;
    /// <see cref="IPAddress.IPv6Any"/> makes it dual-stack (IPv4 datagrams arrive as
    /// IPv4-mapped addresses). The lab closes it on Dispose.
    /// </summary>
    /// <param name="localEndPoint">The address and port to bind, in the peer namespace.</param>
    /// <returns>The bound socket, usable from any thread.</returns>
    public Socket OpenPeerUdpSocket(IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        return OpenUdpSocket(PeerNamespacePath, localEndPoint);
    }

    /// <summary>
    /// Opens a UDP socket in the current namespace for sending through the device end: bound
    /// to the device's address of the family (192.0.2.1 or 2001:db8::1) and to the device
    /// itself (SO_BINDTODEVICE). Binding to the device matters: several labs in one namespace
    /// (parallel tests) all have these addresses and routes, and without it the kernel would
    /// route through whichever lab's device comes first. The socket stays bound to this
    /// interface index: it survives a rename, not a delete. The lab closes it on Dispose.
    /// </summary>
    /// <param name="family">InterNetwork or InterNetworkV6.</param>
    /// <param name="port">The local UDP port, 0 (the default: any free port) to 65535.</param>
    /// <returns>The bound socket.</returns>
    /// <exception cref="ArgumentException">The family is neither IPv4 nor IPv6.</exception>
    /// <exception cref="InvalidOperationException">The device end does not exist.</exception>
    public Socket OpenDeviceUdpSocket(AddressFamily family, int port = 0)
    {
        IPAddress address = family switch
        {
            AddressFamily.InterNetwork => DeviceIPv4,
            AddressFamily.InterNetworkV6 => DeviceIPv6,
            _ => throw new ArgumentException($"The address family {family} is neither InterNetwork nor InterNetworkV6.", nameof(family)),
        };
        lock (_gate)
        {
            RequireDevice();
            var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.SetRawSocketOption(SocketConstants.LevelSocket, SoBindToDevice, Encoding.ASCII.GetBytes(DeviceName + "\0"));
                socket.Bind(new IPEndPoint(address, port));
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _sockets.Add(socket);
            return socket;
        }
    }

    /// <summary>
    /// Starts capturing every frame on the peer end (inside the peer namespace) or on the device
    /// end, with SharpPcap, into a thread-safe list. Frames sent after this returns are captured.
    /// A capture ends when its interface is deleted (<see cref="DeleteDevice"/> deletes both
    /// ends): start a new one after <see cref="RecreateDevice"/>. The lab stops it on Dispose
    /// (disposing it earlier is fine).
    /// </summary>
    /// <param name="onPeer">True (the default) for the peer end, false for the device end.</param>
    /// <param name="bpfFilter">A tcpdump-style filter (for example <c>"udp port 6666"</c>), or null for every frame.</param>
    /// <returns>The running capture.</returns>
    /// <exception cref="NetworkLabException">libpcap is missing or the capture could not be opened.</exception>
    public LabCapture StartCapture(bool onPeer = true, string? bpfFilter = null)
    {
        ThrowIfDisposed();
        LabCapture capture;
        if (onPeer)
        {
            string peer = PeerName;
            capture = RunInPeerNamespace(() => LabCapture.Open(peer, bpfFilter));
        }
        else
        {
            lock (_gate)
            {
                RequireDevice();
                capture = LabCapture.Open(DeviceName, bpfFilter);
            }
        }

        return Track(capture);
    }

    // Starts the capture and hands it to the lab's cleanup. The capture thread starts out
    // here, not on a namespace thread, so it does not inherit the switch.
    private LabCapture Track(LabCapture capture)
    {
        capture.Start();
        lock (_gate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                capture.Dispose();
                ThrowIfDisposed();
            }

            _captures.Add(capture);
        }

        return capture;
    }

    // A UDP socket bound inside a namespace of the lab (IPv6Any makes it dual-stack), closed on Dispose.
    private Socket OpenUdpSocket(string namespacePath, IPEndPoint localEndPoint)
    {
        ThrowIfDisposed();
        Socket socket = RunInNamespace(namespacePath, () =>
        {
            var created = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                if (localEndPoint.Address.Equals(IPAddress.IPv6Any))
                {
                    created.DualMode = true;
                }

                created.Bind(localEndPoint);
                return created;
            }
            catch
            {
                created.Dispose();
                throw;
            }
        }, _log);
        lock (_gate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                socket.Dispose();
                ThrowIfDisposed();
            }

            _sockets.Add(socket);
        }

        return socket;
    }

    internal static T RunInNamespace<T>(string namespacePath, Func<T> function, LabLog log)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(namespacePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failure = ExceptionDispatchInfo.Capture(
                    new NetworkLabException($"Could not open the network namespace {namespacePath}: {e.Message}", e));
                return;
            }

            using (handle)
            {
                if (LabNative.SetNamespace(handle, LabNative.CloneNewNet) != 0)
                {
                    int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    failure = ExceptionDispatchInfo.Capture(
                        new NetworkLabException($"setns({namespacePath}, CLONE_NEWNET) failed: {Errno.Text(errno)}."));
                    return;
                }
            }

            try
            {
                result = function();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns " + Path.GetFileName(namespacePath),
        };
        log.Write($"(thread entering {namespacePath})");
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
