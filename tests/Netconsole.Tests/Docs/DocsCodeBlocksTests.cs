using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Netconsole.Logging;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Docs;

/// <summary>
/// The code in the project's documents works as printed: every C# block of the README, the
/// package readmes, CHANGELOG.md and docs/ compiles against the packages, as a user would paste
/// it into an app (nullable and implicit usings on, warnings as errors); every JSON block
/// parses, and a <c>Logging</c> section binds to the provider's options.
/// </summary>
public sealed partial class DocsCodeBlocksTests(ITestOutputHelper output)
{
    /// <summary>The documents users read, relative to the repository's root.</summary>
    public static IReadOnlyList<string> DocumentPaths()
    {
        string root = Repository.Root();
        IEnumerable<string> files = new[] { "README.md", "CHANGELOG.md" }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"))
            .Concat(Directory.GetFiles(Path.Combine(root, "src"), "README.md", SearchOption.AllDirectories));
        return [.. files.Select(file => Path.GetRelativePath(root, Path.Combine(root, file)).Replace('\\', '/'))];
    }

    public static TheoryData<string> Documents() => [.. DocumentPaths()];

    [Fact]
    public async Task Every_CSharp_block_in_the_documents_compiles_against_the_packages()
    {
        MarkdownCodeBlock[] blocks = [.. DocumentPaths().SelectMany(MarkdownCodeBlock.Read).Where(b => b.Language == "csharp")];
        blocks.Should().HaveCountGreaterThan(5, "the README alone has more C# examples than that");

        string folder = Directory.CreateTempSubdirectory("netconsole-docs-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "DocsCodeBlocks.csproj"), ProjectFile());
            for (int i = 0; i < blocks.Length; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, $"Block{i}.cs"), Wrap(blocks[i], i));
            }

            ChildProcess.Result build = await ChildProcess.RunAsync(DotnetCli.Command(folder, "build", "-nologo", "-clp:NoSummary"), TimeSpan.FromMinutes(4));
            string text = build.Stdout + build.Stderr;
            output.WriteLine(text);
            string[] problems = [.. Problem().Matches(text).Select(m => m.Value.Trim()).Distinct()];
            problems.Should().BeEmpty("every C# block in the documents must compile as printed (each problem names the document and line)");
            build.ExitCode.Should().Be(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_JSON_block_parses_and_a_Logging_section_binds_to_the_provider_options(string document)
    {
        foreach (MarkdownCodeBlock block in MarkdownCodeBlock.Read(document).Where(b => b.Language == "json"))
        {
            using JsonDocument json = JsonDocument.Parse(block.Text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!json.RootElement.TryGetProperty("Logging", out _))
            {
                continue;
            }

            IConfigurationRoot configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(block.Text))).Build();
            using ServiceProvider services = new ServiceCollection()
                .AddLogging(logging => logging.AddConfiguration(configuration.GetSection("Logging")).AddNetconsole())
                .BuildServiceProvider();
            NetconsoleLoggerOptions options = services.GetRequiredService<IOptionsMonitor<NetconsoleLoggerOptions>>().CurrentValue;
            (options.Targets.Count + options.TargetOptions.Count).Should().BePositive($"the example at {block} configures targets (strings or objects)");
            options.TargetOptions.Should().AllSatisfy(t => t.Validate(), $"the target objects of the example at {block} are valid");
        }
    }

    private static string ProjectFile()
    {
        // The packages' assemblies and what they need, as the tests were built with them.
        string[] assemblies = [.. Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Where(f => Path.GetFileName(f) is "Netconsole.dll" or "Netconsole.Logging.dll" or "SharpPcap.dll" or "PacketDotNet.dll"
                || Path.GetFileName(f).StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))];
        var references = new StringBuilder();
        foreach (string assembly in assemblies)
        {
            references.AppendLine(CultureInfo.InvariantCulture, $"    <Reference Include=\"{assembly}\" />");
        }

        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- An example may declare what it does not use, and need no await. -->
                <NoWarn>CS1998;CS0168;CS0219;CS8321</NoWarn>
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
            {references}  </ItemGroup>
            </Project>
            """;
    }

    /// <summary>
    /// A block's statements as the body of a method (its using directives moved to the top of
    /// the file), with #line directives so a problem names the document's own line.
    /// </summary>
    private static string Wrap(MarkdownCodeBlock block, int index)
    {
        string[] lines = block.Text.TrimEnd('\n').Split('\n');
        var usings = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (UsingDirective().IsMatch(lines[i]))
            {
                usings.AppendLine(lines[i]);
                lines[i] = "";
            }
        }

        return $$"""
            {{usings}}
            namespace DocsCodeBlocks;

            internal static class Block{{index}}
            {
                internal static async Task RunAsync(string[] args)
                {
            #line {{block.Line + 1}} "{{Path.Combine(Repository.Root(), block.File)}}"
            {{string.Join('\n', lines)}}
            #line default
                }
            }
            """;
    }

    [GeneratedRegex(@"^using (static )?[\w.]+( = [\w.<>, ]+)?;\s*(//.*)?$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"^.*\b(?:error|warning) [A-Z]+\d+:.*$", RegexOptions.Multiline)]
    private static partial Regex Problem();
}
