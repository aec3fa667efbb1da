/// A partition of a topic taking part in a transaction. Its own name because TernStorage,
/// TernCoordinator and TernClient each have a `TopicPartition` and the broker imports them together.
public struct TransactionPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(self.topic)-\(self.partition)" }
}

/// No producer id (Kafka's `RecordBatch.NO_PRODUCER_ID`).
public let noProducerId: Int64 = -1
/// No producer epoch (Kafka's `RecordBatch.NO_PRODUCER_EPOCH`).
public let noProducerEpoch: Int16 = -1

/// What the coordinator knows of one transactional id (Kafka's `TransactionMetadata`).
public struct TransactionMetadata: Hashable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    /// The producer id before the last rotation (epoch exhaustion), -1 if none. Lets a producer
    /// that missed the rotation's answer retry InitProducerId with its old id (KIP-360).
    public var previousProducerId: Int64
    /// -1 before the first InitProducerId completes.
    public var producerEpoch: Int16
    /// The epoch before the last bump by an InitProducerId that named the current epoch, -1 if
    /// none: a retry of that call naming it gets the current epoch back instead of PRODUCER_FENCED.
    /// Not stored in the log (Kafka neither), so it is -1 after a replay.
    public var lastProducerEpoch: Int16
    public var timeoutMs: Int32
    public var state: TransactionState
    public var partitions: Set<TransactionPartition>
    /// When the open transaction started (its first AddPartitions), -1 when none has.
    public var txnStartTimestampMs: Int64
    public var txnLastUpdateTimestampMs: Int64

    public init(
        transactionalId: String,
        producerId: Int64,
        previousProducerId: Int64 = noProducerId,
        producerEpoch: Int16,
        lastProducerEpoch: Int16 = noProducerEpoch,
        timeoutMs: Int32,
        state: TransactionState,
        partitions: Set<TransactionPartition> = [],
        txnStartTimestampMs: Int64 = -1,
        txnLastUpdateTimestampMs: Int64
    ) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.previousProducerId = previousProducerId
        self.producerEpoch = producerEpoch
        self.lastProducerEpoch = lastProducerEpoch
        self.timeoutMs = timeoutMs
        self.state = state
        self.partitions = partitions
        self.txnStartTimestampMs = txnStartTimestampMs
        self.txnLastUpdateTimestampMs = txnLastUpdateTimestampMs
    }

    /// Kafka's `isEpochExhausted`: at `Int16.max - 1` no further epoch can be handed out (the
    /// last one is kept for fencing), so the next InitProducerId rotates to a new producer id.
    public static func isEpochExhausted(_ epoch: Int16) -> Bool { epoch >= Int16.max - 1 }
}
