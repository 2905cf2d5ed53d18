using System.Diagnostics;

namespace Netconsole.Tests.Support;

/// <summary>
/// The dotnet CLI run by a test as a user's shell would run it: without the MSBuild variables
/// of the dotnet test that runs the tests, without telemetry or banners, and without a build
/// server or node that outlives the command (it would hold its output open).
/// </summary>
internal static class DotnetCli
{
    /// <summary>A <c>dotnet</c> command with <paramref name="arguments"/>, run in <paramref name="workingDirectory"/>.</summary>
    public static ProcessStartInfo Command(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost()) { WorkingDirectory = workingDirectory };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return AsUser(start);
    }

    /// <summary>Makes <paramref name="start"/> (dotnet, or a script that runs it) run the CLI as a user's shell would.</summary>
    public static ProcessStartInfo AsUser(ProcessStartInfo start)
    {
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";

        // The dotnet that runs the tests first on the PATH, for scripts that call "dotnet".
        string dotnetFolder = Path.GetDirectoryName(ChildProcess.DotnetHost()) ?? "";
        if (dotnetFolder.Length > 0)
        {
            start.Environment["PATH"] = dotnetFolder + Path.PathSeparator + start.Environment["PATH"];
        }

        return start;
    }
}
