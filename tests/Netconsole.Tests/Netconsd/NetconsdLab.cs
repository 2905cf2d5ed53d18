using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Netconsole.Lab;
using Netconsole.Targets;
using Netconsole.Tests.Support;
using Xunit.Abstractions;

namespace Netconsole.Tests.Netconsd;

/// <summary>
/// What every netconsd interop test starts with: a network lab (the code under test sends on
/// its device end, 192.0.2.1 / 2001:db8::1) and netconsd receiving on its peer end
/// (192.0.2.2 / 2001:db8::2, port 1514). Disposing stops netconsd, then removes the lab.
/// </summary>
internal sealed class NetconsdLab : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly List<IDisposable> _owned = [];

    private NetconsdLab(NetworkLab lab, NetconsdReceiver netconsd, ITestOutputHelper output)
    {
        Lab = lab;
        Netconsd = netconsd;
        _output = output;
    }

    public NetworkLab Lab { get; }

    public NetconsdReceiver Netconsd { get; }

    /// <summary>Checks the preconditions (skip locally, fail on CI), builds netconsd once per run, creates a lab and starts netconsd in it.</summary>
    public static async Task<NetconsdLab> StartAsync(ITestOutputHelper output)
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        NetconsdBuild build = await NetconsdBuild.GetAsync();
        NetworkLab lab = NetworkLab.Create();
        try
        {
            return new NetconsdLab(lab, await NetconsdReceiver.StartAsync(lab, build, output), output);
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>How netconsd names the device end: its address only, IPv4 mapped into IPv6.</summary>
    public string Source(bool ipv6) => ipv6 ? Lab.DeviceIPv6.ToString() : "::ffff:" + Lab.DeviceIPv4;

    /// <summary>A target in the kernel's syntax to netconsd: on the lab's device, to the peer's port 1514.</summary>
    /// <param name="ipv6">To 2001:db8::2 instead of 192.0.2.2.</param>
    /// <param name="flags">"+" (extended), "+r" (extended with the release), "" (basic).</param>
    public string Target(bool ipv6 = false, string flags = "+") =>
        $"{flags}@/{Lab.DeviceName},{NetconsdReceiver.Port}@{(ipv6 ? Lab.PeerIPv6 : Lab.PeerIPv4)}/";

    /// <summary>A TargetManager with one enabled target (disposed with the scene).</summary>
    public TargetManager Manager(NetconsoleTargetOptions options)
    {
        var manager = new TargetManager();
        _owned.Add(manager);
        NetconsoleTarget target = manager.Add(options);
        EnableResult enabled = manager.Enable(target.Name);
        enabled.IsEnabled.Should().BeTrue(enabled.ToString());
        return manager;
    }

    /// <summary>Runs a program of the test output (netconsole-send, netconsole-crash-demo) as a child process with the dotnet host, feeding it <paramref name="stdin"/> if given.</summary>
    public async Task<ChildProcess.Result> RunToolAsync(string assembly, IReadOnlyList<string> arguments, string? stdin = null, TimeSpan? timeout = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, assembly + ".dll");
        File.Exists(dll).Should().BeTrue($"the test project references {assembly}, so its dll is in the test output");
        var start = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        string shown = $"{assembly} {string.Join(' ', arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a))}";
        using Process child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {shown}");
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await child.StandardInput.WriteAsync(stdin);
        }

        child.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await child.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"{shown} did not exit within {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds:F0} s");
        }

        var result = new ChildProcess.Result(child.ExitCode, await stdout, await stderr);
        _output.WriteLine($"$ {shown}{(stdin is null ? "" : $"   (stdin: {stdin.Count(c => c == '\n')} lines)")} -> exit {result.ExitCode}\n{result.Stdout}{result.Stderr}");
        return result;
    }

    /// <summary>
    /// The extended format's escaping, written out here independently of the library: every byte
    /// below 0x20, from 0x7f up, and the backslash become <c>\xNN</c> (lowercase hex).
    /// </summary>
    public static string Escaped(string text)
    {
        var escaped = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            escaped.Append(b is < 0x20 or >= 0x7f or (byte)'\\' ? string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}") : ((char)b).ToString());
        }

        return escaped.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }

        await Netconsd.DisposeAsync();
        Lab.Dispose();
    }
}
