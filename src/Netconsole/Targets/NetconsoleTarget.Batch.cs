using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

public sealed partial class NetconsoleTarget
{
    /// <summary>The most frames one <see cref="IFrameTransport.SendBatch"/> call of a run hands over (the packet-socket transport's sendmmsg(2) batch).</summary>
    internal const int FramesPerBatch = 64;

    private FrameRun? _run; // under the send lock; made by the first run

    /// <summary>
    /// <see cref="TargetManager.SendBatch"/>: sends the records as <see cref="TrySend"/> sends each,
    /// in order and counted the same way, but injects the frames of records sent on the spot back
    /// to back, at most <see cref="FramesPerBatch"/> per <see cref="IFrameTransport.SendBatch"/>
    /// call. Adds 1 to <c>sentBy[i]</c> when record <c>i</c> was sent or waits in the replay buffer.
    /// Never throws.
    /// </summary>
    /// <remarks>
    /// The send lock is held for the whole run (at most <see cref="FramesPerBatch"/> records from
    /// the manager). A record that cannot be sent on the spot (the target deactivated, records
    /// waiting to be replayed, no carrier) lets the frames before it go first, then takes the
    /// one-record path, so the target's order on the wire is the order of the records. With pacing
    /// every record takes the one-record path: its wait must not hold the send lock.
    /// </remarks>
    internal void SendRun(ReadOnlySpan<NetconsoleRecord> records, Span<int> sentBy)
    {
        if (Volatile.Read(ref _pacer) is not null || Status.Session is null)
        {
            for (int i = 0; i < records.Length; i++)
            {
                if (TrySend(records[i], out _))
                {
                    sentBy[i]++;
                }
            }

            return;
        }

        lock (_sendLock)
        {
            FrameRun run = _run ??= new FrameRun();
            try
            {
                for (int i = 0; i < records.Length; i++)
                {
                    SendOutcome outcome;
                    TargetDropReason reason;
                    try
                    {
                        outcome = StageLocked(run, records[i], i, sentBy, out reason);
                    }
                    catch (Exception)
                    {
                        outcome = SendOutcome.Dropped;
                        reason = TargetDropReason.InternalError;
                    }

                    if (outcome != SendOutcome.Staged && Count(outcome, reason))
                    {
                        sentBy[i]++;
                    }
                }
            }
            finally
            {
                InjectRunLocked(run, sentBy);
            }
        }
    }

    // Send lock held: formats the record and adds its frames to the run (Staged), or, when it
    // cannot go on the spot, injects the run and sends the record on the one-record path.
    private SendOutcome StageLocked(FrameRun run, in NetconsoleRecord record, int index, Span<int> sentBy, out TargetDropReason reason)
    {
        TargetStatus status = Status;
        ReplayBuffer? replay = _replay;
        if (status.Session is not { } session
            || session.Link == TargetSession.LinkNoCarrier
            || replay is { Count: > 0 }
            || Volatile.Read(ref _pacer) is not null)
        {
            // The one-record path buffers or drops it (or, with pacing set meanwhile, waits: the
            // send lock is then held during the wait, once, until the next run).
            InjectRunLocked(run, sentBy);
            return SendCore(record, out reason);
        }

        if (run.Session is not null && !ReferenceEquals(run.Session, session))
        {
            // A new session was published during the run: the frames built for the old one go
            // first, through its transport (the manager closes it only once this run lets go of the lock).
            InjectRunLocked(run, sentBy);
        }

        FormattedRecord formatted = Format(record);
        if (formatted.Count > FramesPerBatch - run.FrameCount)
        {
            InjectRunLocked(run, sentBy);
            if (replay is { Count: > 0 })
            {
                // The run failed into the replay buffer: this record waits behind it.
                Keep(replay, formatted, 0);
                reason = default;
                return SendOutcome.Buffered;
            }

            if (formatted.Count > FramesPerBatch)
            {
                // A record of more datagrams than a batch holds (a long continued group) goes frame by frame.
                return SendFormattedLocked(session, replay, formatted, out reason);
            }
        }

        run.Add(session, index, formatted);
        _formatter.ReleaseLargeBuffers();
        reason = default;
        return SendOutcome.Staged;
    }

    // Send lock held: injects the run's frames and counts each record of it (sent, buffered or
    // dropped, as the one-record path would). A frame that fails settles its record as a failed
    // send does (the rest of it waits in the replay buffer, or it is dropped); after a record
    // that went to the replay buffer, the records behind it wait there too, in order; otherwise
    // the frames after it are tried.
    private void InjectRunLocked(FrameRun run, Span<int> sentBy)
    {
        if (run.RecordCount == 0)
        {
            return;
        }

        TargetSession session = run.Session!;
        ReplayBuffer? replay = _replay;
        int frame = 0; // the next frame to inject
        int record = 0; // the next record to settle
        bool failed = false;
        bool intoReplay = false;
        try
        {
            while (record < run.RecordCount)
            {
                if (intoReplay)
                {
                    Keep(replay!, run.Datagrams(record), 0);
                    Settle(run, record++, SendOutcome.Buffered, default, sentBy);
                    continue;
                }

                FrameTransportException? error = null;
                int sent;
                try
                {
                    sent = session.Transport.SendBatch(run.FramesFrom(frame), run.LengthsFrom(frame));
                }
                catch (FrameTransportException e)
                {
                    sent = 0;
                    error = e;
                }

                frame += sent;
                Interlocked.Add(ref _datagramsSent, sent);
                while (record < run.RecordCount && run.EndOf(record) <= frame)
                {
                    Settle(run, record++, SendOutcome.Sent, default, sentBy);
                }

                if (error is null)
                {
                    if (sent == 0 && record < run.RecordCount)
                    {
                        // A transport that sends nothing and says nothing: the record is lost, not retried forever.
                        Settle(run, record, SendOutcome.Dropped, TargetDropReason.TransmitError, sentBy);
                        frame = run.EndOf(record++);
                    }

                    continue; // a short batch: the failed frame goes first in the next, and throws its reason if it fails again
                }

                failed = true;
                SendOutcome outcome = TransmitFailed(session, replay, run.Datagrams(record), frame - run.StartOf(record), error, out TargetDropReason reason);
                Settle(run, record, outcome, reason, sentBy);
                intoReplay = outcome == SendOutcome.Buffered;
                frame = run.EndOf(record++);
            }
        }
        catch (Exception)
        {
            // Not a transport's failure (a bug): whatever is not settled is counted as lost.
            while (record < run.RecordCount)
            {
                Settle(run, record++, SendOutcome.Dropped, TargetDropReason.InternalError, sentBy);
            }
        }
        finally
        {
            run.Clear();
        }

        if (!failed)
        {
            QueueRecheckIfDue(session, failed: false);
        }
    }

    private void Settle(FrameRun run, int record, SendOutcome outcome, TargetDropReason reason, Span<int> sentBy)
    {
        if (Count(outcome, reason))
        {
            sentBy[run.IndexOf(record)]++;
        }
    }

    /// <summary>
    /// The frames of a run of records, back to back as <see cref="IFrameTransport.SendBatch"/>
    /// takes them, and which frames are whose. Under the target's send lock only.
    /// </summary>
    private sealed class FrameRun
    {
        private const int FrameRoom = RecordFormatter.MaxDatagramPayload + 64; // as the one-record frame buffer

        private readonly byte[] _frames = new byte[FramesPerBatch * FrameRoom];
        private readonly int[] _lengths = new int[FramesPerBatch];
        private readonly int[] _offsets = new int[FramesPerBatch + 1]; // frame i starts at _offsets[i]
        private readonly int[] _indexes = new int[FramesPerBatch]; // record r is records[_indexes[r]] of the caller's run
        private readonly int[] _ends = new int[FramesPerBatch]; // record r's frames end before frame _ends[r]
        private int _headerLength;

        /// <summary>The session the frames were built for (null when the run is empty).</summary>
        public TargetSession? Session { get; private set; }

        public int FrameCount { get; private set; }

        public int RecordCount { get; private set; }

        public int IndexOf(int record) => _indexes[record];

        public int StartOf(int record) => record == 0 ? 0 : _ends[record - 1];

        public int EndOf(int record) => _ends[record];

        public ReadOnlySpan<byte> FramesFrom(int frame) => _frames.AsSpan(_offsets[frame], _offsets[FrameCount] - _offsets[frame]);

        public ReadOnlySpan<int> LengthsFrom(int frame) => _lengths.AsSpan(frame, FrameCount - frame);

        /// <summary>Builds the record's frames after the run's (the caller made sure they fit).</summary>
        public void Add(TargetSession session, int index, FormattedRecord formatted)
        {
            FrameBuilder builder = session.Frames;
            foreach (ReadOnlySpan<byte> datagram in formatted)
            {
                int at = _offsets[FrameCount];
                int length = builder.Build(datagram, _frames.AsSpan(at, FrameRoom));
                _lengths[FrameCount] = length;
                _offsets[++FrameCount] = at + length;
            }

            Session = session;
            _headerLength = builder.HeaderLength;
            _indexes[RecordCount] = index;
            _ends[RecordCount++] = FrameCount;
        }

        /// <summary>A record's datagrams, taken back out of its frames (for the replay buffer: a failure path only, so it may allocate).</summary>
        public FormattedRecord Datagrams(int record)
        {
            int first = StartOf(record);
            int count = EndOf(record) - first;
            var ends = new int[count];
            int total = 0;
            for (int i = 0; i < count; i++)
            {
                total += _lengths[first + i] - _headerLength;
                ends[i] = total;
            }

            var bytes = new byte[total];
            int at = 0;
            for (int i = 0; i < count; i++)
            {
                int payload = _lengths[first + i] - _headerLength;
                _frames.AsSpan(_offsets[first + i] + _headerLength, payload).CopyTo(bytes.AsSpan(at));
                at += payload;
            }

            return new FormattedRecord(bytes, ends, 1);
        }

        public void Clear()
        {
            FrameCount = 0;
            RecordCount = 0;
            Session = null;
        }
    }
}
