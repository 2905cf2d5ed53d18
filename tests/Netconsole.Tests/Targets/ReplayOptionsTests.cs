using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>The replay buffer's limits: documented defaults, 0 turns the buffer off, bad values rejected, copied by Clone.</summary>
public sealed class ReplayOptionsTests
{
    [Fact]
    public void The_defaults_are_10000_records_4_MiB_and_10_minutes()
    {
        var options = new NetconsoleTargetOptions();

        options.ReplayBufferMaxRecords.Should().Be(10_000).And.Be(NetconsoleTargetOptions.DefaultReplayBufferMaxRecords);
        options.ReplayBufferMaxBytes.Should().Be(4 * 1024 * 1024).And.Be(NetconsoleTargetOptions.DefaultReplayBufferMaxBytes);
        options.ReplayBufferMaxAge.Should().Be(TimeSpan.FromMinutes(10)).And.Be(NetconsoleTargetOptions.DefaultReplayBufferMaxAge);
        options.ReplayBufferEnabled.Should().BeTrue();
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 0, 1)]
    [InlineData(1, 1, 0)]
    public void Any_limit_of_0_turns_the_buffer_off(int records, int bytes, int ageSeconds)
    {
        var options = new NetconsoleTargetOptions
        {
            ReplayBufferMaxRecords = records,
            ReplayBufferMaxBytes = bytes,
            ReplayBufferMaxAge = TimeSpan.FromSeconds(ageSeconds),
        };

        options.ReplayBufferEnabled.Should().BeFalse();
    }

    [Fact]
    public void Values_out_of_range_are_rejected_with_the_rule()
    {
        var options = new NetconsoleTargetOptions();

        FluentActions.Invoking(() => options.ReplayBufferMaxRecords = -1).Should().Throw<NetconsoleConfigurationException>().WithMessage("*0 (off) to 10000000 records*");
        FluentActions.Invoking(() => options.ReplayBufferMaxRecords = 10_000_001).Should().Throw<NetconsoleConfigurationException>();
        FluentActions.Invoking(() => options.ReplayBufferMaxBytes = -1).Should().Throw<NetconsoleConfigurationException>().WithMessage("*0 (off) to 1073741824 bytes*");
        FluentActions.Invoking(() => options.ReplayBufferMaxAge = TimeSpan.FromSeconds(-1)).Should().Throw<NetconsoleConfigurationException>().WithMessage("*00:00:00 (off) to 1.00:00:00*");
        FluentActions.Invoking(() => options.ReplayBufferMaxAge = TimeSpan.FromDays(2)).Should().Throw<NetconsoleConfigurationException>();
    }

    [Fact]
    public void Clone_copies_the_limits()
    {
        var options = new NetconsoleTargetOptions { ReplayBufferMaxRecords = 7, ReplayBufferMaxBytes = 8, ReplayBufferMaxAge = TimeSpan.FromSeconds(9) };

        NetconsoleTargetOptions copy = options.Clone();

        (copy.ReplayBufferMaxRecords, copy.ReplayBufferMaxBytes, copy.ReplayBufferMaxAge).Should().Be((7, 8, TimeSpan.FromSeconds(9)));
    }
}
