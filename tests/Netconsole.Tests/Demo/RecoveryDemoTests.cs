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
    public async Task The_recovery_scene_shows_a_carrier_loss_and_a_deletion_whose_records_wait_and_arrive_first_after_the_recovery()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();

        using var printed = new StringWriter();
        SceneResult result = await RecoveryScene.RunAsync(printed);
        string text = printed.ToString();
        output.WriteLine(text);

        result.Should().Be(new SceneResult(RecoveryScene.Name, Logged: 15, Received: 15, Dropped: 0, Passed: true));
        string device = DeviceLine().Match(text).Groups["device"].Value;
        device.Should().NotBeEmpty("the scene names its lab interface first");
        string[] lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        // The carrier loss: the target deactivates for it, and what is logged meanwhile waits.
        lines.Should().Contain($"   -- carrier loss: the peer {device}p is set down; {device} stays up but has no link (a pulled cable)");
        lines.Should().ContainMatch($"*ms later: cmdline0 Enabled -> Deactivated, cause NoCarrier: device {device} lost its carrier (no link: a cable, a switch port or the veth peer is down)");
        lines.Should().Contain("   logged records 4-6 without carrier: 0 sent, 0 dropped, 3 waiting in the replay buffer");

        // The carrier's return: the target resumes by itself; the records that waited arrive first, then the next ones.
        lines.Should().Contain($"   -- carrier back: {device}p is set up again");
        lines.Should().ContainMatch($"*ms later: cmdline0 Deactivated -> Enabled, cause Resumed: resumed on device {device}; next hop 192.0.2.2 is *");
        lines.Should().Contain("   received 6 of 6 after the carrier came back, the 3 that waited first:");

        // The deletion and re-creation: the same, the target following the device's name.
        lines.Should().ContainMatch($"*ms later: cmdline0 Enabled -> Deactivated, cause DeviceUnregistered: device {device} unregistered");
        lines.Should().Contain($"   logged records 10-12 while {device} is gone: 0 sent, 0 dropped, 3 waiting in the replay buffer");
        lines.Should().Contain("   received 6 of 6 after the re-creation, the 3 that waited first:");

        lines.Should().ContainMatch($"   cmdline0 on {device}: Enabled, * records sent and * replayed in 15 datagrams, 0 dropped, 2 resumes");
        lines.Should().NotContain(l => l.Contains("PROBLEM", StringComparison.Ordinal));
        ReceivedTexts(text).Should().Equal(
            "record 1 of 15 (link up)", "record 2 of 15 (link up)", "record 3 of 15 (link up)",
            "record 4 of 15 (no carrier)", "record 5 of 15 (no carrier)", "record 6 of 15 (no carrier)",
            "record 7 of 15 (carrier back)", "record 8 of 15 (carrier back)", "record 9 of 15 (carrier back)",
            "record 10 of 15 (device gone)", "record 11 of 15 (device gone)", "record 12 of 15 (device gone)",
            "record 13 of 15 (re-created)", "record 14 of 15 (re-created)", "record 15 of 15 (re-created)");
    }

    private static IEnumerable<string> ReceivedTexts(string text) =>
        ReceivedLine().Matches(text).Select(m => m.Groups["text"].Value);

    [GeneratedRegex(@"^   lab: (?<device>\S+) \(192\.0\.2\.1\) <-> ", RegexOptions.Multiline)]
    private static partial Regex DeviceLine();

    [GeneratedRegex(@"^     seq=\d+ +info +Demo\.Recovery ""(?<text>[^""]+)""", RegexOptions.Multiline)]
    private static partial Regex ReceivedLine();
}
