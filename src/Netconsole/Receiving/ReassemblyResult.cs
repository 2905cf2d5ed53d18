namespace Netconsole.Receiving;

/// <summary>What <see cref="RecordReassembler.Add"/> did with a datagram.</summary>
public enum ReassemblyResult
{
    /// <summary>Used: a record delivered, a fragment stored, or a continued group part held.</summary>
    Accepted = 0,

    /// <summary>A copy of a fragment or record already received: ignored and counted.</summary>
    Duplicate = 1,

    /// <summary>Broken (a bad extended header, or a fragment that contradicts its record): ignored and counted in <see cref="ReceiveStatistics.DatagramsMalformed"/>.</summary>
    Malformed = 2,
}
