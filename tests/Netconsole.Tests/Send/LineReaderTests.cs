using System.Text;
using Netconsole.Send;

namespace Netconsole.Tests.Send;

/// <summary>
/// --stdin's records: the bytes up to each LF, nothing else changed; a line longer than the limit
/// in pieces chained as a continued group, cut between UTF-8 characters; a line handed out as soon
/// as its LF is read. The limit is 8 bytes here so the cases stay readable (the tool's is 64 KiB).
/// </summary>
public class LineReaderTests
{
    private const int Limit = 8;

    private static (string Text, RecordContinuation Continuation)[] Read(byte[] input, int chunk = int.MaxValue, int limit = Limit) =>
        [.. new LineReader(new ChunkedStream(input, chunk), limit).ReadAll().Select(p => (Encoding.Latin1.GetString(p.Text), p.Continuation))];

    private static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    [Fact]
    public void Only_LF_ends_a_record_and_CRs_stay_in_the_text()
    {
        Read(Bytes("a\r\nb\rc\n\r\n\n")).Should().Equal(
            ("a\r", RecordContinuation.None),
            ("b\rc", RecordContinuation.None),
            ("\r", RecordContinuation.None),
            ("", RecordContinuation.None));
    }

    [Fact]
    public void Invalid_UTF8_and_NUL_bytes_pass_through_unchanged()
    {
        byte[] line = [0xff, 0xfe, 0x00, 0xc3, (byte)'x', 0x80];
        LineReader.Piece piece = new LineReader(new MemoryStream([.. line, (byte)'\n'])).ReadAll().Single();

        piece.Text.Should().Equal(line);
    }

    [Fact]
    public void A_last_line_without_LF_is_a_record_too()
    {
        Read(Bytes("one\ntwo")).Should().Equal(("one", RecordContinuation.None), ("two", RecordContinuation.None));
        Read([]).Should().BeEmpty();
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(3)]
    public void A_line_longer_than_the_limit_goes_out_in_pieces_chained_as_a_continued_group_however_it_arrives(int chunk)
    {
        var reader = new LineReader(new ChunkedStream(Bytes("12345678" + "abcdefgh" + "xy\nnext\n"), chunk), Limit);
        var found = new List<long>();
        reader.LongLineFound = found.Add;

        reader.ReadAll().Select(p => (Encoding.Latin1.GetString(p.Text), p.Continuation)).Should().Equal(
            ("12345678", RecordContinuation.First),
            ("abcdefgh", RecordContinuation.Continuation),
            ("xy", RecordContinuation.Continuation),
            ("next", RecordContinuation.None));
        reader.Lines.Should().Be(2);
        reader.LongLines.Should().Be(1);
        found.Should().Equal(1);
    }

    [Fact]
    public void A_line_of_exactly_the_limit_is_one_record_and_one_byte_more_makes_two()
    {
        Read(Bytes("12345678\n")).Should().Equal(("12345678", RecordContinuation.None));
        Read(Bytes("123456789\n")).Should().Equal(("12345678", RecordContinuation.First), ("9", RecordContinuation.Continuation));
        Read(Bytes("123456789")).Should().Equal(("12345678", RecordContinuation.First), ("9", RecordContinuation.Continuation));
    }

    [Fact]
    public void A_piece_ends_before_a_UTF8_character_rather_than_inside_it()
    {
        LineReader.Piece[] twoBytes = [.. new LineReader(new MemoryStream(Encoding.UTF8.GetBytes("abcdefgé!\n")), Limit).ReadAll()];
        LineReader.Piece[] fourBytes = [.. new LineReader(new MemoryStream(Encoding.UTF8.GetBytes("abcde😀!\n")), Limit).ReadAll()];

        twoBytes.Select(p => Encoding.UTF8.GetString(p.Text)).Should().Equal("abcdefg", "é!");
        fourBytes.Select(p => Encoding.UTF8.GetString(p.Text)).Should().Equal("abcde", "😀!");
    }

    [Fact]
    public void Bytes_that_are_no_UTF8_at_all_are_cut_at_the_limit()
    {
        byte[] continuationBytes = [.. Enumerable.Repeat((byte)0x80, 12), (byte)'\n'];

        new LineReader(new MemoryStream(continuationBytes), Limit).ReadAll().Select(p => p.Text.Length).Should().Equal(8, 4);
    }

    [Fact]
    public void A_line_is_handed_out_as_soon_as_its_LF_is_read()
    {
        var input = new ChunkedStream(Bytes("first\nsecond\n"), chunk: 6);
        using IEnumerator<LineReader.Piece> pieces = new LineReader(input, Limit).ReadAll().GetEnumerator();

        pieces.MoveNext().Should().BeTrue();
        Encoding.Latin1.GetString(pieces.Current.Text).Should().Be("first");
        input.Reads.Should().Be(1, "a follow (tail -f) must not wait for more input before sending a complete line");
    }

    [Fact]
    public void A_read_error_ends_the_input_after_what_was_read_and_says_why()
    {
        var reader = new LineReader(new FailingStream(Bytes("whole\npart")), Limit);

        reader.ReadAll().Select(p => Encoding.Latin1.GetString(p.Text)).Should().Equal("whole", "part");
        reader.Error.Should().Be("Input/output error");
    }

    [Fact]
    public void Memory_stays_bounded_whatever_the_line_length()
    {
        long total = 0;
        int pieces = 0;
        var endless = new ChunkedStream(new byte[3 * 1024 * 1024], chunk: 100_000);

        foreach (LineReader.Piece piece in new LineReader(endless).ReadAll())
        {
            piece.Text.Length.Should().BeLessThanOrEqualTo(LineReader.MaxLineBytes);
            total += piece.Text.Length;
            pieces++;
        }

        total.Should().Be(3 * 1024 * 1024, "no byte is lost");
        pieces.Should().Be(48, "3 MiB without an LF is 48 pieces of 64 KiB");
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, as a pipe does, and counts the reads.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public int Reads { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            return base.Read(buffer, offset, Math.Min(count, chunk));
        }
    }

    /// <summary>Gives its bytes in one read, then fails as a broken device does.</summary>
    private sealed class FailingStream(byte[] data) : MemoryStream(data)
    {
        private bool _given;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_given)
            {
                throw new IOException("Input/output error");
            }

            _given = true;
            return base.Read(buffer, offset, count);
        }
    }
}
