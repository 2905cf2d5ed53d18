namespace Netconsole.Targets;

/// <summary>Why a target dropped a record instead of sending it.</summary>
public enum TargetDropReason
{
    /// <summary>The target was disabled (by the operator, or never enabled).</summary>
    Disabled = 0,

    /// <summary>The target was deactivated: its device is gone or could not be set up.</summary>
    Deactivated = 1,

    /// <summary>The device was down: the transport refused the frame with <see cref="Transport.FrameTransportError.DeviceDown"/>. The target stays enabled.</summary>
    DeviceDown = 2,

    /// <summary>The device went away under the transport (<see cref="Transport.FrameTransportError.DeviceGone"/>); the target is deactivated.</summary>
    DeviceGone = 3,

    /// <summary>The transport refused the frame for another reason (frame too long, transport closed, ...).</summary>
    TransmitError = 4,

    /// <summary>An unexpected failure while formatting or sending (a bug: the record was dropped rather than thrown into the application).</summary>
    InternalError = 5,

    /// <summary>
    /// The device had no carrier (a cable pulled, a switch port or a veth peer down): the driver
    /// would have dropped the frames, so they were not sent. Counted from the moment the device
    /// watcher reports the carrier lost, while the target is enabled and then deactivated for it
    /// (<see cref="TargetStateCause.NoCarrier"/>), until the carrier returns and the target resumes.
    /// </summary>
    NoCarrier = 6,

    /// <summary>
    /// The record waited in the target's replay buffer and was the oldest when the buffer reached
    /// <see cref="NetconsoleTargetOptions.ReplayBufferMaxRecords"/> or
    /// <see cref="NetconsoleTargetOptions.ReplayBufferMaxBytes"/> (or it alone is larger than the
    /// byte limit): dropped to make room, oldest first. The receiver sees a gap.
    /// </summary>
    ReplayBufferFull = 7,

    /// <summary>
    /// The record waited in the target's replay buffer longer than
    /// <see cref="NetconsoleTargetOptions.ReplayBufferMaxAge"/>: dropped rather than replayed. The receiver sees a gap.
    /// </summary>
    ReplayExpired = 8,
}
