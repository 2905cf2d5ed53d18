using System.Diagnostics;

namespace Netconsole.Demo;

/// <summary>The whole demo: preconditions, the four scenes, and the summary.</summary>
internal static class DemoRunner
{
    /// <returns>0 when every scene did what it should, 1 when one did not, 2 when a precondition is missing.</returns>
    public static async Task<int> RunAsync(TextWriter output)
    {
        IReadOnlyList<string> missing = DemoEnvironment.Missing();
        if (missing.Count > 0)
        {
            output.WriteLine("netconsole-demo cannot run; missing:");
            foreach (string line in missing)
            {
                output.WriteLine("  - " + line);
            }

            return 2;
        }

        var clock = Stopwatch.StartNew();
        var results = new List<SceneResult>();
        foreach (Func<TextWriter, Task<SceneResult>> scene in new Func<TextWriter, Task<SceneResult>>[] { LoggerScene.RunAsync, RecoveryScene.RunAsync, CrashScene.RunAsync, KilledScene.RunAsync })
        {
            try
            {
                results.Add(await scene(output));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                output.WriteLine($"   FAILED: {ex}");
                output.WriteLine();
                results.Add(new SceneResult(SceneName(scene), 0, 0, 0, Passed: false, ex.GetType().Name + ": " + ex.Message));
            }
        }

        Summary.Write(output, results, clock.Elapsed);
        return results.All(r => r.Ok) ? 0 : 1;
    }

    private static string SceneName(Func<TextWriter, Task<SceneResult>> scene) => scene.Method.DeclaringType?.Name switch
    {
        nameof(LoggerScene) => LoggerScene.Name,
        nameof(RecoveryScene) => RecoveryScene.Name,
        nameof(CrashScene) => CrashScene.Name,
        nameof(KilledScene) => KilledScene.Name,
        var other => other ?? "?",
    };
}
