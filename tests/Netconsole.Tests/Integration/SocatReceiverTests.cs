using System.Diagnostics;
using Netconsole.Lab;
using Netconsole.Send;
using Netconsole.Tests.Support;
using Netconsole.Tests.Wire;
using Xunit.Abstractions;

namespace Netconsole.Tests.Integration;

/// <summary>The receiver people already run: socat in the lab's peer namespace, as the kernel's selftests use it.</summary>
[Collection(LabTestsRunAlone.Name)]
public sealed class SocatReceiverTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Socat_receives_the_fragmented_selftest_message_with_its_userdata(bool ipv6)
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        string? socat = new[] { "/usr/bin/socat", "/bin/socat" }.FirstOrDefault(File.Exists);
        Requires.That(socat is not null, "needs socat (apt-get install socat)");
        using NetworkLab lab = NetworkLab.Create();
        var (_, record, body, userdataLine) = RecordFormatterTests.SelftestVector();
        string value = userdataLine[" key=".Length..^1];

        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "netns", "exec", lab.PeerNamespace, socat!, "-u", ipv6 ? "UDP6-RECV:6666" : "UDP4-RECV:6666", "STDOUT" })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var received = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (received) { received.Append(e.Data).Append('\n'); } };
        process.BeginOutputReadLine();
        try
        {
            // socat binds asynchronously: send until it has printed the record (at most 20 tries).
            string target = $"+@/{lab.DeviceName},@{(ipv6 ? lab.PeerIPv6 : lab.PeerIPv4)}/";
            for (int attempt = 0; attempt < 20 && !Contains(received, "ncfrag=967/1135;"); attempt++)
            {
                var stderr = new StringWriter();
                SendTool.Run(["--target", target, "--userdata", "key=" + value, "--level", "5", "--seq", "468",
                    "--timestamp-us", "514729715", System.Text.Encoding.UTF8.GetString(record.Text.Span)], TextWriter.Null, stderr)
                    .Should().Be(0, stderr.ToString());
                Thread.Sleep(250);
            }

            string text;
            lock (received)
            {
                text = received.ToString();
            }

            output.WriteLine(text);
            // What the kernel selftest checks after stripping the ncfrag headers: the whole body and the userdata.
            text.Should().Contain("13,468,514729715,-,ncfrag=0/1135;MSG1=MSG2=");
            string reassembled = System.Text.RegularExpressions.Regex.Replace(text, @"13,468,514729715,-,ncfrag=\d+/1135;", "");
            reassembled.Should().Contain(body + userdataLine);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    private static bool Contains(System.Text.StringBuilder sb, string value)
    {
        lock (sb)
        {
            return sb.ToString().Contains(value, StringComparison.Ordinal);
        }
    }
}
