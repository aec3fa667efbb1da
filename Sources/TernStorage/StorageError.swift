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
        case .invalidRecord: .invalidRecord
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
