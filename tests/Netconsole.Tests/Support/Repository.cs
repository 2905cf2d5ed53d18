namespace Netconsole.Tests.Support;

/// <summary>The clone the tests were built from.</summary>
internal static class Repository
{
    /// <summary>The clone's root folder: the first folder above the test output that holds Netconsole.sln.</summary>
    /// <remarks>Not CallerFilePath: CI builds map source paths (ContinuousIntegrationBuild).</remarks>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Netconsole.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Netconsole.sln not found above {AppContext.BaseDirectory}");
    }
}
