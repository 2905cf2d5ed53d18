using System.Runtime.InteropServices;

namespace Netconsole.Tests.Support;

/// <summary>
/// Preconditions of integration tests. Outside CI a missing precondition skips the test (use
/// [SkippableFact]/[SkippableTheory]); with CI=true it fails it, so CI can never pass by
/// skipping what it was meant to prove.
/// </summary>
internal static class Requires
{
    public static bool OnCi => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>Linux and root (CAP_NET_ADMIN / CAP_NET_RAW).</summary>
    public static void LinuxRoot()
    {
        That(OperatingSystem.IsLinux(), "needs Linux");
        That(geteuid() == 0, "needs root (run ./test.sh as root)");
    }

    /// <summary>Native libpcap loadable (Debian/Ubuntu: libpcap0.8).</summary>
    public static void Libpcap()
    {
        bool found = NativeLibrary.TryLoad("libpcap.so.1", out IntPtr h) || NativeLibrary.TryLoad("libpcap.so.0.8", out h) || NativeLibrary.TryLoad("libpcap.so", out h);
        That(found, "needs native libpcap (apt-get install libpcap0.8)");
    }

    /// <summary>
    /// The test process runs in a private network namespace (./test.sh runs the tests under
    /// unshare -n and sets NETCONSOLE_TEST_NETNS=1), so injecting on lo reaches nothing else.
    /// </summary>
    public static void PrivateNetworkNamespace()
    {
        That(Environment.GetEnvironmentVariable("NETCONSOLE_TEST_NETNS") == "1",
            "needs the private network namespace ./test.sh creates (unshare -n)");
    }

    /// <summary>
    /// A Native AOT publish for linux-x64 can run: an x64 Linux machine with clang, the platform
    /// linker ILC drives (Debian/Ubuntu: clang zlib1g-dev; ./test.sh installs them).
    /// </summary>
    public static void NativeAotToolchain()
    {
        That(OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64, "needs x64 Linux (it publishes for linux-x64)");
        That(ChildProcess.FindOnPath("clang") is not null, "needs clang for Native AOT (apt-get install clang zlib1g-dev)");
    }

    /// <summary>The environment variable naming a netconsd source folder for the netconsd interop tests.</summary>
    public const string NetconsdSourceVariable = "NETCONSD_SOURCE";

    /// <summary>
    /// netconsd's source (https://github.com/facebook/netconsd) to build the real receiver from:
    /// the folder <c>NETCONSD_SOURCE</c> names, else <c>shared/third_party/netconsd</c> beside the
    /// clone (<c>../shared</c>) or beside a folder above it (a CI checkout may sit deeper); and make
    /// and a C compiler to build it. Returns the folder (only read, never written).
    /// </summary>
    public static string NetconsdSource()
    {
        string? named = Environment.GetEnvironmentVariable(NetconsdSourceVariable);
        string folder = Path.GetFullPath(named is { Length: > 0 } ? named : SharedNetconsd());
        bool found = File.Exists(Path.Combine(folder, "Makefile")) && File.Exists(Path.Combine(folder, "worker.c"));
        That(found, named is { Length: > 0 }
            ? $"needs netconsd's source, and {NetconsdSourceVariable} names {folder}, which holds none (no Makefile and worker.c): point it at a checkout of https://github.com/facebook/netconsd"
            : $"needs netconsd's source: put a checkout of https://github.com/facebook/netconsd at {folder}, or set {NetconsdSourceVariable} to one");
        That(ChildProcess.FindOnPath("make") is not null && ChildProcess.FindOnPath("cc") is not null,
            "needs make and a C compiler (cc) to build netconsd (apt-get install make gcc)");
        return folder;
    }

    private static string SharedNetconsd()
    {
        string nearest = Path.Combine(Repository.Root(), "..", "shared", "third_party", "netconsd");
        for (DirectoryInfo? dir = Directory.GetParent(Repository.Root()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "third_party", "netconsd");
            if (File.Exists(Path.Combine(candidate, "Makefile")))
            {
                return candidate;
            }
        }

        return nearest;
    }

    public static void That(bool condition, string reason)
    {
        if (condition)
        {
            return;
        }

        if (OnCi)
        {
            throw new InvalidOperationException($"CI=true and this test {reason}: failing instead of skipping.");
        }

        throw new SkipException($"Skipped: this test {reason}.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern uint geteuid();
}
