using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Netconsole.Wire;

namespace Netconsole.Receiving;

/// <summary>The result of checking one record: its status, and for a signed record the key id and run it names.</summary>
internal readonly record struct SignatureCheck(RecordSignature Status, string? KeyId, string? Run)
{
    /// <summary>An unsigned record's check.</summary>
    public static readonly SignatureCheck Unsigned = new(RecordSignature.NotSigned, null, null);
}

/// <summary>
/// Checks the signature line of one complete record (docs/wire.md, "Signed records"): the record's
/// last line must be <c> ncsig=v1:KEYID:RUN:MAC\n</c>, and MAC the HMAC-SHA256, with the key named,
/// of the signed header, <c>;</c>, and the record's data up to and including <c>RUN:</c>.
/// </summary>
internal static class RecordSignatureCheck
{
    private static readonly byte[] LineStart = Encoding.ASCII.GetBytes($"\n {RecordSigningKey.LineKey}=");
    private static readonly byte[] Version = "v1:"u8.ToArray();

    /// <summary>Checks a record.</summary>
    /// <param name="signedHeader">The header as the signature covers it (<see cref="ParsedDatagram.SignedHeader"/>).</param>
    /// <param name="data">The record's data (all fragments put together), as received (escaped).</param>
    /// <param name="keyring">The keys, by id.</param>
    /// <param name="hmacs">The caller's reusable HMAC per key id, made as needed (one user at a time); <see langword="null"/> for one-shot ones.</param>
    /// <returns>What the signature says.</returns>
    public static SignatureCheck Check(ReadOnlySpan<byte> signedHeader, ReadOnlySpan<byte> data, IReadOnlyDictionary<string, RecordSigningKey> keyring, Dictionary<string, IncrementalHash>? hmacs = null)
    {
        // The last line: after the last "\n ncsig=" and ending the data with its own "\n".
        int line = data.LastIndexOf(LineStart);
        if (line < 0 || data[^1] != (byte)'\n' || data[(line + 1)..^1].Contains((byte)'\n'))
        {
            return new SignatureCheck(RecordSignature.NotSigned, null, null);
        }

        ReadOnlySpan<byte> value = data[(line + LineStart.Length)..^1];
        if (!value.StartsWith(Version))
        {
            return new SignatureCheck(RecordSignature.Invalid, null, null); // a version this receiver does not know
        }

        ReadOnlySpan<byte> fields = value[Version.Length..];
        int keyEnd = fields.IndexOf((byte)':');
        int runEnd = keyEnd < 0 ? -1 : fields[(keyEnd + 1)..].IndexOf((byte)':');
        if (keyEnd is < 1 or > RecordSigningKey.MaxKeyIdLength || runEnd != RecordSigningKey.RunIdLength)
        {
            return new SignatureCheck(RecordSignature.Invalid, null, null);
        }

        string keyId = Encoding.ASCII.GetString(fields[..keyEnd]);
        string run = Encoding.ASCII.GetString(fields.Slice(keyEnd + 1, runEnd));
        ReadOnlySpan<byte> mac = fields[(keyEnd + 1 + runEnd + 1)..];
        if (!keyring.TryGetValue(keyId, out RecordSigningKey? key))
        {
            return new SignatureCheck(RecordSignature.UnknownKey, keyId, run);
        }

        if (signedHeader.IsEmpty)
        {
            return new SignatureCheck(RecordSignature.Invalid, keyId, run);
        }

        // The covered bytes, laid out contiguously: header, ';', data up to the MAC.
        int covered = data.Length - 1 - mac.Length;
        int total = signedHeader.Length + 1 + covered;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            signedHeader.CopyTo(buffer);
            buffer[signedHeader.Length] = (byte)';';
            data[..covered].CopyTo(buffer.AsSpan(signedHeader.Length + 1));
            IncrementalHash? hmac = null;
            if (hmacs is not null && !hmacs.TryGetValue(keyId, out hmac))
            {
                hmac = key.CreateHmac();
                hmacs.Add(keyId, hmac);
            }

            bool verified = key.Verifies(buffer.AsSpan(0, total), mac, hmac);
            return new SignatureCheck(verified ? RecordSignature.Verified : RecordSignature.Invalid, keyId, run);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
