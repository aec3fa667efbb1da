public import NIOCore
public import TernCompression
public import TernRecords

/// A record to produce.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// nil: the configured `Partitioner` picks (by default murmur2 of the key as the Java client
    /// does; sticky for null keys).
    public var partition: Int32?
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    /// Milliseconds since the epoch; nil: the time of `send`.
    public var timestamp: Int64?

    public init(
        topic: String,
        partition: Int32? = nil,
        key: ByteBuffer? = nil,
        value: ByteBuffer?,
        headers: [RecordHeader] = [],
        timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record with UTF-8 key and value.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: String? = nil,
        value: String?,
        headers: [RecordHeader] = [],
        timestamp: Int64? = nil
    ) {
        self.init(
            topic: topic,
            partition: partition,
            key: key.map { ByteBuffer(string: $0) },
            value: value.map { ByteBuffer(string: $0) },
            headers: headers,
            timestamp: timestamp
        )
    }

    /// A record with raw bytes.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [RecordHeader] = [],
        timestamp: Int64? = nil
    ) {
        self.init(
            topic: topic,
            partition: partition,
            key: key.map { ByteBuffer(bytes: $0) },
            value: value.map { ByteBuffer(bytes: $0) },
            headers: headers,
            timestamp: timestamp
        )
    }

    /// Bytes the record takes in a batch, roughly (for batch and buffer accounting).
    var estimatedSize: Int {
        var size = 24 + (self.key?.readableBytes ?? 0) + (self.value?.readableBytes ?? 0)
        for header in self.headers { size += 8 + header.key.utf8.count + (header.value?.readableBytes ?? 0) }
        return size
    }
}

/// Where a produced record was written.
public struct RecordMetadata: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    /// -1 with acks=0, which gets no answer.
    public var offset: Int64
    /// The record's timestamp, or the broker's append time when the topic uses LogAppendTime.
    public var timestamp: Int64
}

/// How many acknowledgements a produce request waits for.
public enum Acks: Hashable, Sendable {
    /// No answer at all (acks=0): fastest, and a lost record goes unnoticed.
    case none
    /// The leader wrote the batch (acks=1).
    case leader
    /// The batch is durable on every in-sync replica; on Tern, fsynced (acks=-1/all).
    case all

    var wireValue: Int16 {
        switch self {
        case .none: 0
        case .leader: 1
        case .all: -1
        }
    }
}

/// Producer settings; the defaults are the Java client's where they apply.
public struct ProducerConfiguration: Sendable {
    public var client: ClientConfiguration
    /// Default `.all` (as Kafka's producer since 3.0).
    public var acks: Acks = .all
    public var compression: CompressionCodec = .none
    /// Level for the codec (nil: its default).
    public var compressionLevel: Int? = nil
    /// How long a partition's batch may wait for more records before it is sent.
    public var linger: Duration = .milliseconds(5)
    /// Upper bound of a batch's uncompressed bytes.
    public var batchSize: Int = 1_000_000
    /// Bytes of records buffered and in flight; `send` and `enqueue` suspend while it is used up.
    public var bufferMemory: Int = 64 * 1024 * 1024
    /// Idempotent producer: the broker drops duplicates a retry would create.
    public var idempotent: Bool = true
    /// Makes the producer transactional (Kafka's `transactional.id`): `initTransactions`, then
    /// records are sent between `beginTransaction` and `commitTransaction`/`abortTransaction`,
    /// and a newer producer with the same id fences this one. Stable across restarts of one
    /// logical producer (one per input partition set of a consume-transform-produce loop).
    public var transactionalId: String? = nil
    /// How long the coordinator lets a transaction stay open before aborting it (Kafka's
    /// `transaction.timeout.ms`; the broker caps it with `transaction.max.timeout.ms`).
    public var transactionTimeout: Duration = .seconds(60)
    /// How long a record may take from `send` to its acknowledgement, retries included.
    public var deliveryTimeout: Duration = .seconds(120)
    public var retryBackoff: Duration = .milliseconds(100)
    /// The broker-side timeout of a produce request (acks=all waits for durability this long).
    public var requestTimeout: Duration = .seconds(30)
    /// Largest record accepted; bigger ones fail with MESSAGE_TOO_LARGE before they are sent.
    public var messageMaxBytes: Int = 1_000_000
    /// Whether producing to an unknown topic asks the broker to create it (Kafka's
    /// `allow.auto.create.topics`).
    public var allowAutoTopicCreation: Bool = true
    /// How records without a partition are placed; the default is the Java client's.
    public var partitioner: Partitioner = .javaDefault
    /// librdkafka's `sticky.partitioning.linger.ms` for its partitioners: how long null-key
    /// records stay on one partition (zero: a random partition each). Unused by `.javaDefault`,
    /// which sticks to a partition until its batch is sent.
    public var stickyPartitioningLinger: Duration = .milliseconds(10)

    public init(client: ClientConfiguration) {
        self.client = client
    }

    public init(bootstrapServers: [String]) {
        self.init(client: ClientConfiguration(bootstrapServers: bootstrapServers))
    }
}
