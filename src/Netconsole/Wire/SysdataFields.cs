namespace Netconsole.Wire;

/// <summary>
/// The sysdata lines appended to every extended record, in the kernel's fixed order
/// <c>cpu</c>, <c>taskname</c>, <c>release</c>, <c>msgid</c>.
/// </summary>
[Flags]
public enum SysdataFields
{
    /// <summary>No sysdata (the default).</summary>
    None = 0,

    /// <summary><c> cpu=N</c>: the CPU the record was produced on.</summary>
    Cpu = 1,

    /// <summary><c> taskname=NAME</c>: the producing thread's name.</summary>
    TaskName = 2,

    /// <summary><c> release=RELEASE</c>: the release string (<see cref="RecordFormat.Release"/>).</summary>
    Release = 4,

    /// <summary><c> msgid=N</c>: a u32 counter per formatter (per target), 1 for the first record, wrapping.</summary>
    MessageId = 8,

    /// <summary>All four lines.</summary>
    All = Cpu | TaskName | Release | MessageId,
}
