using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Targets;

public sealed partial class NetconsoleTarget
{
    /// <summary>The name of a target's replay thread, which runs while buffered records wait and the target can send.</summary>
    internal const string ReplayThreadName = "netconsole-replay";

    /// <summary>The replay's pace when the target sets none (<see cref="NetconsoleTargetOptions.MaxDatagramsPerSecond"/>): datagrams a second.</summary>
    /// <remarks>
    /// 10,000 buffered records go out in about 2 s; in bursts of <see cref="NetconsoleTargetOptions.DefaultMaxDatagramBurst"/>,
    /// which fit in a receiver's default socket buffer (see there).
    /// </remarks>
    internal const int DefaultReplayRate = 5_000;

    /// <summary>How long a replay that the transport refused (device down, a transmit error) waits before it tries again, unless woken earlier by a device event.</summary>
    internal static readonly TimeSpan ReplayRetryInterval = TimeSpan.FromSeconds(1);

    // Under _sendLock: the buffer (null when the options turn it off), and whether a replay thread
    // runs (set and cleared only under the lock, so a kick is never lost).
    private ReplayBuffer? _replay;
    private bool _replayRunning;
    private readonly DatagramPacer _replayPacer;
    private long _buffered; // _replay.Count, readable without the lock
    private long _recordsReplayed;
    private long _recordsFromSpool;
    private long _spoolErrors; // earlier processes' spools: unreadable files, torn records
    private long _retiredSpoolErrors; // those of a buffer turned off
    private bool _spoolsAdopted;

    /// <summary>Whether a replay thread runs for this target now (tests: it ends with the target's session).</summary>
    internal bool IsReplayRunning
    {
        get
        {
            lock (_sendLock)
            {
                return _replayRunning;
            }
        }
    }

    // Send lock held: the buffer the options ask for (kept, with new limits, across a reconfiguration).
    private void ConfigureReplayLocked(NetconsoleTargetOptions options)
    {
        if (!options.ReplayBufferEnabled)
        {
            _replay?.Clear(_countDrop, TargetDropReason.ReplayBufferFull);
            _retiredSpoolErrors += _replay?.SpoolErrors ?? 0;
            Volatile.Write(ref _replay, null);
        }
        else
        {
            long ageTicks = (long)Math.Min(options.ReplayBufferMaxAge.TotalSeconds * _manager.Clock.TimestampFrequency, long.MaxValue / 2);
            if (_replay is { } replay)
            {
                replay.Limit(options.ReplayBufferMaxRecords, options.ReplayBufferMaxBytes, ageTicks, _countDrop);
            }
            else
            {
                Volatile.Write(ref _replay, new ReplayBuffer(options.ReplayBufferMaxRecords, options.ReplayBufferMaxBytes, ageTicks));
            }

            _replay!.SetSpool(options.SpoolDirectory, Name, options.Extended);
        }

        Volatile.Write(ref _buffered, _replay?.Count ?? 0);
    }

    /// <summary>
    /// Whether a record the transport refused waits in the replay buffer: when the device is down
    /// or gone (or the transport closed under the send: the target resumes on a new one), or for
    /// a failure that may pass (<see cref="FrameTransportError.Other"/>: no buffer space, ...).
    /// A frame too long, or a device that is not Ethernet, fails the same way every time: dropped.
    /// </summary>
    internal static bool WorthReplaying(FrameTransportError error) =>
        error is FrameTransportError.DeviceDown or FrameTransportError.DeviceGone or FrameTransportError.Closed or FrameTransportError.Other;

    // Send lock held: the record's datagrams from the given one on wait in the buffer.
    private void Keep(ReplayBuffer replay, FormattedRecord formatted, int fromDatagram)
    {
        if (!replay.Add(formatted, fromDatagram, _manager.Timestamp(), _countDrop))
        {
            _countDrop(TargetDropReason.ReplayBufferFull);
        }

        Volatile.Write(ref _buffered, replay.Count);
        _formatter.ReleaseLargeBuffers(); // copied: what an outlier grew goes back, as after a send
    }

    /// <summary>The target can send (again), or its device came up: buffered records go out (configuration lock or the worker).</summary>
    internal void KickReplay()
    {
        lock (_sendLock)
        {
            StartReplayLocked();
        }

        // A replay waiting to try again tries now.
        lock (_pacingGate)
        {
            Monitor.PulseAll(_pacingGate);
        }
    }

    /// <summary>
    /// The target starts sending, or waits for its device (configuration lock): once in its life,
    /// the records that earlier processes of this target left in the spool directory (processes
    /// that are gone: their files are unlocked) go to the front of the replay buffer, marked with
    /// their pid, and their files are deleted.
    /// </summary>
    internal void AdoptSpools()
    {
        lock (_sendLock)
        {
            if (_spoolsAdopted || _replay is not { } replay || Volatile.Read(ref _options).SpoolDirectory is not { } directory)
            {
                return;
            }

            _spoolsAdopted = true;
            long errors = 0;
            var amended = new System.Buffers.ArrayBufferWriter<byte>();
            foreach (SpoolFile.Adopted orphan in SpoolFile.FindOrphans(directory, Name, ref errors))
            {
                errors += orphan.TornRecords;
                foreach (byte[] record in orphan.Records)
                {
                    amended.Clear();
                    _formatter.AmendSpooled(record, orphan.Extended, orphan.Pid, amended);
                    Interlocked.Increment(ref _recordsFromSpool);
                    if (!replay.AddStored(amended.WrittenSpan, _manager.Timestamp(), _countDrop))
                    {
                        _countDrop(TargetDropReason.ReplayBufferFull);
                    }
                }

                // In this process's buffer (and its spool) now: the earlier file goes.
                orphan.Delete();
            }

            Interlocked.Add(ref _spoolErrors, errors);
            Volatile.Write(ref _buffered, replay.Count);
        }
    }

    /// <summary>The manager is disposed: what waits stays in the spool file for the next process (what is in memory is then dropped as disabled).</summary>
    internal void DetachSpool()
    {
        lock (_sendLock)
        {
            _replay?.DetachSpool();
        }
    }

    /// <summary>The operator's disable (or a removal, or disposal): buffered records are dropped, counted as <see cref="TargetDropReason.Disabled"/>.</summary>
    internal void DiscardReplay()
    {
        lock (_sendLock)
        {
            if (_replay is { Count: > 0 } replay)
            {
                replay.Clear(_countDrop, TargetDropReason.Disabled);
                Volatile.Write(ref _buffered, 0);
            }
        }
    }

    // Send lock held.
    private void StartReplayLocked()
    {
        // Not while the replay could only stop at once: no carrier (its return kicks the replay),
        // a dead transport (the resume on a new one does).
        if (_replayRunning || _replay is not { Count: > 0 } || Status.Session is not { } session
            || session.Link == TargetSession.LinkNoCarrier || session.DeactivationQueued)
        {
            return;
        }

        _replayRunning = true;
        new Thread(RunReplay) { IsBackground = true, Name = ReplayThreadName }.Start();
    }

    // The replay thread: the oldest record first, one at a time under the send lock (new records
    // queue behind, never overtake), paced outside it. Ends when the buffer is empty or the target
    // cannot send (its resume starts another); a refused frame is tried again after
    // ReplayRetryInterval, or as soon as a device event or a new status wakes it.
    private void RunReplay()
    {
        try
        {
            while (true)
            {
                DatagramPacer pacer = Volatile.Read(ref _pacer) ?? _replayPacer;
                WaitForPacing(pacer);
                bool retryLater;
                lock (_sendLock)
                {
                    if (!ReplayOneLocked(pacer, out retryLater))
                    {
                        _replayRunning = false;
                        return;
                    }
                }

                if (retryLater)
                {
                    WaitForPacingOrStatusChange(ReplayRetryInterval);
                }
            }
        }
        catch (Exception)
        {
            // Never seen: the buffer stays as it is; the next record or resume starts a replay again.
            lock (_sendLock)
            {
                _replayRunning = false;
            }
        }
    }

    // Send lock held. Sends the oldest buffered record; false when the replay ends here.
    private bool ReplayOneLocked(DatagramPacer pacer, out bool retryLater)
    {
        retryLater = false;
        if (_replay is not { } replay || Status.Session is not { } session || session.Link == TargetSession.LinkNoCarrier)
        {
            return false;
        }

        replay.DropExpired(_manager.Timestamp(), _countDrop);
        Volatile.Write(ref _buffered, replay.Count);
        if (replay.Count == 0)
        {
            return false;
        }

        FrameBuilder frames = session.Frames;
        ReplayBuffer.DatagramReader reader = replay.PeekOldest();
        int index = 0;
        int skip = replay.HeadDatagramsSent;
        while (reader.TryNext(out ReadOnlySpan<byte> datagram))
        {
            if (index++ < skip)
            {
                continue;
            }

            if (index > skip + 1)
            {
                pacer.Charge(1);
            }

            int length = frames.Build(datagram, _frame);
            try
            {
                session.Transport.Send(_frame.AsSpan(0, length));
            }
            catch (FrameTransportException e)
            {
                Interlocked.Increment(ref _transmitErrors);
                if (!WorthReplaying(e.Error))
                {
                    // It would fail the same way every time: dropped, as a direct send drops it.
                    replay.RemoveOldest();
                    Volatile.Write(ref _buffered, replay.Count);
                    _countDrop(TargetDropReason.TransmitError);
                    return replay.Count > 0;
                }

                if (!e.IsPermanent)
                {
                    QueueRecheckIfDue(session, failed: e.Error != FrameTransportError.DeviceDown);
                    retryLater = true;
                    return true;
                }

                Failed(session, e);
                return false;
            }

            replay.HeadDatagramsSent = index;
            Interlocked.Increment(ref _datagramsSent);
        }

        replay.RemoveOldest();
        Volatile.Write(ref _buffered, replay.Count);
        Interlocked.Increment(ref _recordsReplayed);
        QueueRecheckIfDue(session, failed: false);
        if (replay.Count == 0)
        {
            return false;
        }

        return true;
    }
}
