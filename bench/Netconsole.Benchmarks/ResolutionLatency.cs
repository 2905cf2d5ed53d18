using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Targets;

namespace Netconsole.Benchmarks;

/// <summary>
/// Next-hop resolution cost (issue 6), in the lab: how long <see cref="TargetManager.Enable"/>
/// takes for a target without a remote MAC when the MAC comes from the neighbour table, from an
/// active ARP / neighbour solicitation, and when nothing answers (broadcast fallback); next to a
/// target that gives its MAC (nothing resolved, the baseline of the same run). Also the time
/// from the record that finds a re-check due to the new template being in place, after the
/// receiver's MAC changed. Median and worst of N tries each.
/// </summary>
internal static class ResolutionLatency
{
    public static int Run(string[] args, TextWriter output)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The network lab and the rtnetlink watcher exist only on Linux.");
        }

        int tries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        using NetworkLab lab = NetworkLab.Create();
        using var watcher = new RtnetlinkDeviceWatcher();
        output.WriteLine($"next-hop resolution, {tries} tries each, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine("| case | family | median ms | worst ms | ratio vs MAC given (median) |");
        output.WriteLine("|---|---|---:|---:|---:|");
        foreach (bool ipv6 in new[] { false, true })
        {
            IPAddress peer = ipv6 ? lab.PeerIPv6 : lab.PeerIPv4;
            string family = ipv6 ? "IPv6" : "IPv4";
            string mac = MacAddressText.Format(lab.PeerMac);
            List<double> givenTimes = Enables(lab, watcher, tries, $"+@/{lab.DeviceName},@{peer}/{mac}", before: null, expect: null);
            double given = Median(givenTimes);
            Row(output, "remote MAC given (nothing resolved)", family, givenTimes, given);
            Row(output, "neighbour table", family, Enables(lab, watcher, tries, $"+@/{lab.DeviceName},@{peer}/", () => Prime(lab, peer), "(neighbour table)"), given);
            Row(output, ipv6 ? "neighbour solicitation" : "ARP", family, Enables(lab, watcher, tries, $"+@/{lab.DeviceName},@{peer}/", () => Flush(lab), ipv6 ? "(neighbour solicitation)" : "(ARP)"), given);
            string nobody = ipv6 ? "2001:db8::99" : "192.0.2.99";
            Row(output, "nothing answers (broadcast + warning)", family, Enables(lab, watcher, Math.Min(tries, 5), $"+@/{lab.DeviceName},@{nobody}/", null, "warning"), given);
            Row(output, "re-check after the receiver's MAC changed: due record -> new template", family, Rechecks(lab, watcher, tries, peer), double.NaN);
        }

        return 0;
    }

    private static List<double> Enables(NetworkLab lab, RtnetlinkDeviceWatcher watcher, int tries, string target, Action? before, string? expect)
    {
        var times = new List<double>();
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher });
        for (int i = 0; i < tries; i++)
        {
            before?.Invoke();
            NetconsoleTarget added = manager.Add(NetconsoleTargetOptions.Parse(target));
            long start = Stopwatch.GetTimestamp();
            EnableResult result = manager.Enable(added.Name);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (result.State != TargetState.Enabled || (expect is not null && !result.Reason.Contains(expect, StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"{target}: {result.State}: {result.Reason}");
            }

            manager.Remove(added.Name);
        }

        return times;
    }

    private static List<double> Rechecks(NetworkLab lab, RtnetlinkDeviceWatcher watcher, int tries, IPAddress peer)
    {
        var times = new List<double>();
        using var manager = new TargetManager(new TargetManagerOptions { Watcher = watcher, NextHopRecheckInterval = TimeSpan.FromMilliseconds(1) });
        Flush(lab);
        NetconsoleTarget target = manager.Add(NetconsoleTargetOptions.Parse($"+@/{lab.DeviceName},@{peer}/"));
        if (manager.Enable(target.Name).State != TargetState.Enabled)
        {
            throw new InvalidOperationException(target.StateReason);
        }

        var record = NetconsoleRecord.FromString(6, "re-check");
        for (int i = 0; i < tries; i++)
        {
            PhysicalAddress next = NetworkLab.RandomMac();
            Ip("-n", lab.PeerNamespace, "link", "set", lab.PeerName, "address", MacAddressText.Format(next));
            Flush(lab);
            Thread.Sleep(5);
            long changes = target.GetStatistics().NextHopChanges;
            long start = Stopwatch.GetTimestamp();
            manager.Send(record); // due (the interval is 1 ms): queues the re-check
            while (target.GetStatistics().NextHopChanges == changes)
            {
                if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(5))
                {
                    throw new TimeoutException($"no re-check: {target.StateReason}");
                }

                Thread.SpinWait(50);
            }

            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (!next.Equals(target.DestinationMac))
            {
                throw new InvalidOperationException($"try {i}: re-check found {target.DestinationMac}, expected {next}: {target.StateReason}");
            }
        }

        Ip("-n", lab.PeerNamespace, "link", "set", lab.PeerName, "address", MacAddressText.Format(lab.PeerMac));
        return times;
    }

    private static void Prime(NetworkLab lab, IPAddress peer)
    {
        // The kernel resolves the peer for a socket's datagram: its neighbour table then knows it.
        using Socket socket = lab.OpenDeviceUdpSocket(peer.AddressFamily);
        socket.SendTo("x"u8, new IPEndPoint(peer, 9));
        Thread.Sleep(50);
    }

    private static void Flush(NetworkLab lab) => Ip("neigh", "flush", "dev", lab.DeviceName);

    private static void Ip(params string[] arguments)
    {
        using var ip = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true })!;
        string error = ip.StandardError.ReadToEnd();
        ip.WaitForExit();
        if (ip.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {error}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static void Row(TextWriter output, string name, string family, List<double> times, double given) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {family} | {Median(times):0.00} | {times.Max():0.00} | {(double.IsNaN(given) ? "-" : (Median(times) / given).ToString("0.0", CultureInfo.InvariantCulture) + "x")} |"));
}
