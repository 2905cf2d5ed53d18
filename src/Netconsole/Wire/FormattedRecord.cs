namespace Netconsole.Wire;

/// <summary>
/// The datagram payloads of one formatted record, in sending order. A view of the
/// <see cref="RecordFormatter"/>'s buffers: valid until its next <see cref="RecordFormatter.Format"/>.
/// </summary>
public readonly ref struct FormattedRecord
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly ReadOnlySpan<int> _ends;

    internal FormattedRecord(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> ends, int sequenceNumbersUsed)
    {
        _bytes = bytes;
        _ends = ends;
        SequenceNumbersUsed = sequenceNumbersUsed;
    }

    /// <summary>The number of datagrams.</summary>
    public int Count => _ends.Length;

    /// <summary>
    /// How many sequence numbers the record took: 1, or the number of records of the continued
    /// group it was split into (they use <see cref="NetconsoleRecord.Sequence"/> onwards).
    /// </summary>
    public int SequenceNumbersUsed { get; }

    /// <summary>The total payload bytes of all datagrams.</summary>
    public int TotalBytes => _bytes.Length;

    /// <summary>The payload of datagram <paramref name="index"/>.</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            int start = index == 0 ? 0 : _ends[index - 1];
            return _bytes[start.._ends[index]];
        }
    }

    /// <summary>Enumerates the datagram payloads.</summary>
    /// <returns>The enumerator.</returns>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>Enumerates the datagram payloads of a <see cref="FormattedRecord"/>.</summary>
    public ref struct Enumerator
    {
        private readonly FormattedRecord _record;
        private int _index;

        internal Enumerator(FormattedRecord record)
        {
            _record = record;
            _index = -1;
        }

        /// <summary>The current datagram payload.</summary>
        public readonly ReadOnlySpan<byte> Current => _record[_index];

        /// <summary>Moves to the next datagram.</summary>
        /// <returns><see langword="false"/> after the last one.</returns>
        public bool MoveNext() => ++_index < _record.Count;
    }
}
