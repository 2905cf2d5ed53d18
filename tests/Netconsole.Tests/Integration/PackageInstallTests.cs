using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Netconsole.Receiving;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>
/// The packages as a .NET developer gets them, outside this repository: an application of its
/// own that pins Microsoft.Extensions.* at 10.0.0, the README's install steps run verbatim in a
/// home folder of its own, a restore with no route to any package server (the tests run in a
/// network namespace with only lo), and the package README's example, which must get its record
/// to a receiver. Then what the packages carry: their own readme, license, repository, release
/// notes, floors, symbols with SourceLink, and no path of the machine that built them.
/// </summary>
/// <remarks>In the lab collection, so it runs alone: the pack and the app's build keep both cores busy.</remarks>
[Collection(LabTestsRunAlone.Name)]
public sealed partial class PackageInstallTests(PackageInstallTests.Install install, ITestOutputHelper output) : IClassFixture<PackageInstallTests.Install>
{
    private const string ReadmeExampleTarget = "+@/eth1,@192.0.2.2/";

    [SkippableFact]
    public async Task The_README_install_steps_work_verbatim_offline_in_an_app_that_pins_Microsoft_Extensions_10_0_0()
    {
        Requires.PrivateNetworkNamespace(); // what makes it offline: no route to any package server
        Install.Result result = await Run();

        result.InstallExitCode.Should().Be(0, $"the README's install steps must work as written:\n{result.InstallOutput}");
        result.BuildExitCode.Should().Be(0, $"the app must build with no route to a package server:\n{result.BuildOutput}");
        result.Resolved.Should().Contain(
            [$"Netconsole.Logging/{result.Version}", $"Netconsole/{result.Version}", "Microsoft.Extensions.Logging/10.0.0", "Microsoft.Extensions.Logging.Configuration/10.0.0"],
            "the app pins Microsoft.Extensions.* at 10.0.0, the packages' floors, and gets both packages");
        result.Resolved.Should().NotContain(p => p.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && !p.EndsWith("/10.0.0", StringComparison.Ordinal),
            "nothing in the packages may lift an application's Microsoft.Extensions.* above 10.0.0");
        result.BuildOutput.Should().NotContain("NU1605", "no package downgrade");
        result.Version.Should().MatchRegex(@"^0\.1\.0-preview\.1\.dev\.\d{14}$", "scripts/pack.sh gives a local pack a version of its own");
    }

    [SkippableFact]
    public async Task The_package_README_example_run_by_that_app_gets_its_record_to_a_receiver()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        Install.Result result = await Run();
        result.BuildExitCode.Should().Be(0, $"the app must build:\n{result.BuildOutput}");

        // IPv6 on lo: the kernel drops IPv4 frames injected on lo (martian source), IPv6 ones arrive.
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        string target = $"+@/lo,{receiver.LocalEndPoint.Port}@::1/";
        var start = new ProcessStartInfo(ChildProcess.DotnetHost()) { ArgumentList = { result.AppDll, target }, WorkingDirectory = result.AppFolder };
        ChildProcess.Result app = await ChildProcess.RunAsync(DotnetCli.AsUser(start), TimeSpan.FromSeconds(30));
        output.WriteLine($"the app: exit code {app.ExitCode}\n{app.Stdout}{app.Stderr}");
        app.ExitCode.Should().Be(0);

        ReceivedRecord record;
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            record = await receiver.ReadAsync(deadline.Token);
        }

        output.WriteLine(record.ToString());
        record.TextString.Should().Be("payment p-17 declined for 12.5 EUR");
        record.Level.Should().Be(4, "LogWarning is syslog level 4");
        record.Dictionary.Should().Equal(
            new("CATEGORY", "Shop.Orders"),
            new("SCOPE", "order 4711"),
            new("OrderId", "4711"),
            new("PaymentId", "p-17"),
            new("Amount", "12.5"));
    }

    [Fact]
    public async Task Each_package_has_its_own_readme_license_repository_release_notes_and_floors()
    {
        Install.Result result = await Run();
        result.InstallExitCode.Should().Be(0, result.InstallOutput);
        string changelog = File.ReadAllText(Path.Combine(Repository.Root(), "CHANGELOG.md"));

        foreach (string id in Install.PackageIds)
        {
            using ZipArchive package = ZipFile.OpenRead(result.Package(id, "nupkg"));
            XElement metadata = Nuspec(package);
            string Meta(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
            XElement Element(string name) => metadata.Elements().Single(e => e.Name.LocalName == name);

            Meta("version").Should().Be(result.Version);
            Element("license").Attribute("type")!.Value.Should().Be("expression");
            Meta("license").Should().Be("MIT", "the repository's LICENSE is MIT");
            Element("repository").Attribute("url")!.Value.Should().StartWith("https://", $"{id} names its repository");
            Element("repository").Attribute("commit")!.Value.Should().Be(result.Commit, $"{id} names the commit it was built from");
            Meta("releaseNotes").Should().Be(changelog.TrimEnd(), "the release notes are CHANGELOG.md");

            Meta("readme").Should().Be("README.md");
            string readme = ReadEntry(package, "README.md");
            readme.Should().Be(File.ReadAllText(Path.Combine(Repository.Root(), "src", id, "README.md")), $"{id} ships its own README (src/{id}/README.md)");
            Encoding.UTF8.GetByteCount(readme).Should().BeLessThan(4096, "a package readme is short: the repository has the guide");
            RelativeLink().Matches(readme).Select(m => m.Value).Should().BeEmpty("a link in a package readme must work on a package page: absolute or none");

            Dictionary<string, string> dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
                .ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
            if (id == "Netconsole.Logging")
            {
                dependencies.Should().Equal(
                    new Dictionary<string, string>
                    {
                        ["Netconsole"] = result.Version,
                        ["Microsoft.Extensions.Logging.Abstractions"] = "10.0.0",
                        ["Microsoft.Extensions.Logging.Configuration"] = "10.0.0",
                        ["Microsoft.Extensions.Options.ConfigurationExtensions"] = "10.0.0",
                        ["Microsoft.Extensions.Diagnostics.HealthChecks.Abstractions"] = "10.0.0",
                    },
                    "a library's floors are the lowest versions it needs (10.0.0 for net10.0), and Netconsole is the same build");
            }
            else
            {
                dependencies.Keys.Should().Equal(["SharpPcap"], "the core package needs only SharpPcap");
            }
        }
    }

    [Fact]
    public async Task The_logging_package_carries_the_process_death_watchdog_into_the_apps_output()
    {
        Install.Result result = await Run();
        result.InstallExitCode.Should().Be(0, result.InstallOutput);
        result.BuildExitCode.Should().Be(0, $"the app must build:\n{result.BuildOutput}");

        using ZipArchive package = ZipFile.OpenRead(result.Package("Netconsole.Logging", "nupkg"));
        package.GetEntry("lib/net10.0/Netconsole.Watchdog.dll").Should().NotBeNull("CaptureProcessDeath's watchdog ships beside Netconsole.Logging.dll");
        File.Exists(Path.Combine(Path.GetDirectoryName(result.AppDll)!, "Netconsole.Watchdog.dll")).Should().BeTrue(
            "the provider starts the watchdog from the application's own folder");
    }

    [Fact]
    public async Task Symbols_have_SourceLink_to_the_commit_and_no_path_of_the_machine_that_built_them()
    {
        Install.Result result = await Run();
        result.InstallExitCode.Should().Be(0, result.InstallOutput);
        string[] machinePaths = [Repository.Root(), result.Home, Path.GetTempPath().TrimEnd('/') + "/netconsole-install-"];

        foreach (string id in Install.PackageIds)
        {
            using ZipArchive package = ZipFile.OpenRead(result.Package(id, "nupkg"));
            using ZipArchive symbols = ZipFile.OpenRead(result.Package(id, "snupkg"));
            byte[] dll = ReadBytes(package, $"lib/net10.0/{id}.dll");
            byte[] pdb = ReadBytes(symbols, $"lib/net10.0/{id}.pdb");

            using (var pe = new PEReader(new MemoryStream(dll)))
            {
                DebugDirectoryEntry codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
                pe.ReadCodeViewDebugDirectoryData(codeView).Path.Should().StartWith("/_/", $"{id}.dll names its pdb by a mapped path");
            }

            using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(pdb));
            MetadataReader reader = provider.GetMetadataReader();
            string[] documents = [.. reader.Documents.Select(h => reader.GetString(reader.GetDocument(h).Name))];
            documents.Should().NotBeEmpty().And.OnlyContain(d => d.StartsWith("/_/", StringComparison.Ordinal), $"{id}.pdb names its sources by mapped paths");

            string sourceLink = SourceLinkJson(reader);
            output.WriteLine($"{id}: {sourceLink}");
            using JsonDocument json = JsonDocument.Parse(sourceLink);
            string url = json.RootElement.GetProperty("documents").GetProperty("/_/*").GetString()!;
            url.Should().StartWith("https://").And.Contain(result.Commit, "SourceLink fetches the sources of the commit the package was built from");

            foreach (string path in machinePaths)
            {
                foreach (byte[] file in new[] { dll, pdb })
                {
                    Contains(file, Encoding.UTF8.GetBytes(path)).Should().BeFalse($"no path of the build machine ({path}) in {id}");
                    Contains(file, Encoding.Unicode.GetBytes(path)).Should().BeFalse($"no path of the build machine ({path}) in {id}");
                }
            }
        }
    }

    private async Task<Install.Result> Run()
    {
        Install.Result result = await install.Run();
        output.WriteLine(result.Log);
        return result;
    }

    private static XElement Nuspec(ZipArchive package) =>
        XDocument.Parse(ReadEntry(package, package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).FullName))
            .Root!.Elements().Single(e => e.Name.LocalName == "metadata");

    private static string ReadEntry(ZipArchive package, string name)
    {
        using var reader = new StreamReader(new MemoryStream(ReadBytes(package, name)), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static byte[] ReadBytes(ZipArchive package, string name)
    {
        ZipArchiveEntry entry = package.GetEntry(name) ?? throw new InvalidOperationException($"no {name} in the package (it has: {string.Join(", ", package.Entries.Select(e => e.FullName))})");
        using Stream stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string SourceLinkJson(MetadataReader reader)
    {
        var sourceLinkKind = new Guid("CC110556-A091-4D38-9FEC-25AB9A351A6A");
        foreach (CustomDebugInformationHandle handle in reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition))
        {
            CustomDebugInformation info = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(info.Kind) == sourceLinkKind)
            {
                return Encoding.UTF8.GetString(reader.GetBlobBytes(info.Value));
            }
        }

        throw new InvalidOperationException("the pdb has no SourceLink");
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [GeneratedRegex(@"\]\((?!https?://)[^)]*\)")]
    private static partial Regex RelativeLink();

    /// <summary>
    /// Runs once, for the tests above: a home folder of its own (the clone at ~/src/netconsole,
    /// the app at ~/src/myapp), the README's install block run there verbatim, the package
    /// README's example as the app's Program.cs, and the app's build.
    /// </summary>
    /// <remarks>
    /// The home's NuGet configuration has the machine's package sources and, as a fallback
    /// folder, the machine's package cache (read-only; this is how the packages the repository's
    /// build restored are found with no network); the app gets a package cache of its own, so
    /// nothing installed here stays on the machine.
    /// </remarks>
    public sealed class Install : IDisposable
    {
        public static readonly string[] PackageIds = ["Netconsole", "Netconsole.Logging"];

        private readonly string _folder = Directory.CreateTempSubdirectory("netconsole-install-").FullName;
        private readonly Lazy<Task<Result>> _result;

        public Install() => _result = new(InstallAsync);

        public Task<Result> Run() => _result.Value;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private async Task<Result> InstallAsync()
        {
            var log = new StringBuilder();
            string root = Repository.Root();
            string home = Path.Combine(_folder, "home");
            string app = Path.Combine(home, "src", "myapp");
            Directory.CreateDirectory(Path.Combine(home, "src"));
            File.CreateSymbolicLink(Path.Combine(home, "src", "netconsole"), root);
            WriteNuGetConfig(home, Path.Combine(_folder, "packages"));

            async Task<ChildProcess.Result> Step(ProcessStartInfo start, string what)
            {
                start.Environment["HOME"] = home;
                start.Environment["NUGET_PACKAGES"] = Path.Combine(_folder, "packages");
                var clock = Stopwatch.StartNew();
                ChildProcess.Result done = await ChildProcess.RunAsync(DotnetCli.AsUser(start), TimeSpan.FromMinutes(5));
                log.AppendLine(CultureInfo.InvariantCulture, $"== {what}: exit code {done.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s\n{done.Stdout}{done.Stderr}");
                return done;
            }

            // An application of the user's own that pins Microsoft.Extensions.* at 10.0.0.
            await Step(DotnetCli.Command(Path.Combine(home, "src"), "new", "console", "-o", "myapp"), "dotnet new console");
            await Step(DotnetCli.Command(app, "add", "package", "Microsoft.Extensions.Logging", "--version", "10.0.0"), "pin Microsoft.Extensions.Logging 10.0.0");
            await Step(DotnetCli.Command(app, "add", "package", "Microsoft.Extensions.Logging.Configuration", "--version", "10.0.0"), "pin Microsoft.Extensions.Logging.Configuration 10.0.0");

            // The README's install block, verbatim.
            MarkdownCodeBlock steps = MarkdownCodeBlock.Marked("README.md", "install steps: run verbatim by PackageInstallTests");
            var bash = new ProcessStartInfo("bash") { ArgumentList = { "-euo", "pipefail", "-c", steps.Text }, WorkingDirectory = home };
            ChildProcess.Result installed = await Step(bash, $"the install steps of {steps}");

            // The package README's example as the app's Program.cs, its target from the command line.
            MarkdownCodeBlock example = MarkdownCodeBlock.Read("src/Netconsole.Logging/README.md").Single(b => b.Language == "csharp");
            example.Text.Should().Contain($"\"{ReadmeExampleTarget}\"");
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), example.Text.Replace($"\"{ReadmeExampleTarget}\"", "args[0]", StringComparison.Ordinal));
            ChildProcess.Result build = await Step(DotnetCli.Command(app, "build", "-c", "Release"), "dotnet build of the app");

            string csproj = await File.ReadAllTextAsync(Path.Combine(app, "myapp.csproj"));
            string version = VersionOf().Match(csproj).Groups["version"].Value;
            return new Result(
                home,
                app,
                Path.Combine(app, "bin", "Release", "net10.0", "myapp.dll"),
                Path.Combine(root, "artifacts", "packages"),
                version,
                await GitCommit(root),
                installed.ExitCode,
                installed.Stdout + installed.Stderr,
                build.ExitCode,
                build.Stdout + build.Stderr,
                ResolvedPackages(app),
                log.ToString());
        }

        private static void WriteNuGetConfig(string home, string packages)
        {
            string machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache
                ? cache
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string machineConfig = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "NuGet", "NuGet.Config");
            XDocument config = File.Exists(machineConfig)
                ? XDocument.Load(machineConfig)
                : XDocument.Parse("<configuration><packageSources><add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" /></packageSources></configuration>");
            config.Root!.Add(new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "machine"), new XAttribute("value", machineCache))));
            string folder = Path.Combine(home, ".nuget", "NuGet");
            Directory.CreateDirectory(folder);
            Directory.CreateDirectory(packages);
            config.Save(Path.Combine(folder, "NuGet.Config"));
        }

        private static IReadOnlyList<string> ResolvedPackages(string app)
        {
            string assets = Path.Combine(app, "obj", "project.assets.json");
            if (!File.Exists(assets))
            {
                return [];
            }

            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(assets));
            return [.. json.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name)];
        }

        private static async Task<string> GitCommit(string root)
        {
            ChildProcess.Result git = await ChildProcess.RunAsync(new ProcessStartInfo("git") { ArgumentList = { "-C", root, "rev-parse", "HEAD" } }, TimeSpan.FromSeconds(30));
            return git.Stdout.Trim();
        }

        /// <summary>What the install did.</summary>
        public sealed record Result(
            string Home,
            string AppFolder,
            string AppDll,
            string PackagesFolder,
            string Version,
            string Commit,
            int InstallExitCode,
            string InstallOutput,
            int BuildExitCode,
            string BuildOutput,
            IReadOnlyList<string> Resolved,
            string Log)
        {
            public string Package(string id, string extension) => Path.Combine(PackagesFolder, $"{id}.{Version}.{extension}");
        }
    }

    [GeneratedRegex(@"<PackageReference Include=""Netconsole\.Logging"" Version=""(?<version>[^""]+)""")]
    private static partial Regex VersionOf();
}
