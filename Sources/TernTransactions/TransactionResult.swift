import TernWire

/// A response body of one of the transaction APIs, as values rather than wire structs.
public enum TransactionResponse: Hashable, Sendable {
    /// InitProducerId. On error the id and epoch are -1, as Kafka answers.
    case initProducerId(errorCode: KafkaErrorCode, producerId: Int64, producerEpoch: Int16)
    /// AddPartitionsToTxn for one transaction: an error per partition (Kafka gives them all the
    /// transaction's error).
    case addPartitions(errors: [TransactionPartition: KafkaErrorCode])
    /// AddOffsetsToTxn.
    case addOffsets(errorCode: KafkaErrorCode)
    /// EndTxn. The producer id and epoch (EndTxn v5 fields) are the transaction's on success, -1
    /// on error; without KIP-890's epoch bump they are the epoch the client already has.
    case endTransaction(errorCode: KafkaErrorCode, producerId: Int64, producerEpoch: Int16)

    /// The response's error code (the first partition's for AddPartitions).
    public var errorCode: KafkaErrorCode {
        switch self {
        case .initProducerId(let errorCode, _, _), .addOffsets(let errorCode), .endTransaction(let errorCode, _, _):
            errorCode
        case .addPartitions(let errors):
            errors.keys.sorted().first.map { errors[$0]! } ?? .none
        }
    }
}

/// Transaction markers the runtime must write: one control batch (COMMIT or ABORT, carrying the
/// coordinator epoch) with this producer id and epoch to each partition, then call
/// `TransactionCoordinator.markersWritten` once every partition has it.
public struct TransactionMarkers: Hashable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    public var coordinatorEpoch: Int32
    public var commit: Bool
    /// Sorted. May include `__consumer_offsets` partitions (AddOffsetsToTxn): the marker there is
    /// what makes the group coordinator commit or drop the transaction's offsets.
    public var partitions: [TransactionPartition]

    public init(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        coordinatorEpoch: Int32,
        commit: Bool,
        partitions: [TransactionPartition]
    ) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.coordinatorEpoch = coordinatorEpoch
        self.commit = commit
        self.partitions = partitions
    }
}

/// Work for the runtime besides appending records.
public enum TransactionAction: Hashable, Sendable {
    /// After this result's records are durable, write the markers (WriteTxnMarkers to the
    /// partitions' leaders; in Tern, local appends of control batches).
    case writeMarkers(TransactionMarkers)
}

/// The outcome of one event, in Kafka's `CoordinatorResult(records, response)` shape.
///
/// The runtime carries it out in this order: append `records` to `__transaction_state` (as one
/// batch) and wait until they are durable; then send `response` (at once when there are no
/// records); then carry out `actions`. The coordinator's state already reflects the records. If
/// the append fails, the state is ahead of the log: the runtime answers with the append's error
/// and rebuilds the coordinator by replaying the log (Kafka likewise resigns or reloads).
public struct TransactionResult: Hashable, Sendable {
    public var response: TransactionResponse?
    public var records: [TransactionLogRecord]
    public var actions: [TransactionAction]

    public init(
        response: TransactionResponse? = nil,
        records: [TransactionLogRecord] = [],
        actions: [TransactionAction] = []
    ) {
        self.response = response
        self.records = records
        self.actions = actions
    }

    /// Nothing to do.
    public static let none = TransactionResult()

    /// The markers of every `writeMarkers` action.
    public var markers: [TransactionMarkers] {
        self.actions.map { action in
            switch action {
            case .writeMarkers(let markers): markers
            }
        }
    }
}

/// The error code an older client understands: PRODUCER_FENCED (KIP-588) becomes
/// INVALID_PRODUCER_EPOCH for InitProducerId before v4 and AddPartitionsToTxn, AddOffsetsToTxn
/// and EndTxn before v2, as Kafka's `KafkaApis` does when it encodes the response.
public func transactionErrorCode(_ code: KafkaErrorCode, forApi api: ApiKey, version: Int16) -> KafkaErrorCode {
    guard code == .producerFenced else { return code }
    let firstVersionWithProducerFenced: Int16
    switch api {
    case .initProducerId: firstVersionWithProducerFenced = 4
    case .addPartitionsToTxn, .addOffsetsToTxn, .endTxn: firstVersionWithProducerFenced = 2
    default: return code
    }
    return version < firstVersionWithProducerFenced ? .invalidProducerEpoch : code
}
