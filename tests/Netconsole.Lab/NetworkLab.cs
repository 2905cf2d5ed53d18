namespace Netconsole.Lab;

/// <summary>Placeholder until the lab lands.</summary>
public static class LabPlaceholder
{
}
