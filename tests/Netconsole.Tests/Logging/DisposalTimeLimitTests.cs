using Netconsole.Logging;
using Netconsole.Targets;
using Netconsole.Tests.Targets.Manager;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The provider's <see cref="NetconsoleLoggerOptions.DisposeTimeout"/> bounds its disposal, the
/// targets' included: a device open that blocks is not waited for, and the operator is told what
/// was left to close later.
/// </summary>
public sealed class DisposalTimeLimitTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness = new(registerDevice: false);
    private readonly FakeTransportFactory _factory = new();
    private readonly ManualResetEventSlim _gate = new();

    public void Dispose()
    {
        _gate.Set();
        _harness.Dispose();
        GC.SuppressFinalize(this);
    }

    // A provider whose one target waits for veth0; veth0 then appears and the resume worker's
    // open of it is held (under the manager's configuration lock).
    private NetconsoleLoggerProvider ProviderWithResumeHeldInOpen()
    {
        NetconsoleLoggerOptions options = _harness.Options(LoggingHarness.Basic);
        options.ManagerOptions = () => new TargetManagerOptions { Watcher = _harness.Watcher, TransportFactory = _factory };
        options.DisposeTimeout = TimeSpan.FromMilliseconds(200);
        var provider = new NetconsoleLoggerProvider(options);
        provider.Manager.Targets[0].State.Should().Be(TargetState.Deactivated);
        _factory.OpenGate = _gate;
        _harness.RegisterDevice();
        _factory.OpenEntered.Wait(Timeout).Should().BeTrue("the resume is held in the open");
        return provider;
    }

    // True when the task ends within the test's time limit (a hang guard, not a measure of speed).
    private static async Task<bool> Ends(Task task) => await Task.WhenAny(task, Task.Delay(Timeout)) == task;

    [Fact]
    public async Task Dispose_returns_while_a_targets_device_open_is_still_blocked()
    {
        NetconsoleLoggerProvider provider = ProviderWithResumeHeldInOpen();

        bool returned = await Ends(Task.Run(provider.Dispose));

        returned.Should().BeTrue("DisposeTimeout bounds the disposal of the targets too");
        _gate.IsSet.Should().BeFalse("the open is released only after Dispose returned");
    }

    [Fact]
    public async Task What_was_not_closed_in_time_is_said_and_closed_when_the_open_returns()
    {
        NetconsoleLoggerProvider provider = ProviderWithResumeHeldInOpen();
        (await Ends(Task.Run(provider.Dispose))).Should().BeTrue();

        _harness.StandardErrorLines().Should().Contain(line => line.StartsWith("netconsole: Disposal stopped waiting", StringComparison.Ordinal) && line.Contains("1 target ", StringComparison.Ordinal));
        _gate.Set();
        SpinWait.SpinUntil(() => _factory.Opens == 1 && _factory.Live.Count == 0, Timeout).Should().BeTrue("the late transport is closed");
    }
}
