import NIOCore
import TernRecords
import TernWire

/// How a caller learns a record's fate. One closure rather than an enum of continuation and
/// callback: an optional of it is a single-payload enum, cheap to pass per record.
struct DeliveryCompletion: Sendable {
    let complete: @Sendable (Result<RecordMetadata, any Error>) -> Void

    static func continuation(_ continuation: CheckedContinuation<RecordMetadata, any Error>) -> Self {
        Self { continuation.resume(with: $0) }
    }

    static func callback(_ callback: @escaping @Sendable (Result<RecordMetadata, any Error>) -> Void) -> Self {
        Self(complete: callback)
    }
}

/// A batch on its way: open (records still being added), ready, in flight or waiting to retry.
/// A class so that moving it between queues and the sender is a retain, not a copy of its fields.
/// `@unchecked Sendable`: it is mutated only under the accumulator's lock while queued, and only by
/// the one sender task that took it while in flight.
final class ProducerBatch: @unchecked Sendable {

    struct Waiter: Sendable {
        var index: Int32
        var timestamp: Int64
        var completion: DeliveryCompletion
    }

    /// What appends change, in one stored property so that an append is one exclusivity-checked
    /// access of the class rather than one per field.
    struct Contents: Sendable {
        /// Records are appended here until the batch is sent.
        var builder: RecordBatchBuilder?
        var recordCount: Int32 = 0
        /// Bytes of buffer memory this batch holds until it is done.
        var reservedBytes = 0
        var waiters: [Waiter] = []

        mutating func append(_ record: ProducerRecord, size: Int, timestamp: Int64, completion: DeliveryCompletion?) {
            self.builder!.append(key: record.key, value: record.value, headers: record.headers, timestampMs: timestamp)
            if let completion {
                self.waiters.append(.init(index: self.recordCount, timestamp: timestamp, completion: completion))
            }
            self.recordCount += 1
            self.reservedBytes += size
        }
    }

    let partition: TopicPartition
    var contents: Contents
    /// The batch's bytes once sent, kept for retries, which must resend the same sequence numbers.
    var built: ByteBuffer?
    let createdAt: ContinuousClock.Instant
    var attempts = 0
    var baseSequence: Int32 = -1

    init(partition: TopicPartition, builder: RecordBatchBuilder, createdAt: ContinuousClock.Instant) {
        self.partition = partition
        self.contents = Contents(builder: builder)
        self.createdAt = createdAt
    }

    var builder: RecordBatchBuilder? {
        get { self.contents.builder }
        set { self.contents.builder = newValue }
    }
    var recordCount: Int32 { self.contents.recordCount }
    var reservedBytes: Int { self.contents.reservedBytes }
    var waiters: [Waiter] { self.contents.waiters }

    /// Whether a record of `size` bytes belongs in a new batch (an empty batch takes any record).
    func wouldOverflow(adding size: Int, batchSize: Int) -> Bool {
        self.contents.recordCount > 0 && (self.contents.builder?.uncompressedByteCount ?? 0) + size > batchSize
    }

    func append(_ record: ProducerRecord, size: Int, timestamp: Int64, completion: DeliveryCompletion?) {
        self.contents.append(record, size: size, timestamp: timestamp, completion: completion)
    }
}

/// Per-partition queues of batches with at most one request in flight per partition, so retries
/// keep order. Pure state: the producer holds it in a mutex and acts on what it returns. Indexed
/// by topic name, then partition number, so an append hashes one string.
struct RecordAccumulator: Sendable {
    struct PartitionQueue: Sendable {
        var open: ProducerBatch?
        var ready: [ProducerBatch] = []
        var inFlight = false
        var retryAfter: ContinuousClock.Instant?
        /// The next idempotence sequence number.
        var nextSequence: Int32 = 0

        var isIdle: Bool { self.open == nil && self.ready.isEmpty && !self.inFlight }

        /// Appends to the open batch, first closing it if the record would overflow it. A method so
        /// that the queue is accessed in place, not copied, per record.
        mutating func append(
            _ record: ProducerRecord,
            partition: Int32,
            size: Int,
            timestamp: Int64,
            completion: DeliveryCompletion?,
            batchSize: Int,
            makeBuilder: () -> RecordBatchBuilder
        ) -> (wake: Bool, closed: Bool) {
            var wake = false
            var closed = false
            if self.open?.wouldOverflow(adding: size, batchSize: batchSize) == true {
                self.ready.append(self.open.take()!)
                closed = true
                wake = true
            }
            if self.open == nil {
                self.open = ProducerBatch(
                    partition: TopicPartition(topic: record.topic, partition: partition),
                    builder: makeBuilder(),
                    createdAt: .now
                )
                wake = true
            }
            self.open!.append(record, size: size, timestamp: timestamp, completion: completion)
            return (wake, closed)
        }
    }

    struct TopicState: Sendable {
        var partitionCount: Int32
        /// Where unkeyed records go until that partition's batch closes, or (librdkafka's
        /// partitioners) until `stickyUntil` (-1: pick one).
        var stickyPartition: Int32 = -1
        var stickyUntil: ContinuousClock.Instant?
        var queues: [PartitionQueue]

        init(partitionCount: Int32) {
            self.partitionCount = partitionCount
            self.queues = Array(repeating: PartitionQueue(), count: Int(partitionCount))
        }
    }

    enum AppendOutcome {
        /// Appended; wake the sender when a batch was opened or closed.
        case appended(wakeSender: Bool)
        /// Buffer memory is used up: wait for space and try again.
        case bufferFull
        /// The topic's partition count is not known yet: learn it from metadata first.
        case unknownTopic
        /// The record names a partition the topic does not have.
        case invalidPartition(count: Int32)
    }

    let batchSize: Int
    let bufferMemory: Int
    let codec: CompressionCodec
    let compressionLevel: Int?
    let partitioner: Partitioner
    let stickyLinger: Duration
    /// Batches carry the transactional bit (a producer with a transactional id).
    let isTransactional: Bool

    var topics: [String: TopicState] = [:]
    /// The last topic appended to and its slot in `topics`, so a run of records to one topic hashes
    /// no string. Slots stay valid until a key is inserted (`learn`).
    private var lastTopic: (name: String, slot: Dictionary<String, TopicState>.Index)?
    var bufferedBytes = 0
    var batchesInFlight = 0
    var flushRequests = 0
    var isClosing = false
    var spaceWaiters: [CheckedContinuation<Void, any Error>] = []
    var flushWaiters: [CheckedContinuation<Void, Never>] = []

    init(
        batchSize: Int,
        bufferMemory: Int,
        codec: CompressionCodec,
        compressionLevel: Int?,
        partitioner: Partitioner = .javaDefault,
        stickyLinger: Duration = .milliseconds(10),
        isTransactional: Bool = false
    ) {
        self.batchSize = batchSize
        self.bufferMemory = bufferMemory
        self.codec = codec
        self.compressionLevel = compressionLevel
        self.partitioner = partitioner
        self.stickyLinger = stickyLinger
        self.isTransactional = isTransactional
    }

    var isEmpty: Bool {
        self.batchesInFlight == 0 && self.topics.values.allSatisfy { $0.queues.allSatisfy(\.isIdle) }
    }

    /// Records a topic's partition count (from metadata). A topic that grew keeps its queues.
    mutating func learn(topic: String, partitionCount: Int32) {
        self.lastTopic = nil
        var state = self.topics[topic] ?? TopicState(partitionCount: 0)
        if partitionCount > state.partitionCount {
            state.queues += Array(repeating: PartitionQueue(), count: Int(partitionCount - state.partitionCount))
            state.partitionCount = partitionCount
        }
        self.topics[topic] = state
    }

    /// Picks the partition (explicit, or by the partitioner's route) and appends.
    /// - Parameter route: the partitioner's decision (the key's hash), made outside the lock.
    mutating func append(
        _ record: ProducerRecord,
        route: Partitioner.Route,
        timestamp: Int64,
        completion: DeliveryCompletion?
    ) -> AppendOutcome {
        let size = record.estimatedSize
        // One record may always go in when nothing is buffered, whatever its size.
        if self.bufferedBytes > 0 && self.bufferedBytes + size > self.bufferMemory {
            return .bufferFull
        }
        let batchSize = self.batchSize
        let codec = self.codec
        let level = self.compressionLevel
        let isTransactional = self.isTransactional
        var outcome = AppendOutcome.unknownTopic
        let slot: Dictionary<String, TopicState>.Index
        if let last = self.lastTopic, last.name == record.topic {
            slot = last.slot
        } else {
            guard let found = self.topics.index(forKey: record.topic) else { return .unknownTopic }
            slot = found
            self.lastTopic = (record.topic, found)
        }
        // Mutated in place through the dictionary's values: no copy of queues or batches.
        Self.append(
            record,
            size: size,
            route: route,
            partitioner: self.partitioner,
            stickyLinger: self.stickyLinger,
            timestamp: timestamp,
            completion: completion,
            topic: &self.topics.values[slot],
            batchSize: batchSize,
            makeBuilder: {
                RecordBatchBuilder(
                    codec: codec,
                    compressionLevel: level,
                    isTransactional: isTransactional,
                    initialCapacityBytes: min(batchSize, max(size * 2, 64 * 1024)) + RecordBatch.headerByteCount
                )
            },
            outcome: &outcome
        )
        if case .appended = outcome { self.bufferedBytes += size }
        return outcome
    }

    private static func append(
        _ record: ProducerRecord,
        size: Int,
        route: Partitioner.Route,
        partitioner: Partitioner,
        stickyLinger: Duration,
        timestamp: Int64,
        completion: DeliveryCompletion?,
        topic: inout TopicState,
        batchSize: Int,
        makeBuilder: () -> RecordBatchBuilder,
        outcome: inout AppendOutcome
    ) {
        let partition: Int32
        if let explicit = record.partition {
            guard explicit >= 0, explicit < topic.partitionCount else {
                outcome = .invalidPartition(count: topic.partitionCount)
                return
            }
            partition = explicit
        } else {
            switch route {
            case .hashed(let hash):
                partition = partitioner.partition(forHash: hash, partitionCount: topic.partitionCount)
            case .random:
                partition = Int32.random(in: 0..<topic.partitionCount)
            case .sticky where partitioner.sticksPerBatch:
                if topic.stickyPartition < 0 || topic.stickyPartition >= topic.partitionCount {
                    topic.stickyPartition = Int32.random(in: 0..<topic.partitionCount)
                }
                partition = topic.stickyPartition
            case .sticky:
                // librdkafka's rd_kafka_msg_sticky_partition: a new random partition once the
                // linger has passed since the last pick.
                let now = ContinuousClock.now
                if topic.stickyPartition < 0 || topic.stickyPartition >= topic.partitionCount
                    || topic.stickyUntil.map({ now >= $0 }) ?? true
                {
                    topic.stickyPartition = Int32.random(in: 0..<topic.partitionCount)
                    topic.stickyUntil = now + stickyLinger
                }
                partition = topic.stickyPartition
            }
        }
        let closedSticky = topic.queues[Int(partition)].append(
            record,
            partition: partition,
            size: size,
            timestamp: timestamp,
            completion: completion,
            batchSize: batchSize,
            makeBuilder: makeBuilder
        )
        if closedSticky.closed && topic.stickyPartition == partition && partitioner.sticksPerBatch {
            topic.stickyPartition = -1
        }
        let wake = closedSticky.wake
        outcome = .appended(wakeSender: wake)
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
        for name in self.topics.keys {
            Self.drain(
                &self.topics[name]!,
                now: now,
                linger: linger,
                sendOpen: sendOpen,
                into: &batches,
                nextDeadline: &nextDeadline
            )
        }
        self.batchesInFlight += batches.count
        return (batches, nextDeadline)
    }

    private static func drain(
        _ topic: inout TopicState,
        now: ContinuousClock.Instant,
        linger: Duration,
        sendOpen: Bool,
        into batches: inout [ProducerBatch],
        nextDeadline: inout ContinuousClock.Instant?
    ) {
        for index in topic.queues.indices where !topic.queues[index].inFlight {
            if let retryAfter = topic.queues[index].retryAfter {
                if retryAfter > now {
                    nextDeadline = min(nextDeadline ?? retryAfter, retryAfter)
                    continue
                }
                topic.queues[index].retryAfter = nil
            }
            if topic.queues[index].ready.isEmpty, let createdAt = topic.queues[index].open?.createdAt {
                let due = createdAt + linger
                if sendOpen || due <= now {
                    topic.queues[index].ready.append(topic.queues[index].open.take()!)
                    if topic.stickyPartition == Int32(index) && topic.stickyUntil == nil { topic.stickyPartition = -1 }
                } else {
                    nextDeadline = min(nextDeadline ?? due, due)
                }
            }
            if !topic.queues[index].ready.isEmpty {
                let batch = topic.queues[index].ready.removeFirst()
                if batch.baseSequence < 0 && batch.attempts == 0 {
                    let sequence = topic.queues[index].nextSequence
                    batch.baseSequence = sequence
                    // Sequences wrap from Int32.max to 0, as the broker expects.
                    let next = Int64(sequence) + Int64(batch.recordCount)
                    topic.queues[index].nextSequence = Int32(
                        next > Int64(Int32.max) ? next - Int64(Int32.max) - 1 : next
                    )
                }
                batches.append(batch)
                topic.queues[index].inFlight = true
            }
        }
    }

    /// A batch's request is over: done (acknowledged or failed for good), or to be retried first
    /// in its partition's queue. Returns the callers waiting for buffer space.
    mutating func finished(
        _ batch: ProducerBatch,
        retryAt: ContinuousClock.Instant?
    ) -> [CheckedContinuation<Void, any Error>] {
        self.batchesInFlight -= 1
        let index = Int(batch.partition.partition)
        if self.topics[batch.partition.topic] != nil {
            self.topics[batch.partition.topic]!.queues[index].inFlight = false
            if let retryAt {
                self.topics[batch.partition.topic]!.queues[index].ready.insert(batch, at: 0)
                self.topics[batch.partition.topic]!.queues[index].retryAfter = retryAt
                return []
            }
        }
        self.bufferedBytes -= batch.reservedBytes
        let waiters = self.spaceWaiters
        self.spaceWaiters = []
        return waiters
    }

    /// Starts sequence numbers again (after the producer id changed).
    mutating func resetSequences() {
        for name in self.topics.keys {
            for index in self.topics[name]!.queues.indices { self.topics[name]!.queues[index].nextSequence = 0 }
        }
    }
}

extension Optional {
    /// Moves the value out, leaving nil (so the moved value is uniquely referenced).
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
