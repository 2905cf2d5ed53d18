namespace Netconsole.Demo;

/// <summary>
/// What one scene did: records logged, received by the receiver, dropped and counted by the
/// targets, and whether everything the scene checked held.
/// </summary>
internal sealed record SceneResult(string Name, int Logged, int Received, long Dropped, bool Passed, string? Problem = null)
{
    /// <summary>Records neither received nor counted as dropped: must be 0.</summary>
    public long Lost => Logged - Received - Dropped;

    public bool Ok => Passed && Lost == 0;
}
