namespace Netconsole;

/// <summary>
/// Where a record stands in a continued group (the extended format's <c>flag</c> field).
/// </summary>
public enum RecordContinuation
{
    /// <summary>A standalone record (<c>-</c> on the wire).</summary>
    None = 0,

    /// <summary>The first record of a continued group (<c>c</c> on the wire).</summary>
    First = 1,

    /// <summary>A record continuing the group started by the previous one (<c>+</c> on the wire).</summary>
    Continuation = 2,
}
