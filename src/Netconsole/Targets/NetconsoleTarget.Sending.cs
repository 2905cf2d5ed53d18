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
    private RecordFormatter _formatter;

    // Null without pacing. A sender waiting for a token waits on the gate, which every new status pulses.
    private DatagramPacer? _pacer;
    private readonly object _pacingGate = new();
    private ulong _sequenceSkew;
    private long _recordsSent;
    private long _datagramsSent;
    private long _transmitErrors;
    private long _resumes;
    private long _nextHopChecks;
    private long _nextHopChanges;

    /// <summary>
    /// Sends a record to this target only (<see cref="TargetManager.Send"/> offers it to every
    /// target): formats it and injects its frames when the target is enabled, else drops it.
    /// Counted exactly once, in <see cref="TargetStatistics.RecordsSent"/> or under its drop
    /// reason. Never throws; safe to call from several threads.
    /// </summary>
    /// <remarks>
    /// With pacing (<see cref="NetconsoleTargetOptions.MaxDatagramsPerSecond"/>) the calling
    /// thread waits, over the limit, until the record may go; the wait ends early, and the record
    /// is dropped, when the target stops being enabled.
    /// </remarks>
    /// <param name="record">The record (see <see cref="TargetManager.Send"/> for its sequence numbers).</param>
    /// <param name="dropReason">When the record was dropped: why. Otherwise <see cref="TargetDropReason.Disabled"/>, meaning nothing.</param>
    /// <returns>True when every datagram of the record went out; false when it was dropped.</returns>
    public bool TrySend(in NetconsoleRecord record, out TargetDropReason dropReason)
    {
        TargetDropReason? drop;
        try
        {
            drop = SendCore(record);
        }
        catch (Exception)
        {
            drop = TargetDropReason.InternalError;
        }

        if (drop is { } reason)
        {
            Interlocked.Increment(ref _dropped[(int)reason]);
            dropReason = reason;
            return false;
        }

        Interlocked.Increment(ref _recordsSent);
        dropReason = default;
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

    // Null when every datagram of the record went out; otherwise why it was dropped.
    private TargetDropReason? SendCore(in NetconsoleRecord record)
    {
        // Disabled and deactivated targets drop without touching the lock.
        if (Status.Session is null)
        {
            return NotSending(Status);
        }

        // The wait comes before the lock: configuration changes (which take it) never wait behind pacing.
        DatagramPacer? pacer = Volatile.Read(ref _pacer);
        if (pacer is not null && !WaitForPacing(pacer))
        {
            return NotSending(Status);
        }

        lock (_sendLock)
        {
            // Read again under the lock: once the manager has published a new status and taken
            // the lock (WaitForSendsInFlight), no send uses the old transport any more.
            TargetStatus status = Status;
            if (status.Session is not { } session)
            {
                return NotSending(status);
            }

            // The watcher said the device lost its carrier: the driver would take the frames and
            // drop them, and they would count as sent. (A device set down refuses them itself.)
            // Not formatted, so the record leaves a gap in the sequence, as a lost one should.
            if (session.Link == TargetSession.LinkNoCarrier)
            {
                return TargetDropReason.NoCarrier;
            }

            // A record split into a continued group takes several sequence numbers: later records
            // move up by the extra numbers used so far, so this target's stream stays contiguous.
            FormattedRecord formatted = _sequenceSkew == 0
                ? _formatter.Format(record)
                : _formatter.Format(record with { Sequence = record.Sequence + _sequenceSkew });
            _sequenceSkew += (ulong)(formatted.SequenceNumbersUsed - 1);
            pacer?.Charge(formatted.Count - 1);

            // One template for the whole record: a re-check swaps it only under this lock.
            FrameBuilder frames = session.Frames;
            foreach (ReadOnlySpan<byte> datagram in formatted)
            {
                int length = frames.Build(datagram, _frame);
                try
                {
                    session.Transport.Send(_frame.AsSpan(0, length));
                }
                catch (FrameTransportException e)
                {
                    Interlocked.Increment(ref _transmitErrors);
                    if (!e.IsPermanent)
                    {
                        // A link that is down says nothing about the neighbour; its coming up does (the worker re-checks then).
                        QueueRecheckIfDue(session, failed: e.Error != FrameTransportError.DeviceDown);
                    }

                    return Failed(session, e);
                }

                Interlocked.Increment(ref _datagramsSent);
            }

            QueueRecheckIfDue(session, failed: false);
            _formatter.ReleaseLargeBuffers(); // what an outlier (a 10 MiB message) grew goes back now: a few length checks
            return null;
        }
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
