import NIOCore

// Hand-written companions of the generated messages: the typed values of some integer fields, and
// named constants the schemas only describe in prose.

/// The isolation level of Fetch (v4+) and ListOffsets (v2+) requests (an int8 on the wire). Read
/// committed stops at the last stable offset and gets the aborted transactions in Fetch responses.
public struct IsolationLevel: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int8

    public init(rawValue: Int8) {
        self.rawValue = rawValue
    }

    public static let readUncommitted = Self(rawValue: 0)
    public static let readCommitted = Self(rawValue: 1)

    public var description: String {
        switch self {
        case .readUncommitted: "READ_UNCOMMITTED"
        case .readCommitted: "READ_COMMITTED"
        default: "IsolationLevel(\(self.rawValue))"
        }
    }
}

/// The kind of resource a config belongs to (Kafka's `ConfigResource.Type`, an int8). These ids
/// differ from the ACL resource types.
public struct ConfigResourceType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int8

    public init(rawValue: Int8) {
        self.rawValue = rawValue
    }

    public static let unknown = Self(rawValue: 0)
    public static let topic = Self(rawValue: 2)
    public static let broker = Self(rawValue: 4)
    public static let brokerLogger = Self(rawValue: 8)

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .topic: "TOPIC"
        case .broker: "BROKER"
        case .brokerLogger: "BROKER_LOGGER"
        default: "ConfigResourceType(\(self.rawValue))"
        }
    }
}

/// Where a config value comes from (DescribeConfigs v1+, an int8).
public struct ConfigSource: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int8

    public init(rawValue: Int8) {
        self.rawValue = rawValue
    }

    /// The schema's placeholder when the version carries no source (v0).
    public static let notReported = Self(rawValue: -1)
    public static let unknown = Self(rawValue: 0)
    public static let topicConfig = Self(rawValue: 1)
    public static let dynamicBrokerConfig = Self(rawValue: 2)
    public static let dynamicDefaultBrokerConfig = Self(rawValue: 3)
    public static let staticBrokerConfig = Self(rawValue: 4)
    public static let defaultConfig = Self(rawValue: 5)
    public static let dynamicBrokerLoggerConfig = Self(rawValue: 6)

    public var description: String {
        switch self {
        case .notReported: "NOT_REPORTED"
        case .unknown: "UNKNOWN_CONFIG"
        case .topicConfig: "TOPIC_CONFIG"
        case .dynamicBrokerConfig: "DYNAMIC_BROKER_CONFIG"
        case .dynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case .staticBrokerConfig: "STATIC_BROKER_CONFIG"
        case .defaultConfig: "DEFAULT_CONFIG"
        case .dynamicBrokerLoggerConfig: "DYNAMIC_BROKER_LOGGER_CONFIG"
        default: "ConfigSource(\(self.rawValue))"
        }
    }
}

extension ListOffsetsRequest {
    /// The `timestamp` that asks for the log end offset (or the last stable offset when read committed).
    public static let latestTimestamp: Int64 = -1
    /// The `timestamp` that asks for the log start offset.
    public static let earliestTimestamp: Int64 = -2
    /// The `timestamp` that asks for the offset of the record with the largest timestamp (v7+, KIP-734).
    public static let maxTimestamp: Int64 = -3
    /// The `timestamp` that asks for the first offset in local storage (v8+, KIP-405); without
    /// tiered storage the log start offset.
    public static let earliestLocalTimestamp: Int64 = -4
    /// The `timestamp` that asks for the last offset in tiered storage (v9+, KIP-1005); without
    /// tiered storage the offset before the local log start.
    public static let latestTieredTimestamp: Int64 = -5
}

extension DescribeGroupsResponse {
    /// `authorizedOperations` value meaning "not requested / not computed" (the schema default).
    public static let authorizedOperationsOmitted = Int32.min
}

extension MetadataRequest {
    /// A request that asks for every topic (null topics; v0 has no null and sends an empty list).
    public static let allTopics = MetadataRequest(topics: nil)
}

extension ProduceRequest {
    /// Whether the client waits for a response: with acks = 0 the broker must not send one.
    public var expectsResponse: Bool { self.acks != 0 }
}

extension FetchResponse.PartitionData {
    /// A partition that returns only an error: offsets unknown (-1), empty records (not null:
    /// librdkafka reads null records as a parse failure and refetches at once, as Kafka never
    /// sends them).
    public static func error(_ errorCode: KafkaErrorCode, partitionIndex: Int32) -> Self {
        Self(partitionIndex: partitionIndex, errorCode: errorCode, highWatermark: -1, records: ByteBuffer())
    }
}
