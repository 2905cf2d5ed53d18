using System.Text;

namespace Netconsole.Samples;

/// <summary>
/// Standard output or error as the tool writes them: a write that fails (a full disk, a closed
/// descriptor) becomes an <see cref="OutputFailedException"/>, which the tool turns into one line
/// and exit code 1 instead of a stack trace. A closed pipe (| head) is not a failure: the runtime ignores it.
/// </summary>
internal sealed class GuardedWriter(TextWriter inner, string name) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // TextWriter.NewLine's setter takes null for the default
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value) => Guard(() => inner.Write(value));

    public override void Write(string? value) => Guard(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));

    public override void WriteLine() => Guard(inner.WriteLine);

    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));

    public override void Flush() => Guard(inner.Flush);

    private void Guard(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // EBADF comes as UnauthorizedAccessException around an IOException: the inner one says it.
            throw new OutputFailedException(name, (e.InnerException as IOException ?? e).Message);
        }
    }
}

/// <summary>Standard output or error could not be written: exit code 1.</summary>
internal sealed class OutputFailedException(string stream, string reason) : Exception($"cannot write {stream}: {reason}")
{
    /// <summary>"standard output" or "standard error".</summary>
    public string Stream { get; } = stream;
}
