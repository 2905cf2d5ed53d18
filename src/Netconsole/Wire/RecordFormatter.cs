using System.Globalization;
using System.Text;

namespace Netconsole.Wire;

/// <summary>
/// Turns records into netconsole datagram payloads for one target: the basic or extended
/// format, escaping, dictionary, userdata, sysdata (with the target's own msgid counter),
/// release prefix and <c>ncfrag</c> fragmentation, byte for byte as the kernel sends them.
/// </summary>
/// <remarks>
/// <para>
/// Beyond the kernel: a record whose data (body, dictionary, userdata and sysdata) exceeds
/// <see cref="MaxRecordData"/> bytes, the most netconsd reassembles, is sent as a continued
/// group instead of being truncated: several records with consecutive sequence numbers, flag
/// <c>c</c> on the first and <c>+</c> on the rest, each fragmented as usual. The text comes
/// first, split between escapes; dictionary lines follow whole. <see cref="FormattedRecord.SequenceNumbersUsed"/>
/// tells the caller how many sequence numbers the record took.
/// </para>
/// <para>
/// The formatter owns its buffers and reuses them, so formatting allocates nothing once the
/// buffers have grown to the largest record seen. It is not thread-safe: use one per target
/// per sending thread. A <see cref="FormattedRecord"/> is valid until the next call to
/// <see cref="Format"/>.
/// </para>
/// </remarks>
public sealed partial class RecordFormatter
{
    /// <summary>
    /// The largest datagram payload, 1000 bytes: the kernel's MAX_PRINT_CHUNK, because netconsd reads
    /// each datagram into a 1024-byte buffer without detecting truncation.
    /// </summary>
    public const int MaxDatagramPayload = 1000;

    /// <summary>The largest record data (body, dictionary, userdata, sysdata) sent as one record, 8191 bytes (netconsd's reassembly limit).</summary>
    public const int MaxRecordData = 8191;

    /// <summary>Task names longer than this many bytes are cut, so sysdata stays small (the kernel's are at most 15).</summary>
    internal const int MaxTaskNameBytes = 64;

    // Room the msgid line may take at its widest, so a continued group's split does not depend on the counter's value.
    private const int MaxMessageIdLineLength = 17; // " msgid=4294967295\n"

    // The widest printk time: "[" + 14 digits of seconds (ulong.MaxValue microseconds) + "." + 6 digits + "] ".
    private const int MaxPrintkTimeLength = 24;

    // The least text room a continued-group part gets, so a split always makes progress.
    private const int MinimumPartBudget = 256;

    private static readonly string ProcessName = GetProcessName();

    private readonly bool _extended;
    private readonly bool _printkTime;
    private readonly int _facility;
    private readonly byte[] _releasePrefix;
    private readonly byte[] _userdata;
    private readonly byte[] _releaseLine;
    private readonly SysdataFields _sysdata;
    private readonly RecordSigningKey? _signingKey;
    private readonly System.Security.Cryptography.IncrementalHash? _hmac; // the key's, reused record after record
    private readonly byte[] _signaturePrefix = []; // " ncsig=v1:KEYID:RUN:", this formatter's run
    private uint _messageId;

    // Reused buffers: the escaped content (body, '\n', dictionary lines), one part's data,
    // the datagrams back to back, and their end offsets.
    private byte[] _content = new byte[2048];
    private int[] _lineEnds = new int[16];
    private byte[] _part = new byte[MaxRecordData + 1024];
    private byte[]? _signed; // what a signature covers, laid out contiguously (signing formatters only)
    private byte[] _utf8 = new byte[256];
    private byte[] _keyUtf8 = new byte[64];
    private char[] _chars = new char[128];

    // A formattable value that needs more than this many bytes is turned into text through ToString.
    private const int MaxFormattedValue = 1 << 20;
    private byte[] _out = new byte[4096];
    private int[] _ends = new int[16];
    private int _count;
    private int _outLength;

    /// <summary>Creates a formatter that writes records in <paramref name="format"/>.</summary>
    /// <param name="format">The format (a target's: <c>NetconsoleTargetOptions.ToRecordFormat()</c>).</param>
    /// <exception cref="ArgumentException">The format asks for the release prefix without the extended format, or for the printk time with it.</exception>
    public RecordFormatter(RecordFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (format.PrependRelease && !format.Extended)
        {
            throw new ArgumentException("The release prefix (PrependRelease) needs the extended format (Extended).", nameof(format));
        }

        if (format.SigningKey is not null && !format.Extended)
        {
            throw new ArgumentException("Signing (SigningKey) needs the extended format (Extended): the signature is a dictionary line.", nameof(format));
        }

        if (format.PrintkTime && format.Extended)
        {
            throw new ArgumentException("The printk time (PrintkTime) is for the basic format: the extended format (Extended) carries the timestamp in its header.", nameof(format));
        }

        _extended = format.Extended;
        _printkTime = format.PrintkTime;
        _facility = format.Facility;
        _sysdata = format.Sysdata;
        _signingKey = format.SigningKey;
        _hmac = _signingKey?.CreateHmac();
        _signaturePrefix = _signingKey?.NewLinePrefix() ?? [];
        string release = format.Release;
        _releasePrefix = _extended && format.PrependRelease ? Encoding.UTF8.GetBytes(release + ",") : [];
        _releaseLine = Encoding.UTF8.GetBytes(" release=" + release + "\n");

        // Userdata goes out as configured, like the kernel's (its values cannot hold control characters).
        var userdata = new StringBuilder();
        foreach (KeyValuePair<string, string> pair in format.Userdata)
        {
            if (pair.Value.Length > 0)
            {
                userdata.Append(' ').Append(pair.Key).Append('=').Append(pair.Value).Append('\n');
            }
        }

        _userdata = Encoding.UTF8.GetBytes(userdata.ToString());
    }

    /// <summary>True when this formatter writes the extended format.</summary>
    public bool Extended => _extended;

    /// <summary>The msgid of the last record formatted (0 before the first; the first record gets 1).</summary>
    public uint LastMessageId => _messageId;

    /// <summary>Sets the msgid counter (tests of the wrap-around).</summary>
    internal uint LastMessageIdForTests
    {
        get => _messageId;
        init => _messageId = value;
    }

    /// <summary>
    /// Formats <paramref name="record"/> into datagram payloads of at most
    /// <see cref="MaxDatagramPayload"/> bytes. Never throws for any record content.
    /// </summary>
    /// <param name="record">The record.</param>
    /// <returns>The datagrams, valid until the next call.</returns>
    public FormattedRecord Format(in NetconsoleRecord record)
    {
        _count = 0;
        _outLength = 0;
        int parts = _extended ? FormatExtended(record) : FormatBasic(record);
        return new FormattedRecord(_out.AsSpan(0, _outLength), _ends.AsSpan(0, _count), parts);
    }

    private int FormatBasic(in NetconsoleRecord record)
    {
        // As the kernel's console path: the text and its newline (each line after its printk time,
        // when asked), cut into consecutive chunks.
        if (_printkTime)
        {
            WriteBasicDatagrams(WritePrintkLines(record));
            return 1;
        }

        ReadOnlySpan<byte> text = record.Text.Span;
        int total = text.Length + 1;
        for (int off = 0; off < total; off += MaxDatagramPayload)
        {
            int len = Math.Min(MaxDatagramPayload, total - off);
            Span<byte> d = Reserve(len);
            int fromText = Math.Max(0, Math.Min(len, text.Length - off));
            text.Slice(off, fromText).CopyTo(d);
            if (fromText < len)
            {
                d[len - 1] = (byte)'\n';
            }

            Commit(len);
        }

        return 1;
    }

    // Every line of the text, each after the printk time and ending in '\n', into _content.
    private ReadOnlySpan<byte> WritePrintkLines(in NetconsoleRecord record)
    {
        Span<byte> prefix = stackalloc byte[MaxPrintkTimeLength];
        prefix = prefix[..WritePrintkTime(record.TimestampMicroseconds, prefix)];
        ReadOnlySpan<byte> text = record.Text.Span;
        EnsureContent(text.Length + ((text.Count((byte)'\n') + 1) * (prefix.Length + 1)));
        Span<byte> content = _content;
        int w = 0;
        while (true)
        {
            prefix.CopyTo(content[w..]);
            w += prefix.Length;
            int end = text.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? text : text[..end];
            line.CopyTo(content[w..]);
            w += line.Length;
            content[w++] = (byte)'\n';
            if (end < 0)
            {
                return content[..w];
            }

            text = text[(end + 1)..];
        }
    }

    /// <summary>
    /// Writes the kernel's printk time of <paramref name="microseconds"/>: <c>[</c>, the seconds
    /// right-aligned in 5 characters, <c>.</c>, 6 digits of microseconds, <c>] </c>.
    /// </summary>
    private static int WritePrintkTime(ulong microseconds, Span<byte> destination)
    {
        Span<byte> seconds = stackalloc byte[20];
        (microseconds / 1_000_000).TryFormat(seconds, out int digits, default, CultureInfo.InvariantCulture);
        int w = 0;
        destination[w++] = (byte)'[';
        for (int pad = digits; pad < 5; pad++)
        {
            destination[w++] = (byte)' ';
        }

        seconds[..digits].CopyTo(destination[w..]);
        w += digits;
        destination[w++] = (byte)'.';
        (microseconds % 1_000_000).TryFormat(destination[w..], out int fraction, "D6", CultureInfo.InvariantCulture);
        w += fraction;
        destination[w++] = (byte)']';
        destination[w++] = (byte)' ';
        return w;
    }

    // A basic record's bytes, already ending in its newline, in consecutive datagrams of at most 1000 bytes.
    private void WriteBasicDatagrams(ReadOnlySpan<byte> bytes)
    {
        for (int off = 0; off < bytes.Length; off += MaxDatagramPayload)
        {
            int len = Math.Min(MaxDatagramPayload, bytes.Length - off);
            bytes.Slice(off, len).CopyTo(Reserve(len));
            Commit(len);
        }
    }

    private int FormatExtended(in NetconsoleRecord record)
    {
        int prio = ((record.Facility ?? _facility) << 3) | record.Level;
        int extras = _userdata.Length + SysdataLength(record, MaxMessageIdLineLength) + SignatureLineLength;

        // Room for one part's text and dictionary; -1 for the '\n' that ends the part's text.
        // Validated options leave at least ~1.6 KiB (userdata is capped at 6144 bytes); the floor
        // only guarantees progress (and whole escapes) whatever the extras are.
        int budget = Math.Max(MinimumPartBudget, MaxRecordData - extras - 1);
        int lineCount = WriteContent(record, budget, out int bodyEnd, out int contentLength);

        if (contentLength + ExactSysdataDelta() + extras <= MaxRecordData)
        {
            FormatPart(record, prio, 0, FlagOf(record.Continuation), 0, bodyEnd, bodyEnd + 1, contentLength);
            return 1;
        }

        // A continued group: the text first, cut between escapes, then whole dictionary lines.
        int parts = 0;
        int pos = 0;
        int line = 0;
        int lineStart = bodyEnd + 1;
        do
        {
            int cut = pos < bodyEnd ? SafeCut(_content, pos, Math.Min(bodyEnd, pos + budget)) : pos;
            int room = budget - (cut - pos);
            int linesFrom = lineStart;
            if (cut == bodyEnd)
            {
                while (line < lineCount && _lineEnds[line] - lineStart <= room)
                {
                    room -= _lineEnds[line] - lineStart;
                    lineStart = _lineEnds[line];
                    line++;
                }
            }

            byte flag = parts == 0 ? FirstFlag(record) : (byte)'+';
            FormatPart(record, prio, parts, flag, pos, cut, linesFrom, lineStart);
            parts++;
            pos = cut;
        }
        while (pos < bodyEnd || line < lineCount);

        return parts;
    }

    /// <summary>The number of dictionary lines so long that no record could hold them, sent cut short since this formatter was created.</summary>
    public long TruncatedDictionaryLines { get; private set; }

    /// <summary>
    /// The number of <see cref="NetconsoleRecord.Values"/> whose text could not be made (their
    /// <c>ToString</c> or <c>TryFormat</c> threw) since this formatter was created. Each went out
    /// as <c>[not rendered: TYPE threw EXCEPTION]</c>, and its record went out.
    /// </summary>
    public long UnrenderableValues { get; private set; }

    private static byte FirstFlag(in NetconsoleRecord record) =>
        record.Continuation == RecordContinuation.Continuation ? (byte)'+' : (byte)'c';

    private static byte FlagOf(RecordContinuation continuation) => continuation switch
    {
        RecordContinuation.First => (byte)'c',
        RecordContinuation.Continuation => (byte)'+',
        _ => (byte)'-',
    };

    // Never cut inside a \xNN escape: in escaped text every '\' starts one.
    private static int SafeCut(byte[] buffer, int start, int end)
    {
        for (int i = Math.Max(start, end - 3); i < end; i++)
        {
            if (buffer[i] == (byte)'\\')
            {
                return i > start ? i : Math.Min(start + 4, end);
            }
        }

        return end;
    }

    // Writes the escaped body, '\n' and the dictionary lines into _content; returns the line count.
    // A dictionary line longer than maxLine could not fit in any record: it is cut and counted.
    private int WriteContent(in NetconsoleRecord record, int maxLine, out int bodyEnd, out int contentLength)
    {
        ReadOnlySpan<byte> text = record.Text.Span;
        int w = 0;
        EnsureContent(w + Escaping.EscapedLength(text) + 1);
        w += Escaping.Escape(text, _content.AsSpan(w));
        bodyEnd = w;
        _content[w++] = (byte)'\n';

        int lines = 0;
        IReadOnlyList<KeyValuePair<string, string>>? dictionary = record.Dictionary;
        for (int i = 0; dictionary is not null && i < dictionary.Count; i++)
        {
            KeyValuePair<string, string> pair = dictionary[i];
            if (!string.IsNullOrEmpty(pair.Value))
            {
                WriteLine(pair.Key, ToUtf8(pair.Value), maxLine, ref w, ref lines);
            }
        }

        IReadOnlyList<KeyValuePair<string, object?>>? values = record.Values;
        for (int i = 0; values is not null && i < values.Count; i++)
        {
            KeyValuePair<string, object?> pair = values[i];
            ReadOnlySpan<byte> value;
            try
            {
                value = ValueToUtf8(pair.Value);
            }
#pragma warning disable CA1031 // any exception from the application's ToString or TryFormat: the record still goes out
            catch (Exception e)
#pragma warning restore CA1031
            {
                UnrenderableValues++;
                value = ToUtf8(string.Concat("[not rendered: ", pair.Value!.GetType().Name, " threw ", e.GetType().Name, "]"));
            }

            if (!value.IsEmpty)
            {
                WriteLine(pair.Key, value, maxLine, ref w, ref lines);
            }
        }

        contentLength = w;
        return lines;
    }

    // One " KEY=value\n" line into _content (an empty value is no line at all, as the kernel's).
    // The value may live in _utf8: the key is converted into _keyUtf8 so it does not overwrite it.
    private void WriteLine(string? keyText, ReadOnlySpan<byte> value, int maxLine, ref int w, ref int lines)
    {
        int lineStart = w;
        string k = keyText ?? string.Empty;
        int keyMax = Encoding.UTF8.GetMaxByteCount(k.Length);
        if (_keyUtf8.Length < keyMax)
        {
            Array.Resize(ref _keyUtf8, Math.Max(keyMax, _keyUtf8.Length * 2));
        }

        ReadOnlySpan<byte> key = _keyUtf8.AsSpan(0, Encoding.UTF8.GetBytes(k, _keyUtf8));
        EnsureContent(w + Escaping.EscapedLength(key, escapeEquals: true) + 2);
        _content[w++] = (byte)' ';
        w += Escaping.Escape(key, _content.AsSpan(w), escapeEquals: true);
        _content[w++] = (byte)'=';
        EnsureContent(w + Escaping.EscapedLength(value) + 1);
        w += Escaping.Escape(value, _content.AsSpan(w));
        if (w + 1 - lineStart > maxLine)
        {
            TruncatedDictionaryLines++;
            int keyEnd = _content.AsSpan(lineStart, w - lineStart).IndexOf((byte)'=') + lineStart + 1;
            if (keyEnd + 1 > lineStart + maxLine - 1)
            {
                w = lineStart; // not even the key fits
                return;
            }

            w = SafeCut(_content, keyEnd, lineStart + maxLine - 1);
        }

        _content[w++] = (byte)'\n';
        if (lines == _lineEnds.Length)
        {
            Array.Resize(ref _lineEnds, lines * 2);
        }

        _lineEnds[lines++] = w;
    }

    // A value's text as UTF-8 in _utf8: formattable values are written without a string.
    private ReadOnlySpan<byte> ValueToUtf8(object? value)
    {
        switch (value)
        {
            case null:
                return default;
            case string s:
                return ToUtf8(s);
            case IUtf8SpanFormattable utf8:
                while (true)
                {
                    if (utf8.TryFormat(_utf8, out int written, default, CultureInfo.InvariantCulture))
                    {
                        return _utf8.AsSpan(0, written);
                    }

                    if (_utf8.Length >= MaxFormattedValue)
                    {
                        return ToUtf8(value.ToString() ?? string.Empty);
                    }

                    Array.Resize(ref _utf8, _utf8.Length * 2);
                }

            case ISpanFormattable chars:
                while (true)
                {
                    if (chars.TryFormat(_chars, out int written, default, CultureInfo.InvariantCulture))
                    {
                        return ToUtf8(_chars.AsSpan(0, written));
                    }

                    if (_chars.Length >= MaxFormattedValue)
                    {
                        return ToUtf8(chars.ToString(null, CultureInfo.InvariantCulture));
                    }

                    Array.Resize(ref _chars, _chars.Length * 2);
                }

            default:
                return ToUtf8(value.ToString() ?? string.Empty);
        }
    }

    private ReadOnlySpan<byte> ToUtf8(ReadOnlySpan<char> s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (_utf8.Length < max)
        {
            Array.Resize(ref _utf8, Math.Max(max, _utf8.Length * 2));
        }

        int length = Encoding.UTF8.GetBytes(s, _utf8);
        return _utf8.AsSpan(0, length);
    }

    private ReadOnlySpan<byte> ToUtf8(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (_utf8.Length < max)
        {
            Array.Resize(ref _utf8, Math.Max(max, _utf8.Length * 2));
        }

        int length = Encoding.UTF8.GetBytes(s, _utf8);
        return _utf8.AsSpan(0, length);
    }

    /// <summary>
    /// Gives back the buffers an outlier record grew (a 10 MiB message grows several of them to
    /// its size): each above <see cref="KeptBufferBytes"/> goes back to its first size. Called by
    /// the target once the record is sent; a <see cref="FormattedRecord"/> from before must not be
    /// used after it. A record that large grows them again: it is rare and costly anyway.
    /// </summary>
    internal void ReleaseLargeBuffers()
    {
        static T[] Small<T>(T[] buffer, int size) => buffer.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() > KeptBufferBytes ? new T[size] : buffer;
        _content = Small(_content, 2048);
        _lineEnds = Small(_lineEnds, 16);
        _utf8 = Small(_utf8, 256);
        _keyUtf8 = Small(_keyUtf8, 64);
        _chars = Small(_chars, 128);
        _out = Small(_out, 4096);
        _ends = Small(_ends, 16);
        if (_signed is { Length: > MaxRecordData + 1024 })
        {
            _signed = null;
        }
    }

    /// <summary>The largest buffer an idle formatter keeps (<see cref="ReleaseLargeBuffers"/>): 64 KiB.</summary>
    internal const int KeptBufferBytes = 64 * 1024;

    private void EnsureContent(int size)
    {
        if (_content.Length < size)
        {
            Array.Resize(ref _content, Math.Max(size, _content.Length * 2));
        }
    }

    // Sysdata length with the msgid line counted as `messageIdLine` bytes.
    private int SysdataLength(in NetconsoleRecord record, int messageIdLine)
    {
        int length = 0;
        if ((_sysdata & SysdataFields.Cpu) != 0)
        {
            length += " cpu=\n".Length + DigitCount((uint)CpuOf(record));
        }

        if ((_sysdata & SysdataFields.TaskName) != 0)
        {
            length += " taskname=\n".Length + TaskNameEscapedLength(record);
        }

        if ((_sysdata & SysdataFields.Release) != 0)
        {
            length += _releaseLine.Length;
        }

        if ((_sysdata & SysdataFields.MessageId) != 0)
        {
            length += messageIdLine;
        }

        return length;
    }

    // How much shorter the real msgid line of the next record is than the widest one.
    private int ExactSysdataDelta()
    {
        return (_sysdata & SysdataFields.MessageId) != 0
            ? " msgid=\n".Length + DigitCount(unchecked(_messageId + 1)) - MaxMessageIdLineLength
            : 0;
    }

    private int TaskNameEscapedLength(in NetconsoleRecord record)
    {
        ReadOnlySpan<byte> name = TaskNameBytes(record);
        return Escaping.EscapedLength(name);
    }

    private ReadOnlySpan<byte> TaskNameBytes(in NetconsoleRecord record)
    {
        ReadOnlySpan<byte> bytes = ToUtf8(record.TaskName ?? Thread.CurrentThread.Name ?? ProcessName);
        if (bytes.Length > MaxTaskNameBytes)
        {
            int cut = MaxTaskNameBytes;
            while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
            {
                cut--; // keep whole UTF-8 characters
            }

            bytes = bytes[..cut];
        }

        return bytes;
    }

    private static int CpuOf(in NetconsoleRecord record) => record.Cpu is int cpu && cpu >= 0 ? cpu : Thread.GetCurrentProcessorId();

    private static int DigitCount(ulong value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    // One record on the wire: header, then data = text slice + '\n' + dictionary lines + userdata + sysdata.
    private void FormatPart(in NetconsoleRecord record, int prio, int index, byte flag, int bodyStart, int bodyEnd, int linesStart, int linesEnd)
    {
        Span<byte> data = _part;
        int n = 0;
        _content.AsSpan(bodyStart, bodyEnd - bodyStart).CopyTo(data);
        n += bodyEnd - bodyStart;
        data[n++] = (byte)'\n';
        _content.AsSpan(linesStart, linesEnd - linesStart).CopyTo(data[n..]);
        n += linesEnd - linesStart;
        _userdata.CopyTo(data[n..]);
        n += _userdata.Length;
        n += WriteSysdata(record, data[n..]);

        Span<byte> header = stackalloc byte[64];
        int h = 0;
        h += Write(header[h..], (ulong)prio);
        header[h++] = (byte)',';
        h += Write(header[h..], unchecked(record.Sequence + (ulong)index));
        header[h++] = (byte)',';
        h += Write(header[h..], record.TimestampMicroseconds);
        header[h++] = (byte)',';
        header[h++] = flag;
        if (_signingKey is not null)
        {
            n += Sign(header[..h], data, n);
        }

        WriteDatagrams(_releasePrefix, header[..h], data[..n]);
    }

    // The signature line's length: its prefix, the MAC and the newline (0 unsigned).
    private int SignatureLineLength => _signingKey is null ? 0 : _signaturePrefix.Length + RecordSigningKey.MacTextLength + 1;

    // Appends the signature line after the part's data: the MAC of the release prefix, the header
    // (as it is before fragmentation adds ncfrag), ';', the data and the line up to its MAC.
    private int Sign(ReadOnlySpan<byte> header, Span<byte> data, int length) => Sign(_releasePrefix, header, data, length, _signaturePrefix);

    // The same, with the release prefix and the line's prefix (key id and run) given.
    private int Sign(ReadOnlySpan<byte> release, ReadOnlySpan<byte> header, Span<byte> data, int length, ReadOnlySpan<byte> prefix)
    {
        int total = release.Length + header.Length + 1 + length + prefix.Length;
        if (_signed is null || _signed.Length < total)
        {
            _signed = new byte[Math.Max(total, MaxRecordData + 1024)];
        }

        Span<byte> signed = _signed;
        int w = Literal(release, signed);
        w += Literal(header, signed[w..]);
        signed[w++] = (byte)';';
        data[..length].CopyTo(signed[w..]);
        w += length;
        w += Literal(prefix, signed[w..]);

        Span<byte> line = data[length..];
        prefix.CopyTo(line);
        RecordSigningKey.WriteMac(_hmac!, signed[..w], line[prefix.Length..]);
        line[prefix.Length + RecordSigningKey.MacTextLength] = (byte)'\n';
        return prefix.Length + RecordSigningKey.MacTextLength + 1;
    }

    private int WriteSysdata(in NetconsoleRecord record, Span<byte> destination)
    {
        int w = 0;
        if ((_sysdata & SysdataFields.Cpu) != 0)
        {
            w += Literal(" cpu="u8, destination[w..]);
            w += Write(destination[w..], (ulong)CpuOf(record));
            destination[w++] = (byte)'\n';
        }

        if ((_sysdata & SysdataFields.TaskName) != 0)
        {
            w += Literal(" taskname="u8, destination[w..]);
            w += Escaping.Escape(TaskNameBytes(record), destination[w..]);
            destination[w++] = (byte)'\n';
        }

        if ((_sysdata & SysdataFields.Release) != 0)
        {
            w += Literal(_releaseLine, destination[w..]);
        }

        // The kernel counts every record it sends, so parts of a continued group get their own ids.
        uint id = unchecked(++_messageId);
        if ((_sysdata & SysdataFields.MessageId) != 0)
        {
            w += Literal(" msgid="u8, destination[w..]);
            w += Write(destination[w..], id);
            destination[w++] = (byte)'\n';
        }

        return w;
    }

    private void WriteDatagrams(ReadOnlySpan<byte> release, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        if (release.Length + header.Length + 1 + data.Length <= MaxDatagramPayload)
        {
            int len = release.Length + header.Length + 1 + data.Length;
            Span<byte> d = Reserve(len);
            int w = Literal(release, d);
            w += Literal(header, d[w..]);
            d[w++] = (byte)';';
            data.CopyTo(d[w..]);
            Commit(len);
            return;
        }

        // Fragments: each datagram filled to exactly MaxDatagramPayload bytes, the last one shorter.
        int total = data.Length;
        for (int off = 0; off < total;)
        {
            Span<byte> d = Reserve(MaxDatagramPayload);
            int w = Literal(release, d);
            w += Literal(header, d[w..]);
            w += Literal(",ncfrag="u8, d[w..]);
            w += Write(d[w..], (ulong)off);
            d[w++] = (byte)'/';
            w += Write(d[w..], (ulong)total);
            d[w++] = (byte)';';
            int chunk = Math.Min(MaxDatagramPayload - w, total - off);
            data.Slice(off, chunk).CopyTo(d[w..]);
            off += chunk;
            Commit(w + chunk);
        }
    }

    private static int Literal(ReadOnlySpan<byte> literal, Span<byte> destination)
    {
        literal.CopyTo(destination);
        return literal.Length;
    }

    private static int Write(Span<byte> destination, ulong value)
    {
        value.TryFormat(destination, out int written, default, CultureInfo.InvariantCulture);
        return written;
    }

    private Span<byte> Reserve(int length)
    {
        if (_out.Length < _outLength + length)
        {
            Array.Resize(ref _out, Math.Max(_outLength + length, _out.Length * 2));
        }

        return _out.AsSpan(_outLength, length);
    }

    private void Commit(int length)
    {
        _outLength += length;
        if (_count == _ends.Length)
        {
            Array.Resize(ref _ends, _count * 2);
        }

        _ends[_count++] = _outLength;
    }

    private static string GetProcessName()
    {
        try
        {
            return Path.GetFileNameWithoutExtension(Environment.ProcessPath) ?? "dotnet";
        }
        catch (IOException)
        {
            return "dotnet";
        }
    }
}
