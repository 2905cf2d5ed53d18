using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using Netconsole.Devices;

namespace Netconsole.Lab;

/// <summary>
/// Reads interfaces through <c>ip -j</c>. Not /sys/class/net: under <c>unshare -n</c> without
/// a mount namespace, sysfs still shows the namespace that mounted it (the host's), not the
/// process's; rtnetlink (which ip uses) always answers for the caller's namespace.
/// </summary>
internal static class LabInterfaces
{
    /// <summary>The device named <paramref name="name"/>, or null when there is none.</summary>
    /// <param name="ip">Runs the command.</param>
    /// <param name="name">The interface name.</param>
    /// <param name="networkNamespace">The named namespace to look in, or null for the current one.</param>
    public static NetworkDevice? Query(IpCommand ip, string name, string? networkNamespace)
    {
        IpResult result = ip.TryRun(InNamespace(networkNamespace, "-j", "addr", "show", "dev", name));
        if (!result.Succeeded)
        {
            if (result.Error.Contains("does not exist", StringComparison.Ordinal))
            {
                return null;
            }

            throw new NetworkLabException(
                $"Could not read interface '{name}'{(networkNamespace is null ? "" : $" in namespace '{networkNamespace}'")}: {result.Error.Trim()}");
        }

        using JsonDocument document = JsonDocument.Parse(result.Output);
        foreach (JsonElement link in document.RootElement.EnumerateArray())
        {
            if (link.TryGetProperty("ifname", out JsonElement ifname) && ifname.GetString() == name)
            {
                return ToDevice(link);
            }
        }

        return null;
    }

    /// <summary>The names of every veth interface in the current namespace.</summary>
    public static IReadOnlyList<string> VethNames(IpCommand ip)
    {
        string output = ip.Run("-j", "link", "show", "type", "veth");
        if (string.IsNullOrWhiteSpace(output))
        {
            return [];
        }

        using JsonDocument document = JsonDocument.Parse(output);
        return document.RootElement.EnumerateArray()
            .Select(link => link.TryGetProperty("ifname", out JsonElement name) ? name.GetString() : null)
            .OfType<string>()
            .ToList();
    }

    /// <summary>Prepends <c>-n NAMESPACE</c> when a namespace is given.</summary>
    public static string[] InNamespace(string? networkNamespace, params string[] arguments) =>
        networkNamespace is null ? arguments : ["-n", networkNamespace, .. arguments];

    /// <summary>The MAC as ip writes and reads it: lowercase hex pairs joined by colons (the library's own formatting).</summary>
    public static string FormatMac(PhysicalAddress mac) => MacAddressText.Format(mac);

    private static NetworkDevice ToDevice(JsonElement link)
    {
        int index = link.GetProperty("ifindex").GetInt32();
        string name = link.GetProperty("ifname").GetString()!;
        string[] flags = link.TryGetProperty("flags", out JsonElement flagArray)
            ? flagArray.EnumerateArray().Select(f => f.GetString() ?? "").ToArray()
            : [];
        string operstate = link.TryGetProperty("operstate", out JsonElement state) ? state.GetString() ?? "" : "";
        PhysicalAddress mac = link.TryGetProperty("address", out JsonElement address) && address.GetString() is { } text
            ? PhysicalAddress.Parse(text)
            : PhysicalAddress.None;
        var addresses = new List<IPAddress>();
        if (link.TryGetProperty("addr_info", out JsonElement addrInfo))
        {
            foreach (JsonElement entry in addrInfo.EnumerateArray())
            {
                if (entry.TryGetProperty("local", out JsonElement local) && IPAddress.TryParse(local.GetString(), out IPAddress? ip))
                {
                    addresses.Add(ip);
                }
            }
        }

        bool isUp = flags.Contains("UP");

        // RUNNING is operstate UP; a device without operstate support (lo) reports UNKNOWN
        // and signals carrier through LOWER_UP.
        bool isRunning = operstate == "UP" || (operstate == "UNKNOWN" && isUp && flags.Contains("LOWER_UP"));
        return new NetworkDevice(index, name, mac, isUp, isRunning, addresses);
    }
}
