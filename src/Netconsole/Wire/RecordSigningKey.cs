using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Netconsole.Wire;

/// <summary>
/// A key that signs extended records (HMAC-SHA256), and that a receiver's keyring verifies them
/// with: a key id, sent in every signed record so the receiver knows which key to use (several
/// keys at once allow rotation), and a secret of at least 32 bytes, never sent, logged or printed.
/// </summary>
/// <remarks>
/// <para>
/// A signed record carries one more dictionary line, its last: <c> ncsig=v1:KEYID:RUN:MAC\n</c>,
/// RUN being 11 base64url characters drawn at random when the formatter is created (so a receiver
/// tells a sender that restarted, and numbers its records from low again, from a replay of its
/// old records), and MAC the HMAC-SHA256 of every byte of the record before it, up to and
/// including <c>ncsig=v1:KEYID:RUN:</c> (the release prefix, the header without <c>ncfrag</c>,
/// <c>;</c>, the text, every other dictionary line, userdata, sysdata), in base64url without
/// padding (43 characters).
/// A fragmented record is signed once (over the record, before it is cut); each part of a
/// continued group is signed on its own. For netconsd, socat and the kernel format it is one more
/// dictionary line. docs/wire.md has the exact rule, for receivers of your own.
/// </para>
/// <para>
/// Signing tells a forged or altered record from a real one, and (with the sequence numbers the
/// receiver tracks per key) a replayed one. It does not hide anything: records still travel in
/// clear text. Loss is what sequence numbers show.
/// </para>
/// </remarks>
public sealed class RecordSigningKey
{
    /// <summary>The shortest secret, 32 bytes (the HMAC-SHA256 output size).</summary>
    public const int MinSecretLength = 32;

    /// <summary>The longest key id, 32 characters.</summary>
    public const int MaxKeyIdLength = 32;

    /// <summary>The length of the MAC in a signature line, 43 characters (32 bytes in base64url without padding).</summary>
    internal const int MacTextLength = 43;

    /// <summary>The dictionary key of the signature line.</summary>
    internal const string LineKey = "ncsig";

    /// <summary>The length of a run id, 11 characters (8 random bytes in base64url).</summary>
    internal const int RunIdLength = 11;

    private readonly byte[] _secret;

    /// <summary>Creates a key from its id and secret bytes (copied).</summary>
    /// <param name="keyId">1-32 characters of <c>A-Z a-z 0-9 . _ -</c>: it is sent in every signed record.</param>
    /// <param name="secret">At least <see cref="MinSecretLength"/> bytes, from a good random source (for example <c>RandomNumberGenerator.GetBytes(32)</c>).</param>
    /// <exception cref="ArgumentException">The key id or the secret is not usable; the message says why.</exception>
    public RecordSigningKey(string keyId, ReadOnlySpan<byte> secret)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (KeyIdRule(keyId) is { } rule)
        {
            throw new ArgumentException($"\"{keyId}\" is not a usable signing key id: {rule}. Example: \"logs-2026\".", nameof(keyId));
        }

        if (secret.Length < MinSecretLength)
        {
            throw new ArgumentException(
                $"A signing secret has at least {MinSecretLength} bytes; this one has {secret.Length}. Make one with RandomNumberGenerator.GetBytes(32) (or `openssl rand -base64 32`).",
                nameof(secret));
        }

        KeyId = keyId;
        _secret = secret.ToArray();
    }

    /// <summary>The key id, sent in every record signed with this key.</summary>
    public string KeyId { get; }

    /// <summary>The secret (the process-death watchdog gets it through shared memory, never a command line).</summary>
    internal ReadOnlySpan<byte> Secret => _secret;

    /// <summary><c> ncsig=v1:KEYID:RUN:</c> for a new run id: the signature line up to its MAC (covered by the MAC).</summary>
    internal byte[] NewLinePrefix()
    {
        Span<byte> run = stackalloc byte[8];
        RandomNumberGenerator.Fill(run);
        return Encoding.ASCII.GetBytes($" {LineKey}=v1:{KeyId}:{Base64Url.EncodeToString(run)}:");
    }

    /// <summary>
    /// Creates a key from its id and a secret written in base64 (or base64url), as configuration
    /// and environment variables hold it.
    /// </summary>
    /// <param name="keyId">The key id (see the constructor).</param>
    /// <param name="base64Secret">The secret in base64, at least 32 bytes once decoded.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException">The text is not base64, or the key id or secret is not usable.</exception>
    public static RecordSigningKey FromBase64(string keyId, string base64Secret)
    {
        ArgumentNullException.ThrowIfNull(base64Secret);
        string text = base64Secret.Trim();
        byte[] secret = new byte[text.Length];
        if (Convert.TryFromBase64String(text, secret, out int length))
        {
            secret = secret[..length];
        }
        else
        {
            try
            {
                secret = Base64Url.DecodeFromChars(text.TrimEnd('='));
            }
            catch (FormatException)
            {
                // Never the text itself in the message: it is a secret.
                throw new ArgumentException($"The signing secret of key \"{keyId}\" is neither base64 nor base64url ({text.Length} characters). Make one with `openssl rand -base64 32`.", nameof(base64Secret));
            }
        }

        try
        {
            return new RecordSigningKey(keyId, secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The key id only: the secret is never printed.</summary>
    /// <returns>For example <c>signing key logs-2026</c>.</returns>
    public override string ToString() => "signing key " + KeyId;

    /// <summary>
    /// An HMAC-SHA256 with this key, to be reused record after record by one user at a time (a
    /// formatter, a reassembler): the one-shot <see cref="HMACSHA256.HashData(byte[], byte[])"/>
    /// sets up a new native context per call, ~1.7 µs of a signed record's ~1.9 µs.
    /// </summary>
    internal IncrementalHash CreateHmac() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret);

    /// <summary>Writes the MAC of <paramref name="signed"/> (everything the line covers) as 43 base64url characters.</summary>
    internal void WriteMac(ReadOnlySpan<byte> signed, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_secret, signed, mac);
        Base64Url.EncodeToUtf8(mac, destination[..MacTextLength]);
    }

    /// <summary>As <see cref="WriteMac(ReadOnlySpan{byte}, Span{byte})"/>, with an HMAC of this key from <see cref="CreateHmac"/>.</summary>
    internal static void WriteMac(IncrementalHash hmac, ReadOnlySpan<byte> signed, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        hmac.AppendData(signed);
        hmac.GetHashAndReset(mac);
        Base64Url.EncodeToUtf8(mac, destination[..MacTextLength]);
    }

    /// <summary>Whether <paramref name="macText"/> (43 base64url characters) is the MAC of <paramref name="signed"/>, in constant time.</summary>
    /// <param name="signed">Every byte the MAC covers.</param>
    /// <param name="macText">The MAC as received.</param>
    /// <param name="hmac">This key's reusable HMAC (<see cref="CreateHmac"/>), or <see langword="null"/> for a one-shot one.</param>
    internal bool Verifies(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> macText, IncrementalHash? hmac = null)
    {
        if (macText.Length != MacTextLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacTextLength];
        if (hmac is null)
        {
            WriteMac(signed, expected);
        }
        else
        {
            WriteMac(hmac, signed, expected);
        }

        return CryptographicOperations.FixedTimeEquals(expected, macText);
    }

    private static string? KeyIdRule(string keyId)
    {
        if (keyId.Length is 0 or > MaxKeyIdLength)
        {
            return $"a key id has 1 to {MaxKeyIdLength} characters";
        }

        foreach (char c in keyId)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return "a key id has only letters, digits, '.', '_' and '-' (it goes into a dictionary line)";
            }
        }

        return null;
    }
}
