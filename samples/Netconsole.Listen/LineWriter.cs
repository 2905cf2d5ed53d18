using System.Net;
using System.Text;
using Netconsole.Receiving;

namespace Netconsole.Listen;

/// <summary>
/// Prints records and datagrams as lines to standard output through one reused buffer, so a
/// line costs no string of its own. The writer buffers; the tool flushes it whenever nothing
/// more is waiting.
/// </summary>
internal sealed class LineWriter(TextWriter output)
{
    // A line that grew the buffer past this (a 64 KiB record, escaped) does not keep it.
    private const int MaxKeptCapacity = 1024 * 1024;

    private StringBuilder _line = new(1024);

    public void Print(ReceivedRecord record, bool checksSignatures)
    {
        RecordPrinter.Append(record, checksSignatures, _line);
        WriteLine();
    }

    public void PrintDatagram(IPEndPoint sender, ReadOnlySpan<byte> datagram)
    {
        RecordPrinter.AppendDatagram(sender, datagram, _line);
        WriteLine();
    }

    private void WriteLine()
    {
        _line.Append(output.NewLine);
        try
        {
            output.Write(_line);
        }
        finally
        {
            if (_line.Capacity > MaxKeptCapacity)
            {
                _line = new StringBuilder(1024);
            }
            else
            {
                _line.Clear();
            }
        }
    }
}
