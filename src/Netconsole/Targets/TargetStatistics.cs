using System.Globalization;

namespace Netconsole.Targets;

/// <summary>
/// A snapshot of one target's counters, taken by <see cref="NetconsoleTarget.GetStatistics"/>.
/// </summary>
/// <remarks>
/// Every record offered to a target (every <see cref="TargetManager.Send"/> while the target
/// belongs to the manager) is counted exactly once: in <see cref="RecordsSent"/>,
/// <see cref="RecordsReplayed"/>, <see cref="RecordsDropped"/> or, while it waits in the replay
/// buffer, <see cref="RecordsBuffered"/> (offered = sent + replayed + dropped + buffered). Records
/// an earlier process left in the spool (<see cref="RecordsFromSpool"/>) are counted the same way
/// once taken: offered + from spool = sent + replayed + dropped + buffered.
/// Counters taken while sends or a replay are in flight may be a record apart from each other;
/// taken when none is they add up exactly.
/// </remarks>
public sealed class TargetStatistics
{
    internal TargetStatistics(
        TargetState state,
        long recordsSent,
        long datagramsSent,
        IReadOnlyDictionary<TargetDropReason, long> droppedByReason,
        long transmitErrors,
        long resumes,
        DateTimeOffset lastStateChange,
        long nextHopChecks,
        long nextHopChanges,
        long recordsReplayed,
        long recordsBuffered,
        long recordsFromSpool,
        long spoolErrors)
    {
        RecordsFromSpool = recordsFromSpool;
        SpoolErrors = spoolErrors;
        RecordsReplayed = recordsReplayed;
        RecordsBuffered = recordsBuffered;
        NextHopChecks = nextHopChecks;
        NextHopChanges = nextHopChanges;
        State = state;
        RecordsSent = recordsSent;
        DatagramsSent = datagramsSent;
        RecordsDroppedByReason = droppedByReason;
        TransmitErrors = transmitErrors;
        Resumes = resumes;
        LastStateChange = lastStateChange;
        long dropped = 0;
        foreach (long count in droppedByReason.Values)
        {
            dropped += count;
        }

        RecordsDropped = dropped;
    }

    /// <summary>The target's state when the snapshot was taken.</summary>
    public TargetState State { get; }

    /// <summary>Records whose datagrams all went out.</summary>
    public long RecordsSent { get; }

    /// <summary>
    /// Records that waited in the replay buffer while the target could not send, and went out
    /// whole when it could again (not counted in <see cref="RecordsSent"/>).
    /// </summary>
    public long RecordsReplayed { get; }

    /// <summary>Records waiting in the replay buffer now (see <see cref="NetconsoleTargetOptions.ReplayBufferMaxRecords"/>).</summary>
    public long RecordsBuffered { get; }

    /// <summary>
    /// Records taken from the spool files of earlier processes of this target (see
    /// <see cref="NetconsoleTargetOptions.SpoolDirectory"/>); they go out first, counted then as
    /// replayed or dropped like any buffered record.
    /// </summary>
    public long RecordsFromSpool { get; }

    /// <summary>
    /// Spool failures: a spool file that could not be created, written or read (the records stay
    /// in memory, unprotected against a crash, until the buffer is next empty), and records found
    /// torn in an earlier process's spool (a kill during their write) and left out.
    /// </summary>
    public long SpoolErrors { get; }

    /// <summary>Datagrams (frames) handed to the transport successfully, replayed ones and those of records that were dropped part way included.</summary>
    public long DatagramsSent { get; }

    /// <summary>Records not sent, or not sent whole: the sum of <see cref="RecordsDroppedByReason"/>.</summary>
    public long RecordsDropped { get; }

    /// <summary>Dropped records by reason; every <see cref="TargetDropReason"/> is present, with 0 when none were dropped for it.</summary>
    public IReadOnlyDictionary<TargetDropReason, long> RecordsDroppedByReason { get; }

    /// <summary>Frames the transport refused (any <see cref="Transport.FrameTransportException"/>), as the kernel's <c>transmit_errors</c>.</summary>
    public long TransmitErrors { get; }

    /// <summary>How many times the target resumed by itself after being deactivated.</summary>
    public long Resumes { get; }

    /// <summary>When the target last changed state (or was added).</summary>
    public DateTimeOffset LastStateChange { get; }

    /// <summary>
    /// Re-checks of a resolved next-hop MAC (after <see cref="TargetManagerOptions.NextHopRecheckInterval"/>,
    /// a transmit error, or the device coming up again); never for a target that gives its remote MAC.
    /// </summary>
    public long NextHopChecks { get; }

    /// <summary>Re-checks that found another MAC and swapped the frame template (see <see cref="NetconsoleTarget.DestinationMac"/>).</summary>
    public long NextHopChanges { get; }

    /// <summary>The counters on one line, for a log or a console; drop reasons with a count of 0 are left out.</summary>
    /// <returns>For example <c>Enabled, sent 120 records (130 datagrams), replayed 40, buffered 0, dropped 3 (DeviceDown 3), transmit errors 3, resumes 1, next-hop checks 2 (1 changed)</c>.</returns>
    public override string ToString()
    {
        string reasons = string.Join(", ", RecordsDroppedByReason.Where(r => r.Value > 0).OrderBy(r => r.Key).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key} {r.Value}")));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{State}, sent {RecordsSent} records ({DatagramsSent} datagrams), replayed {RecordsReplayed}, buffered {RecordsBuffered}, {(RecordsFromSpool + SpoolErrors > 0 ? $"from spool {RecordsFromSpool}, spool errors {SpoolErrors}, " : "")}dropped {RecordsDropped}{(reasons.Length > 0 ? $" ({reasons})" : "")}, transmit errors {TransmitErrors}, resumes {Resumes}, next-hop checks {NextHopChecks} ({NextHopChanges} changed)");
    }
}
