import NIOCore
import TernRecords
import TernWire

/// How a caller learns a record's fate.
enum DeliveryCompletion: Sendable {
    case continuation(CheckedContinuation<RecordMetadata, any Error>)
    case callback(@Sendable (Result<RecordMetadata, any Error>) -> Void)

    func complete(_ result: Result<RecordMetadata, any Error>) {
        switch self {
        case .continuation(let continuation): continuation.resume(with: result)
        case .callback(let callback): callback(result)
        }
    }
}

/// A batch on its way: open (records still being added), ready, in flight or waiting to retry.
struct ProducerBatch: Sendable {
    enum Payload: Sendable {
        case open(RecordBatchBuilder)
        case built(ByteBuffer)
    }

    struct Waiter: Sendable {
        var index: Int32
        var timestamp: Int64
        var completion: DeliveryCompletion
    }

    let partition: TopicPartition
    var payload: Payload
    var recordCount: Int32 = 0
    /// Bytes of buffer memory this batch holds until it is done.
    var reservedBytes = 0
    var waiters: [Waiter] = []
    let createdAt: ContinuousClock.Instant
    var attempts = 0
    var baseSequence: Int32 = -1

    var uncompressedByteCount: Int {
        if case .open(let builder) = self.payload { return builder.uncompressedByteCount }
        return 0
    }
}

/// Per-partition queues of batches with at most one request in flight per partition, so retries
/// keep order. Pure state: the producer holds it in a mutex and acts on what it returns.
struct RecordAccumulator: Sendable {
    struct PartitionQueue: Sendable {
        var open: ProducerBatch?
        var ready: [ProducerBatch] = []
        var inFlight = false
        var retryAfter: ContinuousClock.Instant?
    }

    enum AppendOutcome {
        /// Appended; wake the sender when a batch was opened or closed.
        case appended(wakeSender: Bool)
        /// Buffer memory is used up: wait for space and try again.
        case bufferFull
    }

    let batchSize: Int
    let bufferMemory: Int
    let codec: CompressionCodec
    let compressionLevel: Int?

    var queues: [TopicPartition: PartitionQueue] = [:]
    /// The next idempotence sequence number per partition; outlives the partition's queue.
    var nextSequences: [TopicPartition: Int32] = [:]
    var bufferedBytes = 0
    var partitionCounts: [String: Int32] = [:]
    /// The partition unkeyed records of a topic go to until its batch closes.
    var stickyPartitions: [String: Int32] = [:]
    var batchesInFlight = 0
    var flushRequests = 0
    var isClosing = false
    var spaceWaiters: [CheckedContinuation<Void, any Error>] = []
    var flushWaiters: [CheckedContinuation<Void, Never>] = []

    init(batchSize: Int, bufferMemory: Int, codec: CompressionCodec, compressionLevel: Int?) {
        self.batchSize = batchSize
        self.bufferMemory = bufferMemory
        self.codec = codec
        self.compressionLevel = compressionLevel
    }

    var isEmpty: Bool {
        self.batchesInFlight == 0
            && self.queues.values.allSatisfy { $0.open == nil && $0.ready.isEmpty && !$0.inFlight }
    }

    /// The partition for an unkeyed record without an explicit one.
    mutating func stickyPartition(for topic: String, count: Int32) -> Int32 {
        if let partition = self.stickyPartitions[topic], partition < count { return partition }
        let partition = Int32.random(in: 0..<count)
        self.stickyPartitions[topic] = partition
        return partition
    }

    mutating func append(
        _ record: ProducerRecord,
        partition: TopicPartition,
        timestamp: Int64,
        completion: DeliveryCompletion?,
        now: ContinuousClock.Instant
    ) -> AppendOutcome {
        let size = record.estimatedSize
        // One record may always go in when nothing is buffered, whatever its size.
        if self.bufferedBytes > 0 && self.bufferedBytes + size > self.bufferMemory {
            return .bufferFull
        }
        var wake = false
        var queue = self.queues.removeValue(forKey: partition) ?? PartitionQueue()
        if let open = queue.open, open.recordCount > 0, open.uncompressedByteCount + size > self.batchSize {
            queue.ready.append(open)
            queue.open = nil
            self.partitionBatchClosed(partition)
            wake = true
        }
        if queue.open == nil {
            queue.open = ProducerBatch(
                partition: partition,
                payload: .open(
                    RecordBatchBuilder(
                        codec: self.codec,
                        compressionLevel: self.compressionLevel,
                        initialCapacityBytes: min(self.batchSize, max(size * 2, 16 * 1024))
                            + RecordBatch.headerByteCount
                    )
                ),
                createdAt: now
            )
            wake = true
        }
        guard case .open(var builder) = queue.open!.payload else { preconditionFailure("open batch is built") }
        queue.open!.payload = .built(ByteBuffer())  // release the builder's buffer reference while appending
        builder.append(key: record.key, value: record.value, headers: record.headers, timestampMs: timestamp)
        queue.open!.payload = .open(builder)
        if let completion {
            queue.open!.waiters.append(
                .init(index: queue.open!.recordCount, timestamp: timestamp, completion: completion)
            )
        }
        queue.open!.recordCount += 1
        queue.open!.reservedBytes += size
        self.bufferedBytes += size
        self.queues[partition] = queue
        return .appended(wakeSender: wake)
    }

    private mutating func partitionBatchClosed(_ partition: TopicPartition) {
        if self.stickyPartitions[partition.topic] == partition.partition {
            self.stickyPartitions[partition.topic] = nil
        }
    }

    /// Takes the batches to send now: one per partition that has nothing in flight and whose
    /// batch is full, lingered long enough, or is flushed. Returns the earliest time another open
    /// batch becomes due.
    mutating func drain(
        now: ContinuousClock.Instant,
        linger: Duration
    ) -> (batches: [ProducerBatch], nextDeadline: ContinuousClock.Instant?) {
        var batches: [ProducerBatch] = []
        var nextDeadline: ContinuousClock.Instant?
        let sendOpen = self.flushRequests > 0 || self.isClosing
        for (partition, var queue) in self.queues where !queue.inFlight {
            if let retryAfter = queue.retryAfter {
                if retryAfter > now {
                    nextDeadline = min(nextDeadline ?? retryAfter, retryAfter)
                    continue
                }
                queue.retryAfter = nil
            }
            if queue.ready.isEmpty, let open = queue.open {
                let due = open.createdAt + linger
                if sendOpen || due <= now {
                    queue.ready.append(open)
                    queue.open = nil
                    self.partitionBatchClosed(partition)
                } else {
                    nextDeadline = min(nextDeadline ?? due, due)
                }
            }
            if !queue.ready.isEmpty {
                var batch = queue.ready.removeFirst()
                if batch.baseSequence < 0 && batch.attempts == 0 {
                    let sequence = self.nextSequences[partition] ?? 0
                    batch.baseSequence = sequence
                    // Sequences wrap from Int32.max to 0, as the broker expects.
                    let next = Int64(sequence) + Int64(batch.recordCount)
                    self.nextSequences[partition] = Int32(next > Int64(Int32.max) ? next - Int64(Int32.max) - 1 : next)
                }
                batches.append(batch)
                queue.inFlight = true
                self.batchesInFlight += 1
            }
            self.queues[partition] = queue
        }
        return (batches, nextDeadline)
    }

    /// A batch's request is over: done (acknowledged or failed for good), or to be retried first
    /// in its partition's queue.
    mutating func finished(_ batch: ProducerBatch, retryAt: ContinuousClock.Instant?) -> [CheckedContinuation<
        Void, any Error
    >] {
        self.batchesInFlight -= 1
        var queue = self.queues[batch.partition] ?? PartitionQueue()
        queue.inFlight = false
        if let retryAt {
            queue.ready.insert(batch, at: 0)
            queue.retryAfter = retryAt
            self.queues[batch.partition] = queue
            return []
        }
        if queue.open == nil && queue.ready.isEmpty {
            self.queues[batch.partition] = nil
        } else {
            self.queues[batch.partition] = queue
        }
        self.bufferedBytes -= batch.reservedBytes
        let waiters = self.spaceWaiters
        self.spaceWaiters = []
        return waiters
    }

    /// Starts sequence numbers again (after the producer id changed).
    mutating func resetSequences() {
        self.nextSequences = [:]
    }
}
