using System.Diagnostics;
using System.Net;
using Netconsole.Receiving;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Logging;

/// <summary>
/// Misconfigured applications as real child processes (netconsole-test-app), each failure the way
/// a user meets it: not root, libpcap missing, a device that does not exist, an IPv4 target on lo,
/// a device that is down, no target at all. A plain console app (only the netconsole provider)
/// must say why on standard error, and a Generic Host app on its console, with no code of their own.
/// Before issue 14 each of them exited 0 and printed nothing.
/// </summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class DiagnosticsProcessTests(ITestOutputHelper output)
{
    private const string DownDevice = "ncdown0";

    public static TheoryData<string, string, string> PlainFailures => new()
    {
        { "no such device", "--Logging:Netconsole:Targets:0=+@/nosuch0,@::1/", "netconsole: Target cmdline0 (+6665@/nosuch0,6666@::1/) is not sending: setup failed: no device named nosuch0" },
        { "IPv4 on lo", "--Logging:Netconsole:Targets:0=@/lo,@127.0.0.1/", "netconsole: Target cmdline0 (6665@/lo,6666@127.0.0.1/) is not sending: setup failed: " },
        { "device down", $"--Logging:Netconsole:Targets:0=@/{DownDevice},@192.0.2.2/", $"netconsole: Target cmdline0 (6665@/{DownDevice},6666@192.0.2.2/) is not sending: setup failed: device {DownDevice} is down" },
        { "misspelled Targets", "--Logging:Netconsole:Target:0=+@/lo,@::1/", "netconsole: No netconsole targets are configured" },
        { "not root", "--Logging:Netconsole:Targets:0=+@/lo,@::1/", "no permission to inject frames" },
        { "libpcap missing, libpcap chosen", "--Logging:Netconsole:Targets:0=+@/lo,@::1/", "libpcap" },
    };

    [SkippableTheory]
    [MemberData(nameof(PlainFailures))]
    public async Task A_plain_console_app_that_cannot_send_says_why_on_standard_error(string failure, string configuration, string expected)
    {
        string dll = TestAppChild.RequireLab();
        using DownDeviceScope down = failure == "device down" ? new DownDeviceScope() : default;

        ChildProcess.Result child = await Run(WrapperFor(failure), dll, "plain", configuration);

        child.ExitCode.Should().Be(0, "the application itself is fine: logging failed, not the app");
        child.Stderr.Should().Contain(expected);
        child.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(
            line => line.StartsWith("netconsole: ", StringComparison.Ordinal), "each report is one line, and nothing else is printed");
    }

    [SkippableTheory]
    [InlineData("--Logging:Netconsole:Targets:0=+@/nosuch0,@::1/", "warn: Netconsole.Diagnostics[2]", "Target cmdline0 (+6665@/nosuch0,6666@::1/) is not sending: setup failed: no device named nosuch0")]
    [InlineData("--Logging:Netconsole:Targets:0=@/lo,@127.0.0.1/", "fail: Netconsole.Diagnostics[3]", "Target cmdline0 (6665@/lo,6666@127.0.0.1/) is not sending: setup failed: Cannot send to 127.0.0.1 on lo")]
    [InlineData("--Logging:Netconsole:Target:0=+@/lo,@::1/", "warn: Netconsole.Diagnostics[5]", "Logging:Netconsole:Target is not a netconsole option and was ignored; did you mean Targets?")]
    public async Task A_host_app_that_cannot_send_shows_why_on_its_console_and_not_twice_on_standard_error(string configuration, string header, string report)
    {
        string dll = TestAppChild.RequireLab();

        ChildProcess.Result child = await Run([], dll, "host", configuration);

        child.ExitCode.Should().Be(0);
        child.Stdout.Should().Contain(header).And.Contain(report);
        child.Stderr.Should().NotContain("netconsole: ", "the console provider showed it (Auto)");
    }

    [SkippableTheory]
    [InlineData("--Logging:Netconsole:Targets:0=+@/lo,@::1/")]
    [InlineData("--Logging:Netconsole:Targets:0:DeviceName=lo", "--Logging:Netconsole:Targets:0:RemoteAddress=::1", "--Logging:Netconsole:Targets:0:Extended=true")]
    public async Task A_healthy_plain_app_prints_nothing_and_its_records_arrive_with_the_target_as_a_string_or_an_object(params string[] configuration)
    {
        string dll = TestAppChild.RequireLab();
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));

        ChildProcess.Result child = await Run([], dll, "plain", configuration);

        child.ExitCode.Should().Be(0);
        (child.Stdout + child.Stderr).Should().BeEmpty();
        var texts = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (texts.Count < 3)
        {
            texts.Add((await receiver.ReadAsync(deadline.Token)).TextString);
        }

        texts.Should().Equal("record 1 of 3", "record 2 of 3", "record 3 of 3");
    }

    [SkippableFact]
    public async Task Without_libpcap_a_plain_app_on_Linux_still_sends_through_its_default_packet_socket_and_prints_nothing()
    {
        string dll = TestAppChild.RequireLab();
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));

        ChildProcess.Result child = await Run(WrapperFor("libpcap missing"), dll, "plain", "--Logging:Netconsole:Targets:0=+@/lo,@::1/");

        child.ExitCode.Should().Be(0);
        (child.Stdout + child.Stderr).Should().BeEmpty("libpcap is only needed for captures (next-hop resolution), which a target on lo never opens");
        var texts = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (texts.Count < 3)
        {
            texts.Add((await receiver.ReadAsync(deadline.Token)).TextString);
        }

        texts.Should().Equal("record 1 of 3", "record 2 of 3", "record 3 of 3");
    }

    // What runs the child: as itself, as user nobody (not root, no capabilities), or in a mount
    // namespace of its own where every libpcap library file is /dev/null (as if not installed).
    private static string[] WrapperFor(string failure) => failure switch
    {
        "not root" => [Tool("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp"],
        "libpcap missing, libpcap chosen" => [Tool("unshare"), "--mount", "sh", "-c", HideLibpcap, "sh", "env", "NETCONSOLE_TRANSPORT=libpcap"],
        "libpcap missing" => [Tool("unshare"), "--mount", "sh", "-c", HideLibpcap, "sh"],
        _ => [],
    };

    // Bind-mounts /dev/null over each libpcap file the loader knows of (in this mount namespace only), then runs the child.
    private const string HideLibpcap =
        "for f in $(ldconfig -p | sed -n 's/.*libpcap.* => //p'); do mount --bind /dev/null \"$(readlink -f \"$f\")\" || exit 97; done; exec \"$@\"";

    private static string Tool(string name) =>
        ChildProcess.FindOnPath(name) ?? throw new InvalidOperationException($"{name} (util-linux) is needed for this test");

    private async Task<ChildProcess.Result> Run(string[] wrapper, string dll, string mode, params string[] configuration)
    {
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : ChildProcess.DotnetHost());
        foreach (string argument in wrapper.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        if (wrapper.Length > 0)
        {
            start.ArgumentList.Add(ChildProcess.DotnetHost());
        }

        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(mode);
        foreach (string setting in configuration)
        {
            start.ArgumentList.Add(setting);
        }

        start.WorkingDirectory = Path.GetTempPath(); // no appsettings.json of anyone's
        ChildProcess.Result child = await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60));
        output.WriteLine($"exit code {child.ExitCode}; stdout:{Environment.NewLine}{child.Stdout}stderr:{Environment.NewLine}{child.Stderr}");
        return child;
    }

    /// <summary>A veth pair, left down, in the test's private network namespace, removed afterwards.</summary>
    private readonly struct DownDeviceScope : IDisposable
    {
        public DownDeviceScope()
        {
            IpLink($"add {DownDevice} type veth peer name {DownDevice}p");
        }

        public void Dispose()
        {
            if (File.Exists($"/sys/class/net/{DownDevice}/address"))
            {
                IpLink($"del {DownDevice}");
            }
        }

        private static void IpLink(string arguments)
        {
            using Process ip = Process.Start(new ProcessStartInfo("ip", "link " + arguments) { RedirectStandardError = true })!;
            ip.WaitForExit();
            ip.ExitCode.Should().Be(0, $"ip link {arguments}: {ip.StandardError.ReadToEnd()}");
        }
    }
}
