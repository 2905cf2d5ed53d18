namespace Netconsole.Receiving;

/// <summary>
/// What a received record's signature says (see <see cref="Wire.RecordSigningKey"/> and
/// <see cref="RecordReassemblerOptions.SigningKeys"/>). A replay of a signed record is not
/// delivered at all: it is counted in <see cref="ReceiveStatistics.ReplaysRejected"/>.
/// </summary>
public enum RecordSignature
{
    /// <summary>The record carries no signature line (basic-format text, the kernel's records, an unsigned target).</summary>
    NotSigned = 0,

    /// <summary>Signed with a key of the keyring, and the signature matches every byte it covers (every part, for a continued group).</summary>
    Verified = 1,

    /// <summary>Signed with a key id the keyring does not hold, so it could not be checked.</summary>
    UnknownKey = 2,

    /// <summary>Signed, but the signature does not match: a byte was changed on the way, or the record is forged.</summary>
    Invalid = 3,
}
