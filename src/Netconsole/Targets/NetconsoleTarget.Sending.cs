using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

public sealed partial class NetconsoleTarget
{
    // The formatter is not thread-safe and the frame buffer is shared: both belong to whoever
    // holds _sendLock. Nothing slow ever runs under it (no device open, no configuration lock).
    private readonly Lock _sendLock = new();
    private readonly byte[] _frame = new byte[RecordFormatter.MaxDatagramPayload + 64];
    private readonly long[] _dropped = new long[Enum.GetValues<TargetDropReason>().Length];
    private readonly Action<TargetDropReason> _countDrop;
    private RecordFormatter _formatter;

    // Null without pacing. A sender waiting for a token waits on the gate, which every new status pulses.
    private DatagramPacer? _pacer;
    private readonly object _pacingGate = new();
    private ulong _sequenceSkew;
    private NetconsoleRecord _shifted;
    private long _recordsSent;
    private long _datagramsSent;
    private long _transmitErrors;
    private long _resumes;
    private long _nextHopChecks;
    private long _nextHopChanges;

    /// <summary>The extra sequence numbers this target's continued groups have used so far (the process-death watchdog continues from it).</summary>
    internal ulong SequenceSkew
    {
        get => Volatile.Read(ref _sequenceSkew);
        set
        {
            lock (_sendLock)
            {
                _sequenceSkew = value;
            }
        }
    }

    /// <summary>
    /// Sends a record to this target only (<see cref="TargetManager.Send"/> offers it to every
    /// target): formats it and injects its frames when the target is enabled; keeps it in the
    /// replay buffer while the target cannot send (see <see cref="NetconsoleTargetOptions.ReplayBufferMaxRecords"/>);
    /// else drops it. Counted exactly once: in <see cref="TargetStatistics.RecordsSent"/>, or
    /// under its drop reason, or (buffered) later as replayed or dropped. Never throws; safe to
    /// call from several threads.
    /// </summary>
    /// <remarks>
    /// With pacing (<see cref="NetconsoleTargetOptions.MaxDatagramsPerSecond"/>) the calling
    /// thread waits, over the limit, until the record may go; the wait ends early when the target
    /// stops being enabled (the record is then buffered or dropped, as above). While buffered
    /// records wait to be replayed, a new record queues behind them, so it never overtakes them.
    /// </remarks>
    /// <param name="record">The record (see <see cref="TargetManager.Send"/> for its sequence numbers).</param>
    /// <param name="dropReason">When the record was dropped: why. Otherwise <see cref="TargetDropReason.Disabled"/>, meaning nothing.</param>
    /// <returns>
    /// True when every datagram of the record went out, or the record waits in the replay buffer
    /// (it goes out, in order, when the target can send again, or is counted dropped if a limit
    /// of the buffer is reached first); false when it was dropped.
    /// </returns>
    public bool TrySend(in NetconsoleRecord record, out TargetDropReason dropReason)
    {
        SendOutcome outcome;
        TargetDropReason reason;
        try
        {
            outcome = SendCore(record, out reason);
        }
        catch (Exception)
        {
            outcome = SendOutcome.Dropped;
            reason = TargetDropReason.InternalError;
        }

        dropReason = outcome == SendOutcome.Dropped ? reason : default;
        return Count(outcome, reason);
    }

    // A record's outcome, counted once: true when it was sent or waits in the replay buffer.
    private bool Count(SendOutcome outcome, TargetDropReason reason)
    {
        switch (outcome)
        {
            case SendOutcome.Dropped:
                Interlocked.Increment(ref _dropped[(int)reason]);
                return false;
            case SendOutcome.Sent:
                Interlocked.Increment(ref _recordsSent);
                break;
        }

        return true;
    }

    // Waits until the pacer lets a record go: true then; false when the target stopped being enabled meanwhile.
    private bool WaitForPacing(DatagramPacer pacer)
    {
        while (true)
        {
            TimeSpan wait = pacer.TryTake();
            if (wait == TimeSpan.Zero)
            {
                return true;
            }

            if (Status.Session is null)
            {
                return false;
            }

            _manager.WaitForPacing(this, wait);
        }
    }

    /// <summary>Waits <paramref name="wait"/> (rounded up to a millisecond), or less when a new status is published.</summary>
    internal void WaitForPacingOrStatusChange(TimeSpan wait)
    {
        int milliseconds = (int)Math.Min(int.MaxValue, Math.Ceiling(wait.TotalMilliseconds));
        lock (_pacingGate)
        {
            // Checked under the gate: a status published after this check pulses it once this thread waits.
            if (Status.Session is not null)
            {
                Monitor.Wait(_pacingGate, milliseconds);
            }
        }
    }

    /// <summary>
    /// Waits until no send is using the session published before this call: after it, a send
    /// sees the newly published status, so the old transport may be disposed.
    /// </summary>
    internal void WaitForSendsInFlight()
    {
        lock (_sendLock)
        {
        }
    }

    private static TargetDropReason NotSending(TargetStatus status) => status.State switch
    {
        TargetState.Deactivated when status.Cause == TargetStateCause.NoCarrier => TargetDropReason.NoCarrier,
        TargetState.Deactivated => TargetDropReason.Deactivated,
        _ => TargetDropReason.Disabled,
    };

    private enum SendOutcome
    {
        Sent,
        Buffered,
        Dropped,
        Staged, // in a run's frames, not yet injected: counted when the run is (NetconsoleTarget.Batch.cs)
    }

    // Sent when every datagram of the record went out; Buffered when it waits in the replay buffer; otherwise Dropped, and why.
    private SendOutcome SendCore(in NetconsoleRecord record, out TargetDropReason reason)
    {
        // Disabled targets, and deactivated ones without a replay buffer, drop without touching the lock.
        TargetStatus status = Status;
        if (status.Session is null)
        {
            if (status.State != TargetState.Deactivated || Volatile.Read(ref _replay) is null)
            {
                reason = NotSending(status);
                return SendOutcome.Dropped;
            }
        }
        else if (Volatile.Read(ref _buffered) == 0)
        {
            // The wait comes before the lock: configuration changes (which take it) never wait behind pacing.
            // A target that stopped being enabled meanwhile is looked at again under the lock.
            DatagramPacer? pacer = Volatile.Read(ref _pacer);
            if (pacer is not null)
            {
                WaitForPacing(pacer);
            }
        }

        lock (_sendLock)
        {
            // Read again under the lock: once the manager has published a new status and taken
            // the lock (WaitForSendsInFlight), no send uses the old transport any more.
            status = Status;
            ReplayBuffer? replay = _replay;
            if (status.Session is not { } session)
            {
                if (status.State == TargetState.Deactivated && replay is not null)
                {
                    Keep(replay, Format(record), 0);
                    reason = default;
                    return SendOutcome.Buffered;
                }

                reason = NotSending(status);
                return SendOutcome.Dropped;
            }

            // Records are waiting to be replayed (this one must not overtake them), or the watcher
            // said the device lost its carrier: the driver would take the frames and drop them,
            // and they would count as sent. (A device set down refuses them itself.)
            if (replay is not null && (replay.Count > 0 || session.Link == TargetSession.LinkNoCarrier))
            {
                Keep(replay, Format(record), 0);
                StartReplayLocked();
                reason = default;
                return SendOutcome.Buffered;
            }

            // Without a replay buffer, not formatted: the record leaves a gap in the sequence, as a lost one should.
            if (session.Link == TargetSession.LinkNoCarrier)
            {
                reason = TargetDropReason.NoCarrier;
                return SendOutcome.Dropped;
            }

            FormattedRecord formatted = Format(record);
            Volatile.Read(ref _pacer)?.Charge(formatted.Count - 1);
            return SendFormattedLocked(session, replay, formatted, out reason);
        }
    }

    // Send lock held, the target enabled and nothing waiting to be replayed: injects the record's
    // frames one by one. Sent when all went out; on a transmit error the datagrams not sent wait
    // in the replay buffer (Buffered) when it has one and the error is worth replaying, else the
    // record is Dropped, and why.
    private SendOutcome SendFormattedLocked(TargetSession session, ReplayBuffer? replay, FormattedRecord formatted, out TargetDropReason reason)
    {
        // One template for the whole record: a re-check swaps it only under the send lock.
        FrameBuilder frames = session.Frames;
        int sent = 0;
        foreach (ReadOnlySpan<byte> datagram in formatted)
        {
            int length = frames.Build(datagram, _frame);
            try
            {
                session.Transport.Send(_frame.AsSpan(0, length));
            }
            catch (FrameTransportException e)
            {
                return TransmitFailed(session, replay, formatted, sent, e, out reason);
            }

            sent++;
            Interlocked.Increment(ref _datagramsSent);
        }

        QueueRecheckIfDue(session, failed: false);
        _formatter.ReleaseLargeBuffers(); // what an outlier (a 10 MiB message) grew goes back now: a few length checks
        reason = default;
        return SendOutcome.Sent;
    }

    // Send lock held: datagram `sent` of the record could not be sent (the ones before it went
    // out). Counted; the rest waits in the replay buffer when the error is worth replaying.
    private SendOutcome TransmitFailed(TargetSession session, ReplayBuffer? replay, FormattedRecord formatted, int sent, FrameTransportException e, out TargetDropReason reason)
    {
        Interlocked.Increment(ref _transmitErrors);
        if (!e.IsPermanent)
        {
            // A link that is down says nothing about the neighbour; its coming up does (the worker re-checks then).
            QueueRecheckIfDue(session, failed: e.Error != FrameTransportError.DeviceDown);
        }

        reason = Failed(session, e);
        if (replay is not null && WorthReplaying(e.Error))
        {
            // The datagrams not sent wait, and go out after the ones that did.
            Keep(replay, formatted, sent);
            if (!e.IsPermanent)
            {
                StartReplayLocked();
            }

            reason = default;
            return SendOutcome.Buffered;
        }

        return SendOutcome.Dropped;
    }

    // Send lock held. A record split into a continued group takes several sequence numbers: later
    // records move up by the extra numbers used so far, so this target's stream stays contiguous.
    private FormattedRecord Format(in NetconsoleRecord record)
    {
        if (_sequenceSkew == 0)
        {
            FormattedRecord formatted = _formatter.Format(record);
            _sequenceSkew += (ulong)(formatted.SequenceNumbersUsed - 1);
            return formatted;
        }

        // A field, not a local: the datagrams returned may (by the signature) refer to it.
        _shifted = record with { Sequence = record.Sequence + _sequenceSkew };
        FormattedRecord shifted = _formatter.Format(_shifted);
        _shifted = default;
        _sequenceSkew += (ulong)(shifted.SequenceNumbersUsed - 1);
        return shifted;
    }

    // Send lock held. A resolved next hop is re-checked by the manager's worker (never here) when
    // its last check is old or a transmit error suggests the neighbour changed.
    private void QueueRecheckIfDue(TargetSession session, bool failed)
    {
        if (session.Recheck is not null && session.RecheckDue(_manager.Timestamp(), failed) is { } why)
        {
            _manager.QueueNextHopRecheck(this, session, why);
        }
    }

    private TargetDropReason Failed(TargetSession session, FrameTransportException e)
    {
        if (!e.IsPermanent)
        {
            return e.Error == FrameTransportError.DeviceDown ? TargetDropReason.DeviceDown : TargetDropReason.TransmitError;
        }

        // The transport is dead for good: the manager's worker deactivates the target (the send
        // path never takes the configuration lock), and the next matching device event resumes it.
        if (session.TryMarkDeactivationQueued())
        {
            _manager.QueueTransportLost(this, session, e);
        }

        return e.Error == FrameTransportError.DeviceGone ? TargetDropReason.DeviceGone : TargetDropReason.TransmitError;
    }
}
