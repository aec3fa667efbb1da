public import TernWire

/// The one error type of the storage engine. `Code` is extensible (a struct, not an enum) so new
/// codes do not break callers that switch on it; equality compares the code only, so tests can
/// write `#expect(throws: StorageError(.offsetOutOfRange))`.
public struct StorageError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case corruptBatch, invalidRecord, messageTooLarge, recordListTooLarge, offsetOutOfRange
            case unknownTopicOrPartition, topicAlreadyExists, invalidTopic, invalidPartitions, invalidConfig
            case diskFull, io, closed, corruptFile, invalidTimestamp, dataDirectoryLocked
            case outOfOrderSequence, invalidProducerEpoch, invalidTxnState, transactionCoordinatorFenced
            case recordWithoutKey
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A batch whose CRC, lengths or header fields are inconsistent (Kafka CORRUPT_MESSAGE).
        public static let corruptBatch = Code(.corruptBatch)
        /// A well-formed batch that Kafka refuses: not magic 2, wrong record count, control batch…
        public static let invalidRecord = Code(.invalidRecord)
        /// A producer batch claiming LogAppendTime (Kafka INVALID_TIMESTAMP).
        public static let invalidTimestamp = Code(.invalidTimestamp)
        /// A batch larger than the topic's `max.message.bytes`.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// A batch larger than a whole segment (`segment.bytes`).
        public static let recordListTooLarge = Code(.recordListTooLarge)
        /// A read below the log start offset or beyond the log end offset.
        public static let offsetOutOfRange = Code(.offsetOutOfRange)
        public static let unknownTopicOrPartition = Code(.unknownTopicOrPartition)
        public static let topicAlreadyExists = Code(.topicAlreadyExists)
        public static let invalidTopic = Code(.invalidTopic)
        public static let invalidPartitions = Code(.invalidPartitions)
        public static let invalidConfig = Code(.invalidConfig)
        /// ENOSPC (or EDQUOT) from the file system.
        public static let diskFull = Code(.diskFull)
        /// Any other failed system call.
        public static let io = Code(.io)
        /// The log, file or manager was closed (or its topic deleted).
        public static let closed = Code(.closed)
        /// A metadata or checkpoint file that cannot be parsed.
        public static let corruptFile = Code(.corruptFile)
        /// Another process (or another `LogManager` in this one) has the data directory open.
        public static let dataDirectoryLocked = Code(.dataDirectoryLocked)
        /// An idempotent producer's batch does not follow its last sequence (or a new epoch does
        /// not start at 0) (Kafka OUT_OF_ORDER_SEQUENCE_NUMBER).
        public static let outOfOrderSequence = Code(.outOfOrderSequence)
        /// A batch or marker with a producer epoch older than the producer's current one: a fenced
        /// ("zombie") producer (Kafka INVALID_PRODUCER_EPOCH).
        public static let invalidProducerEpoch = Code(.invalidProducerEpoch)
        /// A non-transactional batch from a producer with an ongoing transaction (Kafka
        /// INVALID_TXN_STATE).
        public static let invalidTxnState = Code(.invalidTxnState)
        /// A marker with a coordinator epoch older than the producer's last marker's (Kafka
        /// TRANSACTION_COORDINATOR_FENCED).
        public static let transactionCoordinatorFenced = Code(.transactionCoordinatorFenced)
        /// A record with a null key for a compacted topic (Kafka INVALID_RECORD with its message).
        public static let recordWithoutKey = Code(.recordWithoutKey)

        public var description: String { self.base.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String = "", cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    public var description: String {
        var text = "StorageError(\(self.code)): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }

    /// The Kafka error code a broker puts in its response for this error.
    public var kafkaErrorCode: KafkaErrorCode {
        switch self.code {
        case .corruptBatch: .corruptMessage
        case .invalidRecord, .recordWithoutKey: .invalidRecord
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .invalidTxnState: .invalidTxnState
        case .transactionCoordinatorFenced: .transactionCoordinatorFenced
        case .invalidTimestamp: .invalidTimestamp
        case .messageTooLarge: .messageTooLarge
        case .recordListTooLarge: .recordListTooLarge
        case .offsetOutOfRange: .offsetOutOfRange
        case .unknownTopicOrPartition, .closed: .unknownTopicOrPartition
        case .topicAlreadyExists: .topicAlreadyExists
        case .invalidTopic: .invalidTopicException
        case .invalidPartitions: .invalidPartitions
        case .invalidConfig: .invalidConfig
        // As Kafka answers for a failed log directory.
        case .diskFull, .io: .kafkaStorageError
        default: .unknownServerError
        }
    }
}
