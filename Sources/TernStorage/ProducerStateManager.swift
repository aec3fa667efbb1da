/// Idempotent and transactional producer bookkeeping for one partition (KIP-98, Kafka's
/// `ProducerStateManager`): per producer id, its epoch, the sequence ranges and offsets of its last
/// five batches (so that a retried batch is answered with its original offsets instead of being
/// written twice, and a gap in sequences is refused), the coordinator epoch of its last marker and
/// the first offset of its ongoing transaction.
///
/// Pure data, no I/O: the partition log checks a batch against it and records the batch under the
/// partition's lock, replays the log into it on recovery, and persists it in `.snapshot` files
/// (`ProducerStateSnapshot`).
public struct ProducerStateManager: Sendable, Hashable {
    /// Kafka keeps five: a producer has at most five requests in flight per connection.
    public static let retainedBatchCount = 5

    public struct BatchMetadata: Hashable, Sendable {
        public var firstSequence: Int32
        public var lastSequence: Int32
        public var firstOffset: Int64
        public var lastOffset: Int64

        public init(firstSequence: Int32, lastSequence: Int32, firstOffset: Int64, lastOffset: Int64) {
            self.firstSequence = firstSequence
            self.lastSequence = lastSequence
            self.firstOffset = firstOffset
            self.lastOffset = lastOffset
        }
    }

    public struct Entry: Hashable, Sendable {
        public var epoch: Int16
        /// The producer's last batches, oldest first, at most `retainedBatchCount`.
        public var batches: [BatchMetadata]
        /// The max timestamp of the producer's last batch (DescribeProducers' last_timestamp).
        public var lastTimestampMs: Int64 = -1
        /// The coordinator epoch of the last transaction marker, -1 before any.
        public var coordinatorEpoch: Int32 = -1
        /// The first offset of the producer's ongoing transaction here, nil when none.
        public var currentTxnFirstOffset: Int64?

        public init(
            epoch: Int16,
            batches: [BatchMetadata] = [],
            lastTimestampMs: Int64 = -1,
            coordinatorEpoch: Int32 = -1,
            currentTxnFirstOffset: Int64? = nil
        ) {
            self.epoch = epoch
            self.batches = batches
            self.lastTimestampMs = lastTimestampMs
            self.coordinatorEpoch = coordinatorEpoch
            self.currentTxnFirstOffset = currentTxnFirstOffset
        }

        /// The last sequence written (DescribeProducers' last_sequence), -1 before any.
        public var lastSequence: Int32 { self.batches.last?.lastSequence ?? -1 }
    }

    public enum Verdict: Hashable, Sendable {
        /// Append the batch.
        case append
        /// The batch was already written: answer with these offsets and append nothing.
        case duplicate(firstOffset: Int64, lastOffset: Int64)
        case reject(StorageError.Code)
    }

    /// A transaction a marker ended.
    public struct CompletedTransaction: Hashable, Sendable {
        public var producerId: Int64
        public var firstOffset: Int64
        /// The marker's offset.
        public var lastOffset: Int64
        public var isAborted: Bool
    }

    public private(set) var entries: [Int64: Entry] = [:]
    /// The first offsets of the ongoing transactions by producer id: the few entries the last
    /// stable offset (read by every fetch) is computed from, whatever the number of producers.
    private var ongoingTransactions: [Int64: Int64] = [:]

    public init(entries: [Int64: Entry] = [:]) {
        self.entries = entries
        for (producerId, entry) in entries {
            if let first = entry.currentTxnFirstOffset { self.ongoingTransactions[producerId] = first }
        }
    }

    /// The sequence after `sequence`; sequences wrap from Int32.max to 0.
    public static func nextSequence(after sequence: Int32) -> Int32 {
        sequence == .max ? 0 : sequence + 1
    }

    public static func lastSequence(first: Int32, lastOffsetDelta: Int32) -> Int32 {
        let last = Int64(first) + Int64(lastOffsetDelta)
        return last > Int64(Int32.max) ? Int32(last - Int64(Int32.max) - 1) : Int32(last)
    }

    /// The smallest first offset of any ongoing transaction (what bounds the last stable offset),
    /// nil when none is ongoing.
    public var firstUnstableOffset: Int64? {
        self.ongoingTransactions.values.min()
    }

    /// Whether a produced batch may be appended. `isTransactional` is the batch's transactional bit.
    public func check(
        producerId: Int64,
        epoch: Int16,
        firstSequence: Int32,
        lastSequence: Int32,
        isTransactional: Bool = false
    ) -> Verdict {
        guard producerId >= 0 else { return .append }
        // Without state (a new producer, or one whose state is gone) any sequence is accepted and
        // tracking starts here, as Kafka does since KIP-360.
        guard let entry = self.entries[producerId] else { return .append }
        if epoch < entry.epoch { return .reject(.invalidProducerEpoch) }
        // A batch without sequence numbers (Kafka's NO_SEQUENCE: the group coordinator writing a
        // transaction's offsets for its producer) is checked for its epoch only.
        if firstSequence < 0 { return .append }
        if epoch > entry.epoch {
            return firstSequence == 0 ? .append : .reject(.outOfOrderSequence)
        }
        if let original = entry.batches.first(where: {
            $0.firstSequence == firstSequence && $0.lastSequence == lastSequence
        }) {
            return .duplicate(firstOffset: original.firstOffset, lastOffset: original.lastOffset)
        }
        // Kafka's ProducerAppendInfo: a producer inside a transaction writes transactionally.
        if !isTransactional && entry.currentTxnFirstOffset != nil { return .reject(.invalidTxnState) }
        guard let last = entry.batches.last else { return .append }
        return firstSequence == Self.nextSequence(after: last.lastSequence)
            ? .append : .reject(.outOfOrderSequence)
    }

    /// Records an appended (or replayed) data batch. A transactional batch starts the producer's
    /// transaction at its first offset when none is ongoing.
    public mutating func record(
        producerId: Int64,
        epoch: Int16,
        batch: BatchMetadata,
        maxTimestampMs: Int64,
        isTransactional: Bool = false
    ) {
        guard producerId >= 0 else { return }
        var entry = self.entries[producerId] ?? Entry(epoch: epoch)
        if epoch != entry.epoch {
            // A new epoch starts a new sequence space; an ongoing transaction stays (the
            // coordinator aborts it with a marker of the new epoch).
            entry.epoch = epoch
            entry.batches = []
        }
        // Only sequenced batches count among the last five a retry is matched against.
        if batch.firstSequence >= 0 { entry.batches.append(batch) }
        entry.lastTimestampMs = maxTimestampMs
        if entry.batches.count > Self.retainedBatchCount { entry.batches.removeFirst() }
        if isTransactional && entry.currentTxnFirstOffset == nil {
            entry.currentTxnFirstOffset = batch.firstOffset
            self.ongoingTransactions[producerId] = batch.firstOffset
        }
        self.entries[producerId] = entry
    }

    /// Whether a transaction marker may be written: nil, or the reason it is refused (an epoch
    /// older than the producer's, a coordinator epoch older than the last marker's).
    public func checkMarker(producerId: Int64, epoch: Int16, coordinatorEpoch: Int32) -> StorageError.Code? {
        guard let entry = self.entries[producerId] else { return nil }
        if epoch < entry.epoch { return .invalidProducerEpoch }
        if coordinatorEpoch < entry.coordinatorEpoch { return .transactionCoordinatorFenced }
        return nil
    }

    /// Records a marker written at `offset`: ends the producer's ongoing transaction and returns it;
    /// nil (and nothing recorded) when the producer has no transaction here.
    public mutating func recordMarker(
        producerId: Int64,
        epoch: Int16,
        coordinatorEpoch: Int32,
        offset: Int64,
        timestampMs: Int64,
        isCommit: Bool
    ) -> CompletedTransaction? {
        guard var entry = self.entries[producerId] else { return nil }
        if epoch != entry.epoch {
            entry.epoch = epoch
            entry.batches = []
        }
        entry.coordinatorEpoch = coordinatorEpoch
        entry.lastTimestampMs = timestampMs
        let firstOffset = entry.currentTxnFirstOffset
        entry.currentTxnFirstOffset = nil
        self.ongoingTransactions[producerId] = nil
        self.entries[producerId] = entry
        return firstOffset.map {
            CompletedTransaction(producerId: producerId, firstOffset: $0, lastOffset: offset, isAborted: !isCommit)
        }
    }

    /// The last stable offset right after `completed` was written (Kafka's
    /// `ProducerStateManager.lastStableOffset(completedTxn)`): the first offset of another
    /// ongoing transaction, else the offset after the marker. Call before `recordMarker`.
    public func lastStableOffset(completing completed: CompletedTransaction) -> Int64 {
        let others = self.ongoingTransactions.filter { $0.key != completed.producerId }.values
        return others.min() ?? completed.lastOffset + 1
    }

    public mutating func removeAll() {
        self.entries.removeAll()
        self.ongoingTransactions.removeAll()
    }
}
