using System.Reflection;
using Netconsole.Tests.Support;
using PublicApiGenerator;

namespace Netconsole.Tests.PublicApi;

/// <summary>
/// Keeps the public API deliberate: the surface of each package, nullability annotations
/// included, is written out as C# by PublicApiGenerator and compared with the approved file next
/// to this test. After an intended change, copy the .received.txt file written next to it over
/// the .approved.txt file.
/// </summary>
public class PublicApiTests
{
    [Theory]
    [InlineData("Netconsole")]
    [InlineData("Netconsole.Logging")]
    public void Public_api_matches_the_approved_file(string package)
    {
        string actual = Describe(Assembly.Load(package));
        string approvedPath = Path.Combine(SourceDirectory(), $"{package}.approved.txt");
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : "";
        string receivedPath = Path.Combine(SourceDirectory(), $"{package}.received.txt");
        if (actual != approved)
        {
            File.WriteAllText(receivedPath, actual);
        }
        else if (File.Exists(receivedPath))
        {
            File.Delete(receivedPath);
        }

        actual.Should().Be(approved, $"the public API of {package} changed: review {receivedPath} and copy it over {approvedPath} if the change is intended");
    }

    [Fact]
    public void The_description_shows_nullability()
    {
        // The reason to use PublicApiGenerator: a changed annotation must change the file.
        string api = Describe(typeof(NetconsoleRecord).Assembly);

        api.Should().Contain("public string? TaskName { get; init; }")
            .And.Contain("public static Netconsole.Targets.NetconsoleTargetOptions Parse(string value)");
    }

    internal static string Describe(Assembly assembly) =>
        assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            // Assembly attributes a user never calls (which assemblies see the internals is not API).
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute", "System.Runtime.CompilerServices.InternalsVisibleToAttribute"],
        }).ReplaceLineEndings("\n");

    private static string SourceDirectory() => Path.Combine(Repository.Root(), "tests", "Netconsole.Tests", "PublicApi");
}
