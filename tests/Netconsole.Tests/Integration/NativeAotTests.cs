using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Netconsole.Receiving;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// The packages under Native AOT (both are IsAotCompatible and IsTrimmable): samples/Netconsole.AotDemo,
/// published with Native AOT from source, must get no trim or AOT warning, and its native
/// executable, run as root in the test's network namespace, must get its record, with its
/// structured value and its scope, to a receiver on [::1].
/// </summary>
/// <remarks>
/// In the lab collection, so it runs alone: the publish keeps both cores busy for about a
/// minute, which would slow the timing-sensitive tests beside it.
/// </remarks>
[Collection(LabTestsRunAlone.Name)]
public sealed partial class NativeAotTests(NativeAotTests.Publish publish, ITestOutputHelper output) : IClassFixture<NativeAotTests.Publish>
{
    [SkippableFact]
    public async Task Publishing_the_demo_with_Native_AOT_reports_no_trim_or_AOT_warning()
    {
        Requires.NativeAotToolchain();
        Publish.Result result = await publish.Run();
        output.WriteLine($"{result.Command}\nexit code {result.ExitCode} after {result.Elapsed.TotalSeconds:F1} s; {result.Describe()}");
        output.WriteLine(result.Output);

        IEnumerable<string> Lines(bool ours) => result.Findings.Where(f => f.IsOurs == ours).Select(f => f.Line);
        Lines(ours: true).Should().BeEmpty("Netconsole and Netconsole.Logging are IsAotCompatible: none of their code (nor the demo's) may need what trimming or Native AOT removes");
        Lines(ours: false).Should().BeEmpty(
            "no assembly the packages bring in (SharpPcap, Microsoft.Extensions.*) warns on the code the packages reach; "
            + "a new finding there means the README's 'Native AOT and trimming' note must be looked at again");
        result.ExitCode.Should().Be(0);
        File.Exists(result.Executable).Should().BeTrue("the publish writes one native executable");
    }

    [SkippableFact]
    public async Task The_native_demo_gets_its_record_with_its_value_and_scope_to_a_receiver()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        Requires.NativeAotToolchain();
        Publish.Result published = await publish.Run();
        published.ExitCode.Should().Be(0, $"the demo must publish:\n{published.Output}");

        // IPv6 on lo: the kernel drops IPv4 frames injected on lo (martian source), IPv6 ones arrive.
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        string target = $"+@/lo,{receiver.LocalEndPoint.Port}@::1/";
        ChildProcess.Result demo = await ChildProcess.RunAsync(new ProcessStartInfo(published.Executable) { ArgumentList = { target } }, TimeSpan.FromSeconds(30));
        output.WriteLine($"netconsole-aot-demo {target}: exit code {demo.ExitCode}; its stderr:\n{demo.Stderr}{demo.Stdout}");

        var records = new List<ReceivedRecord>();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            records.Add(await receiver.ReadAsync(deadline.Token));
        }

        await Task.Delay(200);
        while (receiver.TryRead(out ReceivedRecord? extra))
        {
            records.Add(extra);
        }

        records.ForEach(r => output.WriteLine(r.ToString()));
        demo.ExitCode.Should().Be(0, "the demo exits 0 when its target sent the record");
        ReceivedRecord record = records.Should().ContainSingle().Subject;
        record.TextString.Should().Be("order 4711 shipped from a Native AOT build");
        record.Level.Should().Be(4, "a warning is syslog level 4 (warning)");
        record.Facility.Should().Be(1, "the provider's default facility is user");
        record.IsExtended.Should().BeTrue("the target is extended ('+')");
        record.Dictionary.Should().Equal(
            new("CATEGORY", "Netconsole.AotDemo"),
            new("EVENT_ID", "1"),
            new("EVENT_NAME", "OrderShipped"),
            new("SCOPE", "request 42"),
            new("RequestId", "42"),
            new("OrderId", "4711"));
    }

    /// <summary>
    /// Publishes the demo once for the tests above, when the first of them asks: Native AOT for
    /// linux-x64, from source into a temporary folder of its own (bin, obj and the output), so the
    /// compiler analyses everything again whatever was built before.
    /// </summary>
    public sealed class Publish : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("netconsole-aot-").FullName;
        private readonly Lazy<Task<Result>> _result;

        public Publish() => _result = new(PublishAsync);

        public Task<Result> Run() => _result.Value;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private async Task<Result> PublishAsync()
        {
            string project = Path.Combine(Repository.Root(), "samples", "Netconsole.AotDemo", "Netconsole.AotDemo.csproj");
            string output = Path.Combine(_folder, "publish");
            var start = new ProcessStartInfo(ChildProcess.DotnetHost())
            {
                ArgumentList =
                {
                    "publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
                    "--artifacts-path", Path.Combine(_folder, "artifacts"), "-o", output, "-nologo",
                    // Every finding as a warning and the publish to its end, so the test lists them
                    // all, ours apart from third-party ones (the build makes them errors).
                    "-p:TreatWarningsAsErrors=false",
                    // The tests run with no network: restore finds every package in the local
                    // cache (./test.sh's build restored them), and the audit would have nothing to ask.
                    "-p:NuGetAudit=false",
                    // No build server or node outliving the publish (it would hold its output open).
                    "-nodeReuse:false", "-p:UseSharedCompilation=false",
                    // One line a warning, not a second copy in a summary.
                    "-clp:NoSummary",
                },
            };

            DotnetCli.AsUser(start);
            var clock = Stopwatch.StartNew();
            ChildProcess.Result publish = await ChildProcess.RunAsync(start, TimeSpan.FromMinutes(6));
            string text = publish.Stdout + publish.Stderr;
            return new Result(
                $"dotnet {string.Join(' ', start.ArgumentList)}",
                publish.ExitCode,
                text,
                clock.Elapsed,
                Path.Combine(output, "netconsole-aot-demo"),
                Finding.All(text));
        }

        /// <summary>How the publish went.</summary>
        public sealed record Result(string Command, int ExitCode, string Output, TimeSpan Elapsed, string Executable, IReadOnlyList<Finding> Findings)
        {
            public string Describe() => File.Exists(Executable)
                ? $"{Path.GetFileName(Executable)}: {new FileInfo(Executable).Length / 1024.0 / 1024.0:F1} MiB"
                : "no executable";
        }
    }

    /// <summary>A trim, AOT or single-file finding (IL2xxx, IL3xxx) in the publish output.</summary>
    /// <param name="Line">The line as the compiler printed it.</param>
    /// <param name="IsOurs">In the packages' or the demo's code, rather than in an assembly they use.</param>
    public sealed partial record Finding(string Line, bool IsOurs)
    {
        public static IReadOnlyList<Finding> All(string output) =>
            [.. FindingLine().Matches(output).Select(m => m.Value.Trim()).Distinct().Select(line => new Finding(line, IsInOurCode(line)))];

        // The C# analyzers name the file; ILC names the file where it has symbols, "ILC" where it
        // has not, and then the member: a package's own members are in Netconsole.* (the logging
        // extensions in Microsoft.Extensions.Logging, as is the custom), the demo's in Program.
        private static bool IsInOurCode(string line)
        {
            Match m = FindingParts().Match(line);
            string where = m.Groups["where"].Value.Replace('\\', '/');
            string member = m.Groups["member"].Value;
            return where.Contains("/src/Netconsole", StringComparison.Ordinal)
                || where.Contains("/samples/Netconsole.AotDemo/", StringComparison.Ordinal)
                || member.StartsWith("Netconsole.", StringComparison.Ordinal)
                || member.StartsWith("Microsoft.Extensions.Logging.NetconsoleLoggerExtensions", StringComparison.Ordinal)
                || member.StartsWith("Program.", StringComparison.Ordinal);
        }

        [GeneratedRegex(@"^.*\b(?:warning|error) IL[23]\d{3}\b.*$", RegexOptions.Multiline)]
        private static partial Regex FindingLine();

        [GeneratedRegex(@"^(?<where>.*?)\s*:\s*(?:(?:Trim|AOT|Single-file) analysis )?(?:warning|error) IL[23]\d{3}: (?<member>[^:]*)")]
        private static partial Regex FindingParts();
    }
}
