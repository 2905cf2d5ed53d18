using System.Globalization;
using System.Reflection;
using System.Text;

namespace Netconsole.Wire;

/// <summary>
/// How a <see cref="RecordFormatter"/> writes records: basic or extended, the release prefix,
/// the facility of records that carry none, userdata and sysdata lines, the printk time of basic
/// records. Addresses and devices are not part of it. <c>NetconsoleTargetOptions.ToRecordFormat()</c>
/// gives a target's; build one directly to format records without a target (a pcap file, a
/// sender of your own).
/// </summary>
/// <remarks>
/// Immutable once built: <see cref="Userdata"/> is copied when set. Every setter checks its value
/// and throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>)
/// saying what is wrong.
/// </remarks>
public sealed class RecordFormat
{
    /// <summary>
    /// The longest release string, 63 characters (ASCII): netconsd looks for the <c>,</c> that ends
    /// a release within a record's first 64 bytes, so a 64-character release breaks the record.
    /// </summary>
    internal const int MaxReleaseLength = 63;

    /// <summary>
    /// The most bytes all userdata lines together may take, 6144: a record keeps room for its
    /// header, text and sysdata within netconsd's 8191-byte reassembly limit.
    /// </summary>
    internal const int MaxUserdataBytes = 6144;

    private readonly string? _release;
    private readonly int _facility = 1;
    private readonly SysdataFields _sysdata;
    private readonly KeyValuePair<string, string>[] _userdata = [];

    /// <summary>
    /// The entry assembly's informational version (for example <c>1.4.0+3f2a9c1</c>), or
    /// <c>0.0.0</c> when there is none or it could not be used as a release string.
    /// </summary>
    public static string DefaultRelease { get; } = ComputeDefaultRelease();

    /// <summary>Write the extended format (<c>+</c> in the kernel syntax). The default is <see langword="false"/> (basic).</summary>
    public bool Extended { get; init; }

    /// <summary>Prepend the release to every extended record (<c>r</c> in the kernel syntax). Needs <see cref="Extended"/>. The default is <see langword="false"/>.</summary>
    public bool PrependRelease { get; init; }

    /// <summary>
    /// Start every line of a basic record with the kernel's printk time, <c>[    T.TTTTTT] </c>: the
    /// record's <see cref="NetconsoleRecord.TimestampMicroseconds"/> as seconds right-aligned in 5
    /// characters (wider from 100000 s on), a <c>.</c>, 6 digits of microseconds, then <c>] </c>, as
    /// the kernel's console output with <c>printk.time</c> on. Each line of the text gets it (a text
    /// with newlines is several lines, as a multi-line printk); the prefixed lines are then cut into
    /// 1000-byte datagrams as usual, so a datagram that continues a long line has none. Basic format
    /// only: the extended format carries the timestamp in its header (<see cref="RecordFormatter"/>
    /// refuses both together). The default is <see langword="false"/>.
    /// </summary>
    public bool PrintkTime { get; init; }

    /// <summary>
    /// The release written by <see cref="PrependRelease"/> and the <c>release</c> sysdata line.
    /// The default is <see cref="DefaultRelease"/>. A release is 1-63 printable ASCII characters
    /// (0x21-0x7e; netconsd looks for the <c>,</c> that ends it within a record's first 64 bytes),
    /// contains a <c>.</c> (netconsd takes a record's first field for a release only when it has
    /// one) and no <c>,</c> or <c>;</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The string is not a usable release; the message says which rule it breaks.</exception>
    public string Release
    {
        get => _release ?? DefaultRelease;
        init => _release = ReleaseRule(value ?? throw new ArgumentNullException(nameof(value))) is { } rule
            ? throw new ArgumentException($"\"{value}\" is not a usable release: {rule}. Example: \"6.4.0\".", nameof(value))
            : value;
    }

    /// <summary>
    /// Signs every record (HMAC-SHA256, one more dictionary line, see <see cref="RecordSigningKey"/>)
    /// with this key, or <see langword="null"/> (the default) for none. Needs <see cref="Extended"/>:
    /// the basic format has no dictionary (<see cref="RecordFormatter"/> refuses it).
    /// </summary>
    public RecordSigningKey? SigningKey { get; init; }

    /// <summary>The syslog facility of records that carry none, 0 (kern) to 23 (local7). The default is 1 (user).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The facility is outside 0-23.</exception>
    public int Facility
    {
        get => _facility;
        init => _facility = value is >= 0 and <= 23
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A facility is 0 (kern) to 23 (local7).");
    }

    /// <summary>
    /// Userdata: <c> key=value</c> lines appended to every extended record, in this order (an
    /// entry with an empty value is left out). Sent as they are, like the kernel's: keys hold no
    /// <c>=</c> or whitespace and values no control characters (<c>UserdataCollection</c> checks
    /// each entry). The default is none.
    /// </summary>
    /// <exception cref="ArgumentException">A key is empty, or the lines total more than 6144 bytes.</exception>
    public IReadOnlyList<KeyValuePair<string, string>> Userdata
    {
        get => _userdata;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            KeyValuePair<string, string>[] copy = [.. value];
            int total = 0;
            foreach (KeyValuePair<string, string> pair in copy)
            {
                if (string.IsNullOrEmpty(pair.Key) || pair.Value is null)
                {
                    throw new ArgumentException("A userdata entry needs a key and a value (empty to leave it out).", nameof(value));
                }

                total += LineLength(pair);
            }

            _userdata = total <= MaxUserdataBytes
                ? copy
                : throw new ArgumentException($"The userdata lines total {total} bytes; at most {MaxUserdataBytes} are allowed, so a record keeps room for its text within netconsd's 8191-byte reassembly limit.", nameof(value));
        }
    }

    /// <summary>Sysdata lines appended to every extended record. The default is <see cref="SysdataFields.None"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value has flags outside <see cref="SysdataFields.All"/>.</exception>
    public SysdataFields Sysdata
    {
        get => _sysdata;
        init => _sysdata = (value & ~SysdataFields.All) == 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Sysdata is a combination of Cpu, TaskName, Release and MessageId.");
    }

    /// <summary>The bytes of one userdata entry on the wire: <c>" key=value\n"</c>, or 0 for an empty value (left out).</summary>
    internal static int LineLength(KeyValuePair<string, string> pair) =>
        pair.Value.Length == 0 ? 0 : 3 + Encoding.UTF8.GetByteCount(pair.Key) + Encoding.UTF8.GetByteCount(pair.Value);

    /// <summary>
    /// Whether <paramref name="release"/> can be sent as a release: 1-63 characters, all printable
    /// ASCII (0x21-0x7e), at least one <c>.</c>, and no <c>,</c> or <c>;</c>.
    /// </summary>
    internal static bool IsUsableRelease(string release) => ReleaseRule(release) is null;

    /// <summary>
    /// Why <paramref name="release"/> cannot be sent as a release (the rule it breaks, for an
    /// error message), or <see langword="null"/> when it can.
    /// </summary>
    /// <remarks>
    /// netconsd takes a record's field 0 for a release only when it has a <c>.</c> before the first
    /// <c>,</c>, and looks for both within the record's first 64 bytes (so the release's own
    /// <c>,</c> must be among them); a <c>,</c> or <c>;</c> inside would shift the header fields,
    /// and whitespace or control characters have no place in a header.
    /// </remarks>
    internal static string? ReleaseRule(string release)
    {
        if (release.Length == 0)
        {
            return "a release is 1-63 printable ASCII characters";
        }

        if (release.Length > MaxReleaseLength)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"a release is at most {MaxReleaseLength} characters, and this one has {release.Length} (netconsd looks for the ',' that ends the release within a record's first 64 bytes, so a longer release breaks the record)");
        }

        bool dot = false;
        foreach (char c in release)
        {
            if (c is < (char)0x21 or > (char)0x7e or ',' or ';')
            {
                return "a release is printable ASCII characters (0x21-0x7e) without ',' or ';' (they would shift the header's fields)";
            }

            dot |= c == '.';
        }

        return dot ? null : "a release contains a '.' (netconsd takes the first field for a release only when it has a '.')";
    }

    private static string ComputeDefaultRelease()
    {
        string? version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return version is not null && IsUsableRelease(version) ? version : "0.0.0";
    }
}
