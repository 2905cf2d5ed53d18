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

    // Without a closure: netconsole-listen writes every line this way.
    public override void Write(ReadOnlySpan<char> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (Exception e) when (IsFailure(e))
        {
            throw Failed(e);
        }
    }

    private static bool IsFailure(Exception e) => e is IOException or UnauthorizedAccessException or ObjectDisposedException;

    // EBADF comes as UnauthorizedAccessException around an IOException: the inner one says it.
    private OutputFailedException Failed(Exception e) => new(name, (e.InnerException as IOException ?? e).Message);

    private void Guard(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (IsFailure(e))
        {
            throw Failed(e);
        }
    }
}

/// <summary>Standard output or error could not be written: exit code 1.</summary>
internal sealed class OutputFailedException(string stream, string reason) : Exception($"cannot write {stream}: {reason}")
{
    /// <summary>"standard output" or "standard error".</summary>
    public string Stream { get; } = stream;
}

/// <summary>How both tools run as a process: guarded output, and one line on stderr instead of a stack trace.</summary>
internal static class ToolProcess
{
    /// <summary>
    /// Runs <paramref name="run"/> with <paramref name="stdout"/> and <paramref name="stderr"/>
    /// guarded. Output that cannot be written, or anything nobody handled (the last resort: each
    /// known failure has its own message), ends as one line on stderr and <paramref name="failure"/>.
    /// </summary>
    public static async Task<int> RunAsync(string tool, int failure, TextWriter stdout, TextWriter stderr, Func<TextWriter, TextWriter, Task<int>> run)
    {
        try
        {
            var output = new GuardedWriter(stdout, "standard output");
            int code = await run(output, new GuardedWriter(stderr, "standard error")).ConfigureAwait(false);
            output.Flush(); // standard output may be buffered: what is in it goes out before the exit
            return code;
        }
        catch (OutputFailedException e)
        {
            TryWriteLine(stderr, $"{tool}: {e.Message}");
            return failure;
        }
#pragma warning disable CA1031 // the last resort catches everything, by design
        catch (Exception e)
#pragma warning restore CA1031
        {
            TryWriteLine(stderr, $"{tool}: unexpected error ({e.GetType().Name}): {e.Message}");
            return failure;
        }
    }

    private static void TryWriteLine(TextWriter writer, string line)
    {
        try
        {
            writer.WriteLine(line);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // Standard error itself is gone: the exit code is all that is left.
        }
    }
}
