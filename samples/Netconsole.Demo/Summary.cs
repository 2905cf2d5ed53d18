using System.Globalization;

namespace Netconsole.Demo;

/// <summary>The closing table: per scene, records logged, received, dropped (counted by the targets) and lost (neither).</summary>
internal static class Summary
{
    public static void Write(TextWriter output, IReadOnlyList<SceneResult> results, TimeSpan elapsed)
    {
        int width = Math.Max(5, results.Max(r => r.Name.Length));
        output.WriteLine("== summary");
        output.WriteLine($"   {"scene".PadRight(width)}  logged  received  dropped (counted)  lost (uncounted)  result");
        foreach (SceneResult r in results)
        {
            string verdict = r.Ok ? "ok" : "FAILED" + (r.Problem is null ? string.Empty : ": " + r.Problem);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   {r.Name.PadRight(width)}  {r.Logged,6}  {r.Received,8}  {r.Dropped,17}  {r.Lost,16}  {verdict}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"   {(results.All(r => r.Ok) ? "every record was received or counted as dropped" : "SOMETHING WENT WRONG (see above)")}; {elapsed.TotalSeconds:F1} s"));
    }
}
