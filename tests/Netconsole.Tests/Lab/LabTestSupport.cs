using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Netconsole.Lab;
using Netconsole.Tests.Support;
using SharpPcap;
using SharpPcap.LibPcap;
using Xunit.Abstractions;

namespace Netconsole.Tests.Lab;

/// <summary>What the lab's own tests share: preconditions, a logged lab, plain ip queries.</summary>
internal static class LabTestSupport
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>Checks the preconditions (skip locally, fail on CI) and creates a lab that logs to the test output.</summary>
    public static NetworkLab CreateLab(ITestOutputHelper output, NetworkLabOptions? options = null)
    {
        RequireLab();
        options ??= new NetworkLabOptions();
        options.Log = new TestOutputWriter(output);
        return NetworkLab.Create(options);
    }

    public static void RequireLab()
    {
        Requires.LinuxRoot();
        Requires.PrivateNetworkNamespace();
    }

    /// <summary>Runs ip (independently of the lab) and returns its stdout; fails the test on a non-zero exit.</summary>
    public static string Ip(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit(10_000).Should().BeTrue();
        process.ExitCode.Should().Be(0, $"ip {string.Join(' ', arguments)}: {stderr.Result}");
        return stdout;
    }

    /// <summary>The names in <c>ip netns list</c>.</summary>
    public static IReadOnlyList<string> Namespaces() =>
        Ip("netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0]).ToList();

    /// <summary>The interface names in <c>ip -j link show</c> (of the current namespace, or of a named one).</summary>
    public static IReadOnlyList<string> Links(string? networkNamespace = null)
    {
        string json = networkNamespace is null ? Ip("-j", "link", "show") : Ip("-n", networkNamespace, "-j", "link", "show");
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(link => link.GetProperty("ifname").GetString()!).ToList();
    }

    /// <summary>One field of <c>ip -j link show dev NAME</c>, such as "operstate".</summary>
    public static string LinkField(string name, string field)
    {
        using JsonDocument document = JsonDocument.Parse(Ip("-j", "link", "show", "dev", name));
        return document.RootElement[0].GetProperty(field).ToString();
    }

    /// <summary>Injects one frame on an interface of the current namespace through SharpPcap.</summary>
    public static void Inject(string interfaceName, ReadOnlySpan<byte> frame)
    {
        LibPcapLiveDevice device = LibPcapLiveDeviceList.New().First(d => d.Name == interfaceName);
        try
        {
            device.Open(new DeviceConfiguration { Mode = DeviceModes.None });
            device.SendPacket(frame);
        }
        finally
        {
            device.Dispose();
        }
    }

    /// <summary>Receives one datagram, or fails after <see cref="Patience"/>.</summary>
    public static (byte[] Payload, IPEndPoint From) Receive(Socket socket)
    {
        socket.ReceiveTimeout = (int)Patience.TotalMilliseconds;
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        int length = socket.ReceiveFrom(buffer, ref from);
        return (buffer[..length], (IPEndPoint)from);
    }

    /// <summary>Sends one datagram from the device end to the peer and checks it arrives intact.</summary>
    public static void AssertUdpFlows(NetworkLab lab, AddressFamily family, int port)
    {
        Socket receiver = lab.OpenPeerUdpSocket(family, port);
        Socket sender = lab.OpenDeviceUdpSocket(family);
        IPAddress peer = family == AddressFamily.InterNetwork ? lab.PeerIPv4 : lab.PeerIPv6;
        byte[] payload = Encoding.ASCII.GetBytes($"hello over {family} from {lab.DeviceName}\n");

        sender.SendTo(payload, new IPEndPoint(peer, port));

        (byte[] received, IPEndPoint from) = Receive(receiver);
        received.Should().Equal(payload);
        from.Address.Should().Be(family == AddressFamily.InterNetwork ? lab.DeviceIPv4 : lab.DeviceIPv6);
        receiver.Dispose();
        sender.Dispose();
    }
}

/// <summary>A TextWriter onto the xunit test output, for the lab's command log.</summary>
internal sealed class TestOutputWriter(ITestOutputHelper output) : TextWriter
{
    public override Encoding Encoding => Encoding.UTF8;

    public override void WriteLine(string? value) => output.WriteLine(value ?? "");

    public override void Write(char value)
    {
        // Only whole lines reach the test output.
    }
}
