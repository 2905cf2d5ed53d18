using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;
using Netconsole.Interop;

namespace Netconsole.Lab;

// Ownership and stale cleanup. Every lab holds an exclusive flock on
// /run/netconsole-lab/ID.lock from before its namespace exists until after it is gone. The
// kernel drops the lock when the process dies, however it dies, so "lock file present and
// not locked" (or no lock file at all) means a crashed run, and a concurrent run's live lab
// is never mistaken for a stale one. /run is shared by every network namespace of the host
// (unshare -n makes no new mount namespace), as is /run/netns.
public sealed partial class NetworkLab
{
    private enum Ownership
    {
        Held,
        Stale,
        Missing,
    }

    /// <summary>The directory of the labs' ownership lock files: <c>/run/netconsole-lab</c>.</summary>
    public static string LockDirectory => "/run/netconsole-lab";

    /// <summary>
    /// Removes what crashed runs left behind: peer namespaces named exactly like a lab's
    /// (<see cref="NetworkLabOptions.NamePrefix"/> and five hex digits) and receiver namespaces
    /// (the same followed by <see cref="ReceiverNamespaceSuffix"/>) whose lab no longer holds its
    /// ownership lock, veth interfaces in the current namespace whose names start
    /// with such an id, and orphaned lock files. Live labs of this or any other process are
    /// left alone, and nothing outside the prefix's exact name shape is ever touched.
    /// </summary>
    /// <param name="options">The prefix and log to use; null for the defaults.</param>
    /// <returns>What was removed, as "netns NAME", "link NAME" and "lock NAME" entries.</returns>
    /// <exception cref="NetworkLabException">Not Linux or not root, or iproute2 is missing.</exception>
    public static IReadOnlyList<string> CleanupStale(NetworkLabOptions? options = null)
    {
        options ??= new NetworkLabOptions();
        RequireLinuxRoot();
        var log = new LabLog(options.Log, "cleanup " + options.NamePrefix);
        var ip = new IpCommand(log, options.CommandTimeout);
        var idShape = new Regex($"^{Regex.Escape(options.NamePrefix)}[0-9a-f]{{5}}", RegexOptions.CultureInvariant);
        var removed = new List<string>();

        IEnumerable<string> namespaces = Directory.Exists(NetnsDirectory)
            ? Directory.EnumerateFiles(NetnsDirectory).Select(Path.GetFileName).OfType<string>()
            : [];
        IEnumerable<string> locks = Directory.Exists(LockDirectory)
            ? Directory.EnumerateFiles(LockDirectory, "*.lock").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            : [];
        IReadOnlyList<string> veths = LabInterfaces.VethNames(ip);

        var ids = namespaces.Select(name => name.EndsWith(ReceiverNamespaceSuffix, StringComparison.Ordinal) ? name[..^ReceiverNamespaceSuffix.Length] : name)
            .Concat(locks)
            .Where(name => idShape.Match(name) is { Success: true } m && m.Length == name.Length)
            .Concat(veths.Select(name => idShape.Match(name)).Where(m => m.Success).Select(m => m.Value))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);

        foreach (string id in ids)
        {
            (Ownership ownership, SafeFileHandle? handle) = CheckOwnership(id);
            if (ownership == Ownership.Held)
            {
                continue;
            }

            using (handle)
            {
                foreach (string veth in veths.Where(name => name.StartsWith(id, StringComparison.Ordinal)))
                {
                    if (ip.TryRun("link", "del", "dev", veth).Succeeded)
                    {
                        removed.Add("link " + veth);
                    }
                }

                // A router lab's receiver namespace first, then the peer (or router) namespace.
                bool left = false;
                foreach (string name in new[] { id + ReceiverNamespaceSuffix, id })
                {
                    if (!File.Exists(Path.Combine(NetnsDirectory, name)))
                    {
                        continue;
                    }

                    if (ip.TryRun("netns", "del", name).Succeeded)
                    {
                        removed.Add("netns " + name);
                    }
                    else
                    {
                        log.Problem($"could not delete the stale namespace {name}; the lock file of {id} stays");
                        left = true;
                    }
                }

                if (left)
                {
                    continue;
                }

                if (ownership == Ownership.Stale)
                {
                    // Deleted while holding the lock, so no other cleanup can take it in between.
                    File.Delete(OwnershipPath(id));
                    removed.Add("lock " + id);
                }
            }
        }

        return removed;
    }

    private static string OwnershipPath(string id) => Path.Combine(LockDirectory, id + ".lock");

    // Picks an unused id and takes its ownership lock, before anything else of the lab exists.
    private static (string Id, SafeFileHandle Ownership) ClaimId(string prefix)
    {
        try
        {
            Directory.CreateDirectory(LockDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NetworkLabException($"Could not create the lab's lock directory {LockDirectory}: {e.Message}", e);
        }

        for (int attempt = 0; attempt < 32; attempt++)
        {
            string id = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))[..5];
            if (File.Exists(Path.Combine(NetnsDirectory, id)) || File.Exists(Path.Combine(NetnsDirectory, id + ReceiverNamespaceSuffix)))
            {
                continue;
            }

            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(OwnershipPath(id), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
            }
            catch (IOException) when (File.Exists(OwnershipPath(id)))
            {
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new NetworkLabException($"Could not create the lab's lock file {OwnershipPath(id)}: {e.Message}", e);
            }

            if (LabNative.Flock(handle, LabNative.LockExclusive | LabNative.LockNonBlocking) != 0)
            {
                // Another process created the same file a moment ago; let it have the id.
                handle.Dispose();
                continue;
            }

            // For people looking at the directory: who owns this lab.
            byte[] owner = Encoding.ASCII.GetBytes(
                $"pid {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} {Environment.ProcessPath}\n");
            RandomAccess.Write(handle, owner, 0);
            return (id, handle);
        }

        throw new NetworkLabException($"Could not find an unused lab id with the prefix '{prefix}' in 32 attempts.");
    }

    // Held: a live lab owns the id. Stale: the lock file exists and this process now holds its
    // lock (returned, to keep it until cleanup is done). Missing: there is no lock file.
    private static (Ownership, SafeFileHandle?) CheckOwnership(string id)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(OwnershipPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (Ownership.Missing, null);
        }
        catch (IOException)
        {
            // .NET takes a shared flock of its own when opening; it fails against the owner's exclusive one.
            return (Ownership.Held, null);
        }

        if (LabNative.Flock(handle, LabNative.LockExclusive | LabNative.LockNonBlocking) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            if (errno != LabNative.WouldBlock)
            {
                throw new NetworkLabException($"flock({OwnershipPath(id)}) failed: {Errno.Text(errno)}.");
            }

            return (Ownership.Held, null);
        }

        return (Ownership.Stale, handle);
    }
}
