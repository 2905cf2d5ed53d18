using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Netconsole.Demo;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Demo;

/// <summary>
/// The demo's killed scene, run in process (its child is a real process killed with SIGKILL): the
/// lines that tell the story are pinned (sequence numbers and timings vary, the rest is exact).
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")]
public sealed partial class KilledDemoTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task The_killed_scene_shows_the_records_and_the_cause_of_a_SIGKILL_arriving_from_the_watchdog()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();

        using var printed = new StringWriter();
        SceneResult result = await KilledScene.RunAsync(printed);
        string text = printed.ToString();
        output.WriteLine(text);

        result.Should().Be(new SceneResult(KilledScene.Name, Logged: 6, Received: 6, Dropped: 0, Passed: true));
        string[] lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        lines.Should().Contain("== 4. killed (SIGKILL)");
        lines.Should().Contain("   child: netconsole-crash-demo: logging 5 records to +@/lo,@::1/, then SIGKILL");
        lines.Should().Contain("   child exit code: 137 (128 + 9: killed by SIGKILL, as it should)");
        lines.Should().Contain("   logged 5 records and was killed; received 6:");
        lines.Should().Contain("   death record: level 2 (crit), names SIGKILL and the OOM killer: True");
        lines.Should().NotContain(l => l.Contains("PROBLEM", StringComparison.Ordinal));
        ReceivedLine().Matches(text).Select(m => m.Groups["text"].Value).Should().Equal(
            "record 1 of 5", "record 2 of 5", "record 3 of 5", "record 4 of 5", "record 5 of 5");
        lines.Should().ContainMatch("   its text: netconsole: process * (*) was killed by signal 9 (SIGKILL), possibly by the OOM killer; no core dump. The watchdog sent the * records it had queued and not sent.");
    }

    [GeneratedRegex(@"^     seq=\d+ +info +Netconsole\.CrashDemo ""(?<text>[^""]+)""", RegexOptions.Multiline)]
    private static partial Regex ReceivedLine();
}
