/// A record batch (or a `records` field of batches) that cannot be accepted: malformed, corrupt,
/// in a format this module does not read, or compressed with a codec it cannot decode.
///
/// Equality and hashing compare `code` only, so tests can match on it; `message` says what exactly
/// was wrong and `cause` carries the underlying error (e.g. a `CompressionError`).
public struct RecordBatchError: Error, Hashable, CustomStringConvertible {
    /// What went wrong, at the level a caller acts on. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated, invalidLength, trailingBytes, invalidMagic, legacyMessageFormat, crcMismatch
            case invalidRecord, invalidRecordCount, invalidTimestamp, invalidProducerState
            case unsupportedCompression, decompressionFailed, decompressionLimitExceeded, compressionFailed
        }
        private let base: Base

        /// The bytes end before the batch (or record) does.
        public static let truncated = Code(base: .truncated)
        /// `batchLength` is smaller than a v2 header, or a length does not fit the format.
        public static let invalidLength = Code(base: .invalidLength)
        /// Bytes follow the batch where exactly one batch was expected.
        public static let trailingBytes = Code(base: .trailingBytes)
        /// The magic byte is neither 2 nor a legacy value (0, 1).
        public static let invalidMagic = Code(base: .invalidMagic)
        /// A legacy message set (magic 0 or 1), which this module does not read.
        public static let legacyMessageFormat = Code(base: .legacyMessageFormat)
        /// The CRC-32C stored in the header does not match the bytes it covers.
        public static let crcMismatch = Code(base: .crcMismatch)
        /// A record inside the batch is malformed (bad varint, length out of range, offset delta
        /// out of order, bytes left inside the record).
        public static let invalidRecord = Code(base: .invalidRecord)
        /// `recordCount` disagrees with `lastOffsetDelta` or with the records actually present, or is
        /// not positive where a producer batch needs records.
        public static let invalidRecordCount = Code(base: .invalidRecordCount)
        /// A producer batch claims LogAppendTime, which only the broker may set.
        public static let invalidTimestamp = Code(base: .invalidTimestamp)
        /// Producer id, epoch, sequence or the transactional/control bits are inconsistent.
        public static let invalidProducerState = Code(base: .invalidProducerState)
        /// Codec bits 5–7, or a codec this build cannot (de)compress.
        public static let unsupportedCompression = Code(base: .unsupportedCompression)
        /// The compressed records section is not a valid stream of its codec.
        public static let decompressionFailed = Code(base: .decompressionFailed)
        /// The decompressed records would exceed the caller's limit.
        public static let decompressionLimitExceeded = Code(base: .decompressionLimitExceeded)
        /// The codec library failed while building a batch (not a property of any input batch).
        public static let compressionFailed = Code(base: .compressionFailed)

        public var description: String { "\(self.base)" }

        // Exhaustive over `Base`, so a new code cannot be added without choosing its Kafka code.
        fileprivate var kafkaErrorCode: Int16 {
            switch self.base {
            case .truncated, .invalidLength, .invalidMagic, .crcMismatch, .decompressionFailed:
                return 2  // CORRUPT_MESSAGE
            case .trailingBytes, .legacyMessageFormat, .invalidRecord, .invalidRecordCount, .invalidProducerState,
                .decompressionLimitExceeded:
                return 87  // INVALID_RECORD
            case .invalidTimestamp:
                return 32  // INVALID_TIMESTAMP
            case .unsupportedCompression:
                return 76  // UNSUPPORTED_COMPRESSION_TYPE
            case .compressionFailed:
                return -1  // UNKNOWN_SERVER_ERROR
            }
        }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The Kafka error code a broker answers with for this failure (`Errors` in Kafka's clients):
    /// CORRUPT_MESSAGE (2) for damage to the batch's framing or checksum, INVALID_RECORD (87) for
    /// well-formed bytes whose content is refused (Kafka's `ProduceRequest.validateRecords` and
    /// `LogValidator` raise InvalidRecordException for legacy magic, extra batches and count or
    /// record errors), INVALID_TIMESTAMP (32), UNSUPPORTED_COMPRESSION_TYPE (76), and
    /// UNKNOWN_SERVER_ERROR (-1) for a local codec failure.
    public var kafkaErrorCode: Int16 { self.code.kafkaErrorCode }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
    public var description: String { "RecordBatchError(\(self.code)): \(self.message)" }
}
