using Netconsole.Receiving;

namespace Netconsole.Tests.Receiving;

// The anti-replay window of signed runs: a number is taken once; up to 63 below the highest a
// number not yet seen is still taken (reordering); 64 and more below, never.
public class SignedRunWindowsTests
{
    [Fact]
    public void A_number_is_taken_once_and_numbers_below_the_window_never()
    {
        var windows = new SignedRunWindows(16);

        windows.TryTake("k", "run", 100).Should().BeTrue("the first of a run");
        windows.TryTake("k", "run", 100).Should().BeFalse("a copy");
        windows.TryTake("k", "run", 37).Should().BeTrue("63 below the highest, not seen yet");
        windows.TryTake("k", "run", 37).Should().BeFalse();
        windows.TryTake("k", "run", 36).Should().BeFalse("64 below the highest: older than the window");
        windows.TryTake("k", "run", 101).Should().BeTrue();
        windows.TryTake("k", "run", 38).Should().BeTrue("still within the window of 101");
        windows.TryTake("k", "run", 37).Should().BeFalse("out of the window now, and taken before");
    }

    [Fact]
    public void A_jump_beyond_the_window_forgets_what_was_below_and_keeps_the_new_highest()
    {
        var windows = new SignedRunWindows(16);
        windows.TryTake("k", "run", 1).Should().BeTrue();

        windows.TryTake("k", "run", 1000).Should().BeTrue();

        windows.TryTake("k", "run", 1000).Should().BeFalse();
        windows.TryTake("k", "run", 999).Should().BeTrue();
        windows.TryTake("k", "run", 1).Should().BeFalse();
    }

    [Fact]
    public void Runs_and_keys_are_apart()
    {
        var windows = new SignedRunWindows(16);
        windows.TryTake("k", "one", 5).Should().BeTrue();

        windows.TryTake("k", "two", 5).Should().BeTrue("another run: another sender process");
        windows.TryTake("other", "one", 5).Should().BeTrue("another key");
        windows.Count.Should().Be(3);
    }

    [Fact]
    public void Beyond_its_limit_the_run_least_recently_advanced_is_forgotten()
    {
        var windows = new SignedRunWindows(2);
        windows.TryTake("k", "a", 1);
        windows.TryTake("k", "b", 1);
        windows.TryTake("k", "a", 2); // a advanced last: b is the least recent

        windows.TryTake("k", "c", 1);

        windows.Count.Should().Be(2);
        windows.TryTake("k", "a", 2).Should().BeFalse("a is remembered");
        windows.TryTake("k", "b", 1).Should().BeTrue("b was forgotten: the cost of a bounded table, documented");
    }

    [Fact]
    public void The_highest_number_there_is_does_not_overflow()
    {
        var windows = new SignedRunWindows(4);
        windows.TryTake("k", "run", ulong.MaxValue - 1).Should().BeTrue();
        windows.TryTake("k", "run", ulong.MaxValue).Should().BeTrue();
        windows.TryTake("k", "run", ulong.MaxValue).Should().BeFalse();
        windows.TryTake("k", "run", 0).Should().BeFalse("far below the window");
    }
}
