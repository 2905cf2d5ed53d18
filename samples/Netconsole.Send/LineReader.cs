namespace Netconsole.Send;

/// <summary>
/// The records of --stdin: the bytes of standard input cut at each LF, as they are (a CR, alone
/// or before the LF, stays in the text; invalid UTF-8 passes through). A line longer than
/// <see cref="MaxLineBytes"/> goes out in pieces of at most that many bytes, chained as one
/// continued group (flag <c>c</c> on the first, <c>+</c> on the rest), so memory stays bounded
/// whatever comes in and no byte is lost.
/// </summary>
/// <remarks>
/// A line is handed out as soon as its LF has been read, never held for more input (tail -f).
/// A read error ends the input: <see cref="Error"/> says what it was.
/// </remarks>
internal sealed class LineReader
{
    /// <summary>The longest text the tool puts in one record: 64 KiB (a message file, a line of standard input, a piece of a longer line).</summary>
    public const int MaxLineBytes = 64 * 1024;

    private readonly Stream _input;
    private readonly int _maxLineBytes;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private bool _inLongLine;

    public LineReader(Stream input, int maxLineBytes = MaxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 4);
        _input = input;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[2 * maxLineBytes];
    }

    /// <summary>Lines read so far (a line cut into pieces counts once; a last line without LF counts).</summary>
    public long Lines { get; private set; }

    /// <summary>Lines longer than the limit, sent in pieces.</summary>
    public long LongLines { get; private set; }

    /// <summary>Why reading stopped before the end of the input, or <see langword="null"/>.</summary>
    public string? Error { get; private set; }

    /// <summary>Called when a line turns out to be longer than the limit, with its line number (from 1).</summary>
    public Action<long>? LongLineFound { get; set; }

    /// <summary>The records' texts with their place in a continued group, until the end of the input (or a read error).</summary>
    public IEnumerable<Piece> ReadAll()
    {
        int scanned = _start;
        while (true)
        {
            int lf = Array.IndexOf(_buffer, (byte)'\n', scanned, _end - scanned);
            scanned = lf >= 0 ? lf : _end;

            // Whether the LF came in the same read or not: more than the limit before it is a piece.
            if (scanned - _start > _maxLineBytes)
            {
                yield return NextPiece(Cut());
                continue;
            }

            if (lf >= 0)
            {
                yield return EndLine(lf);
                _start = lf + 1;
                scanned = _start;
                continue;
            }

            if (!Fill(ref scanned))
            {
                if (_end > _start)
                {
                    yield return EndLine(_end);
                    _start = _end;
                }

                yield break;
            }
        }
    }

    private Piece EndLine(int end)
    {
        Lines++;
        var piece = new Piece(_buffer[_start..end], _inLongLine ? RecordContinuation.Continuation : RecordContinuation.None);
        _inLongLine = false;
        return piece;
    }

    private Piece NextPiece(int length)
    {
        RecordContinuation continuation = _inLongLine ? RecordContinuation.Continuation : RecordContinuation.First;
        if (!_inLongLine)
        {
            _inLongLine = true;
            LongLines++;
            LongLineFound?.Invoke(Lines + 1);
        }

        var piece = new Piece(_buffer[_start..(_start + length)], continuation);
        _start += length;
        return piece;
    }

    // Where to cut a piece: at the limit, or up to 3 bytes before it so that a UTF-8 character is
    // not split between two records (netconsd prints each record on its own).
    private int Cut()
    {
        int cut = _maxLineBytes;
        while (cut > _maxLineBytes - 3 && IsContinuationByte(_buffer[_start + cut]))
        {
            cut--;
        }

        return IsContinuationByte(_buffer[_start + cut]) ? _maxLineBytes : cut;
    }

    private static bool IsContinuationByte(byte b) => (b & 0xc0) == 0x80;

    // Moves what is pending to the front and reads more; false at the end of the input or on an error.
    private bool Fill(ref int scanned)
    {
        if (_start > 0)
        {
            int pending = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            scanned -= _start;
            _start = 0;
            _end = pending;
        }

        int read;
        try
        {
            read = _input.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException)
        {
            Error = e.Message;
            return false;
        }

        _end += read;
        return read > 0;
    }

    /// <summary>One record's text and its place in a continued group (<see cref="RecordContinuation.None"/> for a whole line).</summary>
    public readonly record struct Piece(byte[] Text, RecordContinuation Continuation);
}
