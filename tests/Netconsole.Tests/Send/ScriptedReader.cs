namespace Netconsole.Tests.Send;

/// <summary>Lines of standard input, each with an action run just before it is read (so after the previous line was sent).</summary>
internal sealed class ScriptedReader : TextReader
{
    private readonly (string Line, Action? Before)[] _lines;
    private int _next;

    public ScriptedReader(params (string Line, Action? Before)[] lines) => _lines = lines;

    public override string? ReadLine()
    {
        if (_next >= _lines.Length)
        {
            return null;
        }

        var (line, before) = _lines[_next++];
        before?.Invoke();
        return line;
    }
}
