public import NIOCore
public import TernRecords
public import TernWire
public import Tracing

/// A record read from a partition.
public struct ConsumerRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch: the producer's time, or the broker's when `timestampType`
    /// is `.logAppendTime`.
    public var timestamp: Int64
    public var timestampType: TimestampType
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    /// With a tracer active: the context of the record's "process" span (a child of the producer's
    /// span when the record carried one), to parent spans of its processing with
    /// `ServiceContext.withValue(record.traceContext)`. nil without a tracer.
    public var traceContext: ServiceContext?

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        timestamp: Int64,
        timestampType: TimestampType = .createTime,
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [RecordHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.headers = headers
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: self.topic, partition: self.partition) }

    /// The key as UTF-8 text (invalid bytes replaced).
    public var keyString: String? { self.key.map { String(buffer: $0) } }
    /// The value as UTF-8 text (invalid bytes replaced).
    public var valueString: String? { self.value.map { String(buffer: $0) } }
}

/// A consumer's group, generation and member id, which a transactional producer commits offsets
/// under (`Producer.sendOffsetsToTransaction`, Kafka's `ConsumerGroupMetadata`).
public struct ConsumerGroupMetadata: Hashable, Sendable {
    public var groupId: String
    /// -1: not checked against the group's generation.
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?

    public init(groupId: String, generationId: Int32 = -1, memberId: String = "", groupInstanceId: String? = nil) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }
}

/// Whose clock a record's timestamp comes from.
public enum TimestampType: Hashable, Sendable {
    /// The producer's.
    case createTime
    /// The broker's, at append (topics with `message.timestamp.type=LogAppendTime`).
    case logAppendTime
}

/// Things that happen to a consumer besides records.
public enum ConsumerEvent: Hashable, Sendable {
    /// The group gave this consumer these partitions (all of its assignment); in assign mode,
    /// once at the start.
    case assigned([TopicPartition])
    /// These partitions were taken away (before a rebalance); their positions were committed first
    /// when auto-commit is on.
    case revoked([TopicPartition])
    /// Every record of the partition up to this offset has been delivered (kcat's EOF).
    case partitionEOF(TopicPartition, offset: Int64)
}

/// Consumer settings; defaults follow the Java client where they apply.
public struct ConsumerConfiguration: Sendable {
    public enum Mode: Sendable {
        /// Read exactly these partitions from these offsets. No group membership; commits (and
        /// `.stored`) need `groupId`.
        case assign([TopicPartition: OffsetSpec])
        /// Join a consumer group and read the partitions it assigns.
        case group(id: String, topics: [String])
    }

    public var client: ClientConfiguration
    public var mode: Mode
    /// The group whose offsets `commit` writes and `.stored` reads in assign mode.
    public var groupId: String?
    /// Where to start when there is no committed offset, or the position is out of range.
    /// `.earliest` or `.latest` (Kafka's `auto.offset.reset`).
    public var autoOffsetReset: OffsetSpec = .latest
    public var enableAutoCommit: Bool = true
    public var autoCommitInterval: Duration = .seconds(5)
    public var sessionTimeout: Duration = .seconds(45)
    public var heartbeatInterval: Duration = .seconds(3)
    public var rebalanceTimeout: Duration = .seconds(60)
    /// In preference order; the group picks the first every member supports.
    public var assignors: [PartitionAssignor] = [.range, .roundRobin]
    public var fetchMaxWait: Duration = .milliseconds(500)
    public var fetchMinBytes: Int = 1
    public var fetchMaxBytes: Int = 50 * 1024 * 1024
    public var maxPartitionFetchBytes: Int = 1024 * 1024
    /// Fetched but undelivered bytes per partition before fetching it pauses.
    public var maxPrefetchBytesPerPartition: Int = 4 * 1024 * 1024
    /// Most bytes one batch may decompress to (a zip bomb costs at most this).
    public var decompressionLimit: Int = 256 * 1024 * 1024
    /// `.readCommitted`: only records of committed transactions (and non-transactional ones), up
    /// to the last stable offset; `.readUncommitted` (the default, as Kafka's) every record.
    /// Transaction markers are never delivered.
    public var isolationLevel: IsolationLevel = .readUncommitted
    /// End the record sequence once every assigned partition has been read to its end (kcat's
    /// `-e`), instead of waiting for more.
    public var stopAtEnd: Bool = false
    /// Client id, host and group instance id for static membership are not supported.
    public init(client: ClientConfiguration, mode: Mode) {
        self.client = client
        self.mode = mode
        if case .group(let id, _) = mode { self.groupId = id }
    }

    public init(bootstrapServers: [String], mode: Mode) {
        self.init(client: ClientConfiguration(bootstrapServers: bootstrapServers), mode: mode)
    }
}
