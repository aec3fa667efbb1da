/// Where to start reading a partition.
public enum OffsetSpec: Hashable, Sendable {
    /// The first offset still in the log.
    case earliest
    /// The next offset to be written: only new records.
    case latest
    /// An absolute offset.
    case offset(Int64)
    /// The first offset whose timestamp is at or after this time (ms since the epoch); `latest`
    /// when there is none.
    case timestamp(Int64)
    /// `n` records before the end (kcat's `-o -N`), clamped to the earliest offset.
    case tail(Int64)
    /// The group's committed offset; for a partition without one, the consumer's
    /// `autoOffsetReset`.
    case stored
}
