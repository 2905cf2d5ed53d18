using System.Net;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>Pacing is off by default; its rate and burst are checked by their setters and copied by Clone.</summary>
public class PacingOptionsTests
{
    private static NetconsoleConfigurationException Rejects(Action action) =>
        FluentActions.Invoking(action).Should().Throw<NetconsoleConfigurationException>().Which;

    [Fact]
    public void Pacing_is_off_by_default_with_a_burst_of_50()
    {
        var options = new NetconsoleTargetOptions();

        options.MaxDatagramsPerSecond.Should().Be(0);
        options.MaxDatagramBurst.Should().Be(NetconsoleTargetOptions.DefaultMaxDatagramBurst).And.Be(50);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public void A_rate_outside_0_to_a_million_is_rejected(int rate)
    {
        var error = Rejects(() => new NetconsoleTargetOptions().MaxDatagramsPerSecond = rate);

        error.ParamName.Should().Be(nameof(NetconsoleTargetOptions.MaxDatagramsPerSecond));
        error.Message.Should().Contain("0 (no limit) to 1000000 datagrams a second");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(1_000_001)]
    public void A_burst_outside_1_to_a_million_is_rejected(int burst)
    {
        var error = Rejects(() => new NetconsoleTargetOptions().MaxDatagramBurst = burst);

        error.ParamName.Should().Be(nameof(NetconsoleTargetOptions.MaxDatagramBurst));
        error.Message.Should().Contain("1 to 1000000 datagrams");
    }

    [Fact]
    public void Clone_copies_the_pacing()
    {
        var original = new NetconsoleTargetOptions { RemoteAddress = IPAddress.Parse("192.0.2.2"), MaxDatagramsPerSecond = 250, MaxDatagramBurst = 7 };

        NetconsoleTargetOptions copy = original.Clone();

        copy.MaxDatagramsPerSecond.Should().Be(250);
        copy.MaxDatagramBurst.Should().Be(7);
    }
}
