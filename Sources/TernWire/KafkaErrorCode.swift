import NIOCore

/// A Kafka error code as carried in responses. Errors are data on the wire, not thrown Swift
/// errors: a response holds one per topic, partition or request.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    public static let unknownServerError = Self(rawValue: -1)
    public static let none = Self(rawValue: 0)
    public static let offsetOutOfRange = Self(rawValue: 1)
    public static let corruptMessage = Self(rawValue: 2)
    public static let unknownTopicOrPartition = Self(rawValue: 3)
    public static let invalidFetchSize = Self(rawValue: 4)
    public static let leaderNotAvailable = Self(rawValue: 5)
    public static let notLeaderOrFollower = Self(rawValue: 6)
    public static let requestTimedOut = Self(rawValue: 7)
    public static let messageTooLarge = Self(rawValue: 10)
    public static let offsetMetadataTooLarge = Self(rawValue: 12)
    public static let coordinatorLoadInProgress = Self(rawValue: 14)
    public static let coordinatorNotAvailable = Self(rawValue: 15)
    public static let notCoordinator = Self(rawValue: 16)
    public static let invalidTopicException = Self(rawValue: 17)
    public static let recordListTooLarge = Self(rawValue: 18)
    public static let invalidRequiredAcks = Self(rawValue: 21)
    public static let illegalGeneration = Self(rawValue: 22)
    public static let inconsistentGroupProtocol = Self(rawValue: 23)
    public static let invalidGroupId = Self(rawValue: 24)
    public static let unknownMemberId = Self(rawValue: 25)
    public static let invalidSessionTimeout = Self(rawValue: 26)
    public static let rebalanceInProgress = Self(rawValue: 27)
    public static let invalidCommitOffsetSize = Self(rawValue: 28)
    public static let topicAuthorizationFailed = Self(rawValue: 29)
    public static let groupAuthorizationFailed = Self(rawValue: 30)
    public static let clusterAuthorizationFailed = Self(rawValue: 31)
    public static let invalidTimestamp = Self(rawValue: 32)
    public static let unsupportedSaslMechanism = Self(rawValue: 33)
    public static let illegalSaslState = Self(rawValue: 34)
    public static let unsupportedVersion = Self(rawValue: 35)
    public static let topicAlreadyExists = Self(rawValue: 36)
    public static let invalidPartitions = Self(rawValue: 37)
    public static let invalidReplicationFactor = Self(rawValue: 38)
    public static let invalidReplicaAssignment = Self(rawValue: 39)
    public static let invalidConfig = Self(rawValue: 40)
    public static let notController = Self(rawValue: 41)
    public static let invalidRequest = Self(rawValue: 42)
    public static let unsupportedForMessageFormat = Self(rawValue: 43)
    public static let policyViolation = Self(rawValue: 44)
    public static let outOfOrderSequenceNumber = Self(rawValue: 45)
    public static let duplicateSequenceNumber = Self(rawValue: 46)
    public static let invalidProducerEpoch = Self(rawValue: 47)
    /// A transactional operation in a state that does not allow it (EndTxn on an Empty transaction,
    /// a transactional produce to a partition not in the transaction).
    public static let invalidTxnState = Self(rawValue: 48)
    /// The producer id is not the one the coordinator holds for the transactional id.
    public static let invalidProducerIdMapping = Self(rawValue: 49)
    public static let invalidTransactionTimeout = Self(rawValue: 50)
    /// Another transition of the transaction is in progress; retriable.
    public static let concurrentTransactions = Self(rawValue: 51)
    public static let transactionCoordinatorFenced = Self(rawValue: 52)
    public static let transactionalIdAuthorizationFailed = Self(rawValue: 53)
    public static let securityDisabled = Self(rawValue: 54)
    /// Not tried because another part of the same request failed (AddPartitionsToTxn).
    public static let operationNotAttempted = Self(rawValue: 55)
    /// A partition's storage failed (a disk error); Kafka's `KafkaStorageException`, retriable.
    public static let kafkaStorageError = Self(rawValue: 56)
    public static let saslAuthenticationFailed = Self(rawValue: 58)
    public static let unknownProducerId = Self(rawValue: 59)
    public static let nonEmptyGroup = Self(rawValue: 68)
    public static let groupIdNotFound = Self(rawValue: 69)
    public static let fetchSessionIdNotFound = Self(rawValue: 70)
    public static let invalidFetchSessionEpoch = Self(rawValue: 71)
    public static let fencedLeaderEpoch = Self(rawValue: 74)
    public static let unknownLeaderEpoch = Self(rawValue: 75)
    public static let unsupportedCompressionType = Self(rawValue: 76)
    public static let memberIdRequired = Self(rawValue: 79)
    public static let preferredLeaderNotAvailable = Self(rawValue: 80)
    public static let groupMaxSizeReached = Self(rawValue: 81)
    public static let fencedInstanceId = Self(rawValue: 82)
    public static let electionNotNeeded = Self(rawValue: 84)
    public static let groupSubscribedToTopic = Self(rawValue: 86)
    public static let invalidRecord = Self(rawValue: 87)
    /// OffsetFetch with require_stable: the partition has a transactional offset not yet committed or aborted.
    public static let unstableOffsetCommit = Self(rawValue: 88)
    /// A newer producer with the same transactional id has fenced this one (KIP-588; older request
    /// versions carry INVALID_PRODUCER_EPOCH instead).
    public static let producerFenced = Self(rawValue: 90)
    public static let resourceNotFound = Self(rawValue: 91)
    public static let duplicateResource = Self(rawValue: 92)
    public static let unacceptableCredential = Self(rawValue: 93)
    public static let unknownTopicId = Self(rawValue: 100)
    public static let transactionalIdNotFound = Self(rawValue: 105)
    public static let mismatchedEndpointType = Self(rawValue: 114)
    public static let unsupportedEndpointType = Self(rawValue: 115)
    /// The transaction cannot continue but the client may abort it and go on (KIP-890).
    public static let transactionAbortable = Self(rawValue: 120)

    private static let names: [Int16: String] = [
        -1: "UNKNOWN_SERVER_ERROR", 0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE",
        3: "UNKNOWN_TOPIC_OR_PARTITION", 4: "INVALID_FETCH_SIZE", 5: "LEADER_NOT_AVAILABLE",
        6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 10: "MESSAGE_TOO_LARGE",
        12: "OFFSET_METADATA_TOO_LARGE", 14: "COORDINATOR_LOAD_IN_PROGRESS", 15: "COORDINATOR_NOT_AVAILABLE",
        16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION", 18: "RECORD_LIST_TOO_LARGE",
        21: "INVALID_REQUIRED_ACKS", 22: "ILLEGAL_GENERATION", 23: "INCONSISTENT_GROUP_PROTOCOL",
        24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID", 26: "INVALID_SESSION_TIMEOUT",
        27: "REBALANCE_IN_PROGRESS", 28: "INVALID_COMMIT_OFFSET_SIZE", 29: "TOPIC_AUTHORIZATION_FAILED",
        30: "GROUP_AUTHORIZATION_FAILED", 31: "CLUSTER_AUTHORIZATION_FAILED", 32: "INVALID_TIMESTAMP",
        33: "UNSUPPORTED_SASL_MECHANISM",
        34: "ILLEGAL_SASL_STATE", 35: "UNSUPPORTED_VERSION", 36: "TOPIC_ALREADY_EXISTS",
        37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR", 39: "INVALID_REPLICA_ASSIGNMENT",
        40: "INVALID_CONFIG", 41: "NOT_CONTROLLER", 42: "INVALID_REQUEST", 43: "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        44: "POLICY_VIOLATION", 45: "OUT_OF_ORDER_SEQUENCE_NUMBER", 46: "DUPLICATE_SEQUENCE_NUMBER",
        47: "INVALID_PRODUCER_EPOCH", 48: "INVALID_TXN_STATE",
        49: "INVALID_PRODUCER_ID_MAPPING", 50: "INVALID_TRANSACTION_TIMEOUT", 51: "CONCURRENT_TRANSACTIONS",
        52: "TRANSACTION_COORDINATOR_FENCED", 53: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        54: "SECURITY_DISABLED", 55: "OPERATION_NOT_ATTEMPTED", 56: "KAFKA_STORAGE_ERROR",
        58: "SASL_AUTHENTICATION_FAILED",
        59: "UNKNOWN_PRODUCER_ID", 68: "NON_EMPTY_GROUP", 69: "GROUP_ID_NOT_FOUND",
        70: "FETCH_SESSION_ID_NOT_FOUND", 71: "INVALID_FETCH_SESSION_EPOCH", 74: "FENCED_LEADER_EPOCH",
        75: "UNKNOWN_LEADER_EPOCH", 76: "UNSUPPORTED_COMPRESSION_TYPE", 79: "MEMBER_ID_REQUIRED",
        80: "PREFERRED_LEADER_NOT_AVAILABLE", 81: "GROUP_MAX_SIZE_REACHED", 82: "FENCED_INSTANCE_ID",
        84: "ELECTION_NOT_NEEDED", 86: "GROUP_SUBSCRIBED_TO_TOPIC",
        87: "INVALID_RECORD", 88: "UNSTABLE_OFFSET_COMMIT", 90: "PRODUCER_FENCED", 91: "RESOURCE_NOT_FOUND",
        92: "DUPLICATE_RESOURCE", 93: "UNACCEPTABLE_CREDENTIAL",
        100: "UNKNOWN_TOPIC_ID", 105: "TRANSACTIONAL_ID_NOT_FOUND", 114: "MISMATCHED_ENDPOINT_TYPE",
        115: "UNSUPPORTED_ENDPOINT_TYPE", 120: "TRANSACTION_ABORTABLE",
    ]

    /// Kafka's name for the code, e.g. `UNKNOWN_TOPIC_OR_PARTITION`.
    public var name: String { Self.names[self.rawValue] ?? "UNKNOWN_ERROR_\(self.rawValue)" }

    public var description: String { "\(self.name)(\(self.rawValue))" }

    /// Errors a client may retry after refreshing metadata or waiting (Kafka's `RetriableException`s).
    public var isRetriable: Bool {
        switch self {
        case .corruptMessage, .unknownTopicOrPartition, .leaderNotAvailable, .notLeaderOrFollower,
            .requestTimedOut, .coordinatorLoadInProgress, .coordinatorNotAvailable, .notCoordinator,
            .fetchSessionIdNotFound, .invalidFetchSessionEpoch, .fencedLeaderEpoch, .unknownLeaderEpoch,
            .kafkaStorageError:
            true
        default:
            false
        }
    }
}

extension ByteBuffer {
    @inlinable
    public mutating func readKafkaErrorCode() throws(WireError) -> KafkaErrorCode {
        KafkaErrorCode(rawValue: try self.readKafkaInteger(as: Int16.self))
    }

    @inlinable
    public mutating func writeKafkaErrorCode(_ code: KafkaErrorCode) {
        self.writeInteger(code.rawValue)
    }
}
