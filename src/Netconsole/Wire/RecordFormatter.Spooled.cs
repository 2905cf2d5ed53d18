using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;

namespace Netconsole.Wire;

public sealed partial class RecordFormatter
{
    /// <summary>The dictionary key of the line that marks a record sent by a later process from an earlier one's spool.</summary>
    internal const string ReplayedFromPidKey = "replayed_from_pid";

    /// <summary>
    /// A record an earlier process left in its spool (its datagrams, each behind a 2-byte
    /// big-endian length), as this process sends it: in the extended format, each whole part gets
    /// the dictionary line <c>replayed_from_pid=PID</c> and is fragmented again; its sequence
    /// number, timestamp, flags and everything else stay. A signed part is signed again with its
    /// own run id when this formatter has the key it was signed with; otherwise, like a part cut
    /// short (its first datagrams went out before the crash), one the line would push past
    /// <see cref="MaxRecordData"/>, or a record in the basic format (no dictionary), it goes as
    /// it was.
    /// </summary>
    /// <param name="stored">The record's datagrams, each behind its length.</param>
    /// <param name="extended">Whether the earlier process wrote the extended format.</param>
    /// <param name="pid">The earlier process.</param>
    /// <param name="output">Receives the datagrams to send, each behind its length.</param>
    internal void AmendSpooled(ReadOnlySpan<byte> stored, bool extended, int pid, ArrayBufferWriter<byte> output)
    {
        if (!extended)
        {
            output.Write(stored);
            return;
        }

        Span<byte> line = stackalloc byte[64];
        int lineLength = Literal(" replayed_from_pid="u8, line);
        lineLength += Write(line[lineLength..], (ulong)(uint)pid);
        line[lineLength++] = (byte)'\n';
        line = line[..lineLength];

        while (!stored.IsEmpty)
        {
            ReadOnlySpan<byte> first = NextDatagram(stored);
            if (!TryParseHeader(first, out int semicolon, out int baseEnd, out int offset, out int total))
            {
                Emit(output, first);
                stored = stored[(2 + first.Length)..];
                continue;
            }

            // The part's datagrams: one, or its fragments from offset 0 to the total, under one header.
            ReadOnlySpan<byte> baseHeader = first[..baseEnd];
            int partBytes = 2 + first.Length;
            int dataLength = first.Length - semicolon - 1;
            bool whole = total < 0;
            if (total >= 0 && offset == 0)
            {
                ReadOnlySpan<byte> rest = stored[partBytes..];
                int have = dataLength;
                while (have < total && !rest.IsEmpty)
                {
                    ReadOnlySpan<byte> next = NextDatagram(rest);
                    if (!TryParseHeader(next, out int s, out int b, out int o, out int t) || t != total || o != have || !next[..b].SequenceEqual(baseHeader))
                    {
                        break;
                    }

                    have += next.Length - s - 1;
                    partBytes += 2 + next.Length;
                    rest = rest[(2 + next.Length)..];
                }

                whole = have == total;
                dataLength = have;
            }

            ReadOnlySpan<byte> part = stored[..partBytes];
            stored = stored[partBytes..];
            if (!whole || !TryAmendPart(part, baseHeader, dataLength, line, output))
            {
                output.Write(part);
            }
        }
    }

    // One part's data joined, the line added (before a signature, which is made again), fragmented again.
    private bool TryAmendPart(ReadOnlySpan<byte> part, ReadOnlySpan<byte> baseHeader, int dataLength, ReadOnlySpan<byte> line, ArrayBufferWriter<byte> output)
    {
        if (dataLength + line.Length > MaxRecordData)
        {
            return false;
        }

        byte[] data = ArrayPool<byte>.Shared.Rent(dataLength + line.Length + 256);
        try
        {
            int n = 0;
            for (ReadOnlySpan<byte> rest = part; !rest.IsEmpty;)
            {
                ReadOnlySpan<byte> datagram = NextDatagram(rest);
                ReadOnlySpan<byte> chunk = datagram[(datagram.IndexOf((byte)';') + 1)..];
                chunk.CopyTo(data.AsSpan(n));
                n += chunk.Length;
                rest = rest[(2 + datagram.Length)..];
            }

            // The release prefix is the first field of a header with five (kernel: "release,prio,seq,ts,flag").
            int fields = baseHeader.Count((byte)',') + 1;
            int releaseLength = fields == 5 ? baseHeader.IndexOf((byte)',') + 1 : 0;
            ReadOnlySpan<byte> release = baseHeader[..releaseLength];
            ReadOnlySpan<byte> header = baseHeader[releaseLength..];

            int signature = SignatureLineStart(data.AsSpan(0, n));
            _count = 0;
            _outLength = 0;
            if (signature < 0)
            {
                line.CopyTo(data.AsSpan(n));
                WriteDatagrams(release, header, data.AsSpan(0, n + line.Length));
            }
            else
            {
                // " ncsig=v1:KEYID:RUN:MAC\n": signed again with the same key id and run, when this formatter has that key.
                ReadOnlySpan<byte> signatureLine = data.AsSpan(signature, n - signature);
                int prefixLength = signatureLine.Length - RecordSigningKey.MacTextLength - 1;
                if (_signingKey is null || prefixLength <= 0 || !NamesKey(signatureLine[..prefixLength], _signingKey.KeyId))
                {
                    return false;
                }

                byte[] prefix = signatureLine[..prefixLength].ToArray();
                line.CopyTo(data.AsSpan(signature));
                int length = signature + line.Length;
                length += Sign(release, header, data, length, prefix);
                WriteDatagrams(release, header, data.AsSpan(0, length));
            }

            foreach (ReadOnlySpan<byte> datagram in new FormattedRecord(_out.AsSpan(0, _outLength), _ends.AsSpan(0, _count), 1))
            {
                Emit(output, datagram);
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    // The start of the data's last line when it is a signature line (" ncsig=...\n"), else -1.
    private static int SignatureLineStart(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data[^1] != (byte)'\n')
        {
            return -1;
        }

        int start = data[..^1].LastIndexOf((byte)'\n') + 1;
        return data[start..].StartsWith(" ncsig=v1:"u8) ? start : -1;
    }

    // Whether a signature line's prefix (" ncsig=v1:KEYID:RUN:") names this key's id.
    private static bool NamesKey(ReadOnlySpan<byte> prefix, string keyId)
    {
        ReadOnlySpan<byte> start = " ncsig=v1:"u8;
        if (!prefix.StartsWith(start) || prefix.Length < start.Length + keyId.Length + 2)
        {
            return false;
        }

        ReadOnlySpan<byte> id = prefix.Slice(start.Length, keyId.Length);
        for (int i = 0; i < keyId.Length; i++)
        {
            if (id[i] != keyId[i])
            {
                return false;
            }
        }

        return prefix[start.Length + keyId.Length] == (byte)':' && prefix[^1] == (byte)':';
    }

    // An extended datagram's header: where ';' is, where the header ends without ",ncfrag=...",
    // and the fragment's offset and the record's total (-1 when not a fragment).
    private static bool TryParseHeader(ReadOnlySpan<byte> datagram, out int semicolon, out int baseEnd, out int offset, out int total)
    {
        offset = -1;
        total = -1;
        semicolon = datagram.IndexOf((byte)';');
        baseEnd = semicolon;
        if (semicolon <= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> header = datagram[..semicolon];
        int fragment = header.IndexOf(",ncfrag="u8);
        if (fragment >= 0)
        {
            ReadOnlySpan<byte> numbers = header[(fragment + ",ncfrag=".Length)..];
            int slash = numbers.IndexOf((byte)'/');
            if (slash <= 0 || !Utf8Parser.TryParse(numbers[..slash], out offset, out int used) || used != slash
                || !Utf8Parser.TryParse(numbers[(slash + 1)..], out total, out used) || used != numbers.Length - slash - 1
                || offset < 0 || total <= 0 || offset >= total)
            {
                return false;
            }

            baseEnd = fragment;
        }

        int fields = header[..baseEnd].Count((byte)',') + 1;
        return fields is 4 or 5;
    }

    private static ReadOnlySpan<byte> NextDatagram(ReadOnlySpan<byte> stored) =>
        stored.Slice(2, BinaryPrimitives.ReadUInt16BigEndian(stored));

    private static void Emit(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> datagram)
    {
        Span<byte> to = output.GetSpan(2 + datagram.Length);
        BinaryPrimitives.WriteUInt16BigEndian(to, (ushort)datagram.Length);
        datagram.CopyTo(to[2..]);
        output.Advance(2 + datagram.Length);
    }
}
