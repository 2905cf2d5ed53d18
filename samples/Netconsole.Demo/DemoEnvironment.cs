using System.Runtime.InteropServices;
using Netconsole.Lab;

namespace Netconsole.Demo;

/// <summary>What the demo needs before it sends anything: Linux, root, libpcap, a private network namespace.</summary>
internal static class DemoEnvironment
{
    /// <summary>Checks every precondition and returns one line per missing one (empty when all are met).</summary>
    public static IReadOnlyList<string> Missing()
    {
        var missing = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            missing.Add("Linux: the demo uses network namespaces and veth interfaces (this is " + RuntimeInformation.OSDescription + ").");
            return missing;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            missing.Add("root: injecting frames with libpcap and creating interfaces need CAP_NET_RAW and CAP_NET_ADMIN (run ./demo.sh as root).");
        }

        if (!HasLibpcap())
        {
            missing.Add("native libpcap: install it as root with 'apt-get install libpcap0.8' (Debian/Ubuntu) or 'dnf install libpcap' (Fedora/RHEL).");
        }

        if (Environment.GetEnvironmentVariable(NetworkLab.PrivateNamespaceVariable) != "1")
        {
            missing.Add($"a private network namespace: run the demo through ./demo.sh, which starts it under 'unshare -n' with {NetworkLab.PrivateNamespaceVariable}=1 (the demo never sends on the host's interfaces).");
        }

        return missing;
    }

    private static bool HasLibpcap()
    {
        foreach (string name in new[] { "libpcap.so.1", "libpcap.so.0.8", "libpcap.so" })
        {
            if (NativeLibrary.TryLoad(name, out IntPtr handle))
            {
                NativeLibrary.Free(handle);
                return true;
            }
        }

        return false;
    }
}
