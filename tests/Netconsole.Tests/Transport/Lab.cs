using System.Diagnostics;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Transport;

/// <summary>
/// What the transport integration tests need of the network: the private network namespace
/// (checked first), and devices they create and delete themselves. Never touches a device
/// the test did not create, except lo.
/// </summary>
internal static class Lab
{
    private static int _next;

    /// <summary>Linux, root, libpcap and the private network namespace, or skip (fail on CI).</summary>
    public static void Require()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
    }

    /// <summary>A device name no other test uses (ncT plus a number and a suffix).</summary>
    public static string UniqueName(string suffix) => $"ncT{Interlocked.Increment(ref _next)}{suffix}";

    /// <summary>Runs <c>ip</c> with these arguments; throws with its error output when it fails.</summary>
    public static string Ip(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout;
    }

    /// <summary>Runs <c>ip</c> and ignores failure (cleanup of what may already be gone).</summary>
    public static void IpQuietly(params string[] arguments)
    {
        try
        {
            Ip(arguments);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>The interface index <c>ip</c> reports for a device.</summary>
    public static int IndexOf(string name)
    {
        // "7: ncT1a@ncT1b: <BROADCAST,..."
        string line = Ip("-o", "link", "show", "dev", name);
        return int.Parse(line[..line.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>A veth pair created in the private namespace, both ends up; deleted on dispose.</summary>
internal sealed class VethPair : IDisposable
{
    private VethPair(string a, string b)
    {
        A = a;
        B = b;
    }

    /// <summary>The end the tests send on.</summary>
    public string A { get; }

    /// <summary>The peer, where the tests capture.</summary>
    public string B { get; }

    public static VethPair Create()
    {
        Lab.Require();
        string a = Lab.UniqueName("a");
        string b = a[..^1] + "b";
        Lab.Ip("link", "add", a, "type", "veth", "peer", "name", b);
        var pair = new VethPair(a, b);
        try
        {
            Lab.Ip("link", "set", a, "up");
            Lab.Ip("link", "set", b, "up");
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    public void SetUp(string name) => Lab.Ip("link", "set", name, "up");

    public void SetDown(string name) => Lab.Ip("link", "set", name, "down");

    /// <summary>Deletes the pair (deleting one end deletes both).</summary>
    public void Delete() => Lab.Ip("link", "del", A);

    public void Dispose() => Lab.IpQuietly("link", "del", A);
}
