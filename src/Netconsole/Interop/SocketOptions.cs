using System.Net.Sockets;

namespace Netconsole.Interop;

/// <summary>Socket options set the same way wherever the package opens a socket.</summary>
internal static class SocketOptions
{
    /// <summary>
    /// Asks for a receive buffer of <paramref name="bytes"/>, best effort: on Linux first the
    /// forced size (SO_RCVBUFFORCE, which needs CAP_NET_ADMIN), else the plain one, which the
    /// kernel caps at net.core.rmem_max; when both are refused the default buffer stays.
    /// </summary>
    /// <returns>False when the socket keeps its default buffer.</returns>
    public static bool TrySetReceiveBuffer(Socket socket, int bytes)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                socket.SetRawSocketOption(SocketConstants.LevelSocket, SocketConstants.ReceiveBufferForce, BitConverter.GetBytes(bytes));
                return true;
            }
            catch (SocketException)
            {
                // No CAP_NET_ADMIN: the plain option.
            }
        }

        try
        {
            socket.ReceiveBufferSize = bytes;
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
