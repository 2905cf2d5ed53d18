namespace Netconsole.Receiving;

/// <summary>How a <see cref="NetconsoleReceiver"/> tells senders apart.</summary>
public enum SenderKey
{
    /// <summary>
    /// By source address and port: an application and the host's kernel netconsole on the same
    /// address keep separate sequence streams as long as their source ports differ.
    /// </summary>
    AddressAndPort = 0,

    /// <summary>
    /// By source address only, as netconsd does: every record's <see cref="ReceivedRecord.Sender"/>
    /// has port 0, and two senders on one address mix their sequence numbers (gaps and restarts
    /// are then counted wrongly).
    /// </summary>
    Address = 1,
}
