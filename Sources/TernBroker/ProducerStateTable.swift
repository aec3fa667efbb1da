import TernWire

/// Idempotent-producer bookkeeping for one partition (KIP-98): per producer id, its epoch and the
/// sequence ranges and offsets of its last five batches, so that a retried batch is answered with
/// its original offset instead of being written twice, and a gap in sequences is refused.
///
/// Pure data: the broker checks a batch before appending it and records it after.
struct ProducerStateTable: Sendable {
    /// Kafka keeps five: a producer has at most five requests in flight per connection.
    static let retainedBatchCount = 5

    struct BatchMetadata: Hashable, Sendable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
    }

    struct Entry: Hashable, Sendable {
        var epoch: Int16
        var batches: [BatchMetadata]
        /// The max timestamp of the producer's last batch (DescribeProducers' last_timestamp).
        var lastTimestampMs: Int64 = -1

        /// The last sequence written (DescribeProducers' last_sequence), -1 before any.
        var lastSequence: Int32 { self.batches.last?.lastSequence ?? -1 }
    }

    enum Verdict: Hashable, Sendable {
        /// Append the batch.
        case append
        /// The batch was already written: answer with these offsets and append nothing.
        case duplicate(firstOffset: Int64, lastOffset: Int64)
        case reject(KafkaErrorCode)
    }

    private(set) var entries: [Int64: Entry] = [:]

    /// The sequence after `sequence`; sequences wrap from Int32.max to 0.
    static func nextSequence(after sequence: Int32) -> Int32 {
        sequence == .max ? 0 : sequence + 1
    }

    static func lastSequence(first: Int32, lastOffsetDelta: Int32) -> Int32 {
        let last = Int64(first) + Int64(lastOffsetDelta)
        return last > Int64(Int32.max) ? Int32(last - Int64(Int32.max) - 1) : Int32(last)
    }

    func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) -> Verdict {
        guard producerId >= 0 else { return .append }
        // Without state (a new producer, or one whose state was lost in a restart) any sequence is
        // accepted and tracking starts here, as Kafka does since KIP-360.
        guard let entry = self.entries[producerId] else { return .append }
        if epoch < entry.epoch { return .reject(.invalidProducerEpoch) }
        if epoch > entry.epoch {
            return firstSequence == 0 ? .append : .reject(.outOfOrderSequenceNumber)
        }
        if let original = entry.batches.first(where: {
            $0.firstSequence == firstSequence && $0.lastSequence == lastSequence
        }) {
            return .duplicate(firstOffset: original.firstOffset, lastOffset: original.lastOffset)
        }
        guard let last = entry.batches.last else { return .append }
        return firstSequence == Self.nextSequence(after: last.lastSequence)
            ? .append : .reject(.outOfOrderSequenceNumber)
    }

    mutating func record(producerId: Int64, epoch: Int16, batch: BatchMetadata, maxTimestampMs: Int64) {
        guard producerId >= 0 else { return }
        var entry = self.entries[producerId] ?? Entry(epoch: epoch, batches: [])
        if epoch != entry.epoch { entry = Entry(epoch: epoch, batches: []) }
        entry.batches.append(batch)
        entry.lastTimestampMs = maxTimestampMs
        if entry.batches.count > Self.retainedBatchCount { entry.batches.removeFirst() }
        self.entries[producerId] = entry
    }
}
