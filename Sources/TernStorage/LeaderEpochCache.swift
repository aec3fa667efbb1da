/// A partition's leader epochs, each with the first offset written in it: Kafka's
/// `LeaderEpochFileCache` without the file (pure; `PartitionLog` persists it as
/// `leader-epoch-checkpoint`). Answers OffsetForLeaderEpoch and Fetch's divergence check, and gives
/// ListOffsets the epoch of an offset.
///
/// Invariant: epochs and start offsets both strictly increase along `entries`.
public struct LeaderEpochCache: Hashable, Sendable {
    public struct Entry: Hashable, Sendable, CustomStringConvertible {
        public var epoch: Int32
        public var startOffset: Int64

        public init(epoch: Int32, startOffset: Int64) {
            self.epoch = epoch
            self.startOffset = startOffset
        }

        public var description: String { "\(self.epoch)@\(self.startOffset)" }
    }

    /// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET: what a lookup answers for an epoch it
    /// cannot place.
    public static let undefinedEpoch: Int32 = -1
    public static let undefinedOffset: Int64 = -1

    public private(set) var entries: [Entry]

    /// - Precondition: `entries` strictly increase in epoch and start offset (a parsed checkpoint
    ///   is checked before it gets here).
    public init(entries: [Entry] = []) {
        precondition(Self.isMonotonic(entries), "leader epoch entries must strictly increase")
        self.entries = entries
    }

    static func isMonotonic(_ entries: [Entry]) -> Bool {
        zip(entries, entries.dropFirst()).allSatisfy { $0.epoch < $1.epoch && $0.startOffset < $1.startOffset }
    }

    public var latestEpoch: Int32? { self.entries.last?.epoch }

    /// Records that `epoch` starts at `startOffset` (Kafka's `assign`). A no-op when the latest
    /// entry is already `epoch` at or before `startOffset`; otherwise entries that would break
    /// monotonicity (an epoch ≥ `epoch` or a start offset ≥ `startOffset`) are dropped first.
    /// Returns whether the entries changed.
    ///
    /// - Precondition: `epoch` and `startOffset` are not negative.
    @discardableResult
    public mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        precondition(epoch >= 0 && startOffset >= 0, "leader epoch \(epoch) at \(startOffset) is negative")
        if let latest = self.entries.last, latest.epoch == epoch, latest.startOffset <= startOffset { return false }
        while let last = self.entries.last, last.epoch >= epoch || last.startOffset >= startOffset {
            self.entries.removeLast()
        }
        self.entries.append(Entry(epoch: epoch, startOffset: startOffset))
        return true
    }

    /// Drops the entries starting at or after `endOffset`, the new log end offset after the log was
    /// cut (Kafka's `truncateFromEnd`). Returns whether the entries changed.
    @discardableResult
    public mutating func truncateFromEnd(_ endOffset: Int64) -> Bool {
        guard endOffset >= 0, let latest = self.entries.last, latest.startOffset >= endOffset else { return false }
        self.entries.removeAll { $0.startOffset >= endOffset }
        return true
    }

    /// Moves the cache's start to `startOffset`, the new log start offset (Kafka's
    /// `truncateFromStart`): entries starting at or before it are dropped except the last of them,
    /// which is moved to start at `startOffset`, since its epoch holds the new first offset.
    /// Returns whether the entries changed.
    @discardableResult
    public mutating func truncateFromStart(_ startOffset: Int64) -> Bool {
        guard let covering = self.entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        let moved = Entry(epoch: self.entries[covering].epoch, startOffset: startOffset)
        guard covering > 0 || moved != self.entries[0] else { return false }
        self.entries.removeFirst(covering + 1)
        self.entries.insert(moved, at: 0)
        return true
    }

    /// The end of `requestedEpoch`, Kafka's `endOffsetFor` as OffsetForLeaderEpoch answers it: the
    /// start offset of the first later epoch, or `logEndOffset` for the latest epoch. The epoch
    /// returned is the largest known epoch ≤ `requestedEpoch` (the requested one when it is
    /// older than every entry: its data is gone, and the first entry's start is where the log now
    /// begins). Undefined (-1, -1) for `undefinedEpoch`, for an epoch newer than the latest, or
    /// for an empty cache.
    public func endOffset(forEpoch requestedEpoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        let undefined = (Self.undefinedEpoch, Self.undefinedOffset)
        guard requestedEpoch != Self.undefinedEpoch, let latest = self.entries.last else { return undefined }
        if latest.epoch == requestedEpoch { return (requestedEpoch, logEndOffset) }
        guard let higher = self.entries.firstIndex(where: { $0.epoch > requestedEpoch }) else { return undefined }
        let endOffset = self.entries[higher].startOffset
        return higher == 0 ? (requestedEpoch, endOffset) : (self.entries[higher - 1].epoch, endOffset)
    }

    /// The epoch the record at `offset` was written in (Kafka's `epochForOffset`): that of the last
    /// entry starting at or before it; nil when `offset` precedes every entry.
    public func epoch(forOffset offset: Int64) -> Int32? {
        self.entries.last(where: { $0.startOffset <= offset })?.epoch
    }
}
