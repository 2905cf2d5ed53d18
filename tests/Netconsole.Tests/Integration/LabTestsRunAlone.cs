namespace Netconsole.Tests.Integration;

/// <summary>Tests that build a network lab run one after another: a 2-core CI machine gains nothing from parallel labs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabTestsRunAlone
{
    public const string Name = "network lab";
}
