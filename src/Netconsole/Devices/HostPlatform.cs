using System.Runtime.Versioning;

namespace Netconsole.Devices;

/// <summary>The operating systems whose rules the library tells apart.</summary>
internal enum HostKind
{
    /// <summary>Linux: kernel interface names, rtnetlink, the interface ioctls.</summary>
    Linux,

    /// <summary>Windows: Npcap device names (<c>\Device\NPF_{GUID}</c>) and connection names such as <c>Ethernet 2</c>.</summary>
    Windows,

    /// <summary>macOS: BSD interface names such as <c>en0</c>.</summary>
    MacOS,

    /// <summary>Any other system (FreeBSD, ...): treated like macOS.</summary>
    Other,
}

/// <summary>
/// Which system the library runs on, as far as its rules are concerned: device names, and
/// whether the Linux-only facilities (rtnetlink routes, neighbours and links, the interface
/// ioctls) exist. Tests on Linux pretend to be another system with <see cref="Pretend"/>, for the
/// current flow of execution only (an <see cref="AsyncLocal{T}"/>: threads and tasks started
/// inside the scope see it too, tests running in parallel do not).
/// </summary>
internal static class HostPlatform
{
    private static readonly AsyncLocal<HostKind?> Pretended = new();

    /// <summary>The system whose rules apply: the real one, or the one pretended in this flow.</summary>
    public static HostKind Current => Pretended.Value ?? Actual;

    /// <summary>
    /// Whether Linux's rules and facilities apply. Only ever true on Linux (a test can pretend
    /// to be another system, never to be Linux), so it guards Linux-only calls.
    /// </summary>
    [SupportedOSPlatformGuard("linux")]
    public static bool IsLinux => OperatingSystem.IsLinux() && Pretended.Value is null;

    private static HostKind Actual =>
        OperatingSystem.IsLinux() ? HostKind.Linux
        : OperatingSystem.IsWindows() ? HostKind.Windows
        : OperatingSystem.IsMacOS() ? HostKind.MacOS
        : HostKind.Other;

    /// <summary>Applies the rules of <paramref name="kind"/> in this flow until the result is disposed (tests).</summary>
    /// <param name="kind">Any system but Linux: pretending to be Linux elsewhere would call what does not exist.</param>
    /// <returns>Restores the previous rules when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is <see cref="HostKind.Linux"/>.</exception>
    public static IDisposable Pretend(HostKind kind)
    {
        if (kind == HostKind.Linux)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only another system than Linux can be pretended.");
        }

        HostKind? previous = Pretended.Value;
        Pretended.Value = kind;
        return new Restore(previous);
    }

    private sealed class Restore(HostKind? previous) : IDisposable
    {
        public void Dispose() => Pretended.Value = previous;
    }
}
