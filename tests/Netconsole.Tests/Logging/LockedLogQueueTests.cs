using Netconsole.Logging;

namespace Netconsole.Tests.Logging;

/// <summary>Every <see cref="LogQueueTests"/> test against the locked queue: the two keep one contract.</summary>
public sealed class LockedLogQueueTests : LogQueueTests
{
    private protected override ILogQueue NewQueue(long start = 0) => new LockedLogQueue(start);
}
