using System.Net.Sockets;
using System.Runtime.Versioning;
using Netconsole.Interop;

namespace Netconsole.Netlink;

/// <summary>Handles one received datagram of a request's answer; returns true when the answer is complete.</summary>
/// <param name="datagram">What one recv returned.</param>
internal delegate bool NetlinkDatagramHandler(ReadOnlySpan<byte> datagram);

/// <summary>
/// One rtnetlink request and its answer: a fresh NETLINK_ROUTE socket bound to no multicast
/// group (so nothing but the answer arrives on it), the request, and the answer's datagrams read
/// with a timeout.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class NetlinkExchange
{
    /// <summary>How long a lookup waits for (each datagram of) its answer.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    private static int _sequence;

    /// <summary>A fresh, non-zero sequence number for a request (0 is what notifications carry).</summary>
    public static uint NextSequence()
    {
        uint sequence = (uint)Interlocked.Increment(ref _sequence);
        return sequence == 0 ? (uint)Interlocked.Increment(ref _sequence) : sequence;
    }

    /// <summary>
    /// Sends <paramref name="request"/> on a fresh socket and hands every received datagram to
    /// <paramref name="handler"/> until it returns true.
    /// </summary>
    /// <param name="request">The request, its sequence number in the header.</param>
    /// <param name="handler">Reads the answer.</param>
    /// <param name="timeout">How long to wait for each datagram.</param>
    /// <param name="what">The request as failure messages name it (<c>The rtnetlink {what} failed</c>).</param>
    /// <exception cref="IOException">The socket could not be opened, or the kernel did not answer within <paramref name="timeout"/>.</exception>
    public static void Run(byte[] request, NetlinkDatagramHandler handler, TimeSpan timeout, string what = "request")
    {
        using Socket socket = NetlinkSocket.Open(groups: 0);
        try
        {
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            socket.Send(request);
            byte[] buffer = new byte[NetlinkSocket.DatagramBytes];
            while (true)
            {
                int received = socket.Receive(buffer);
                if (handler(buffer.AsSpan(0, received)))
                {
                    return;
                }
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"The rtnetlink {what} failed: {e.Message}", e);
        }
    }

    /// <summary>The failure of a request the kernel answered with an NLMSG_ERROR.</summary>
    /// <param name="request">The request, for example <c>RTM_GETLINK dump</c>.</param>
    /// <param name="errno">The (positive) errno.</param>
    public static IOException Refused(string request, int errno) =>
        new($"The kernel refused the {request}: {Errno.Text(errno)}.");
}
