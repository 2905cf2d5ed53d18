namespace Netconsole.Lab;

/// <summary>
/// The network lab could not do what it was asked: a precondition is missing (Linux, root,
/// a private network namespace, iproute2, libpcap) or a command failed. The message says
/// which, with the command and its error output.
/// </summary>
public sealed class NetworkLabException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public NetworkLabException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and, where possible, what to do.</param>
    public NetworkLabException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What failed and, where possible, what to do.</param>
    /// <param name="innerException">The cause.</param>
    public NetworkLabException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
