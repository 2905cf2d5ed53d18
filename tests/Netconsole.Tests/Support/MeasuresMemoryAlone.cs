namespace Netconsole.Tests.Support;

/// <summary>
/// Tests that measure the memory a process holds (GC.GetTotalMemory) run with nothing else in the
/// test process: other tests allocating meanwhile would be measured too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuresMemoryAlone
{
    public const string Name = "measures memory";
}
