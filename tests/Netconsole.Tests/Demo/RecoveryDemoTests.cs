using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Netconsole.Demo;
using Netconsole.Tests.Integration;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Demo;

/// <summary>
/// The demo's recovery scene, run in process against a real veth pair: what it prints is what
/// a newcomer reads, so the lines that tell the story are pinned here (the lab's interface
/// names are random, the timings vary, the rest is exact).
/// </summary>
[Collection(LabTestsRunAlone.Name)]
[SupportedOSPlatform("linux")] // the lab
public sealed partial class RecoveryDemoTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task The_recovery_scene_shows_a_carrier_loss_and_a_deletion_each_counted_as_dropped_then_recovered()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();

        using var printed = new StringWriter();
        SceneResult result = await RecoveryScene.RunAsync(printed);
        string text = printed.ToString();
        output.WriteLine(text);

        result.Should().Be(new SceneResult(RecoveryScene.Name, Logged: 15, Received: 9, Dropped: 6, Passed: true));
        string device = DeviceLine().Match(text).Groups["device"].Value;
        device.Should().NotBeEmpty("the scene names its lab interface first");
        string[] lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        // The carrier loss: the target deactivates for it, and what is logged meanwhile is counted as NoCarrier.
        lines.Should().Contain($"   -- carrier loss: the peer {device}p is set down; {device} stays up but has no link (a pulled cable)");
        lines.Should().ContainMatch($"*ms later: cmdline0 Enabled -> Deactivated, cause NoCarrier: device {device} lost its carrier (no link: a cable, a switch port or the veth peer is down)");
        lines.Should().Contain("   logged records 4-6 without carrier: 0 sent, 3 counted as dropped (NoCarrier=3)");

        // The carrier's return: the target resumes by itself and the next records arrive.
        lines.Should().Contain($"   -- carrier back: {device}p is set up again");
        lines.Should().ContainMatch($"*ms later: cmdline0 Deactivated -> Enabled, cause Resumed: resumed on device {device}; next hop 192.0.2.2 is *");
        lines.Should().Contain("   received 3 of 3 after the carrier came back:");

        // The deletion and re-creation, for comparison: counted as Deactivated, then resumed.
        lines.Should().ContainMatch($"*ms later: cmdline0 Enabled -> Deactivated, cause DeviceUnregistered: device {device} unregistered");
        lines.Should().Contain($"   logged records 10-12 while {device} is gone: 0 sent, 3 counted as dropped (Deactivated=3)");
        lines.Should().Contain("   received 3 of 3 after the re-creation:");

        lines.Should().Contain($"   cmdline0 on {device}: Enabled, 9 records in 9 datagrams sent, 6 dropped (Deactivated=3, NoCarrier=3), 2 resumes");
        lines.Should().NotContain(l => l.Contains("PROBLEM", StringComparison.Ordinal));
        ReceivedTexts(text).Should().Equal(
            "record 1 of 15 (link up)", "record 2 of 15 (link up)", "record 3 of 15 (link up)",
            "record 7 of 15 (carrier back)", "record 8 of 15 (carrier back)", "record 9 of 15 (carrier back)",
            "record 13 of 15 (re-created)", "record 14 of 15 (re-created)", "record 15 of 15 (re-created)");
    }

    private static IEnumerable<string> ReceivedTexts(string text) =>
        ReceivedLine().Matches(text).Select(m => m.Groups["text"].Value);

    [GeneratedRegex(@"^   lab: (?<device>\S+) \(192\.0\.2\.1\) <-> ", RegexOptions.Multiline)]
    private static partial Regex DeviceLine();

    [GeneratedRegex(@"^     seq=\d+ +info +Demo\.Recovery ""(?<text>[^""]+)""", RegexOptions.Multiline)]
    private static partial Regex ReceivedLine();
}
