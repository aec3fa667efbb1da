import NIOCore

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

/// Fetch (key 1), v4–v11: v4 is the first version with v2 record batches and the isolation level,
/// v7 adds fetch sessions (KIP-227), v9 the current leader epoch, v11 the rack id (KIP-392).
/// v12 is the first flexible version.
public struct FetchRequest: KafkaRequestMessage {
    public typealias Response = FetchResponse
    public static let apiKey = ApiKey.fetch
    public static let versions: ClosedRange<Int16> = 4...11

    public struct Partition: Hashable, Sendable {
        public var partition: Int32
        public var currentLeaderEpoch: Int32
        public var fetchOffset: Int64
        /// Only meaningful from followers; consumers send -1.
        public var logStartOffset: Int64
        public var partitionMaxBytes: Int32

        public init(
            partition: Int32,
            currentLeaderEpoch: Int32 = -1,
            fetchOffset: Int64,
            logStartOffset: Int64 = -1,
            partitionMaxBytes: Int32
        ) {
            self.partition = partition
            self.currentLeaderEpoch = currentLeaderEpoch
            self.fetchOffset = fetchOffset
            self.logStartOffset = logStartOffset
            self.partitionMaxBytes = partitionMaxBytes
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            self.init(partition: try buffer.readKafkaInteger(), fetchOffset: 0, partitionMaxBytes: 0)
            if version >= 9 { self.currentLeaderEpoch = try buffer.readKafkaInteger() }
            self.fetchOffset = try buffer.readKafkaInteger()
            if version >= 5 { self.logStartOffset = try buffer.readKafkaInteger() }
            self.partitionMaxBytes = try buffer.readKafkaInteger()
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            buffer.writeInteger(self.partition)
            if version >= 9 { buffer.writeInteger(self.currentLeaderEpoch) }
            buffer.writeInteger(self.fetchOffset)
            if version >= 5 { buffer.writeInteger(self.logStartOffset) }
            buffer.writeInteger(self.partitionMaxBytes)
        }
    }

    public struct Topic: Hashable, Sendable {
        public var topic: String
        public var partitions: [Partition]

        public init(topic: String, partitions: [Partition]) {
            self.topic = topic
            self.partitions = partitions
        }
    }

    /// In an incremental fetch (v7+), partitions to drop from the session.
    public struct ForgottenTopic: Hashable, Sendable {
        public var topic: String
        public var partitions: [Int32]

        public init(topic: String, partitions: [Int32]) {
            self.topic = topic
            self.partitions = partitions
        }
    }

    /// -1 for consumers, the broker id for followers.
    public var replicaId: Int32
    public var maxWaitMs: Int32
    public var minBytes: Int32
    public var maxBytes: Int32
    public var isolationLevel: IsolationLevel
    /// The fetch session (v7+): 0 and epoch -1 mean a full fetch without a session.
    public var sessionId: Int32
    public var sessionEpoch: Int32
    public var topics: [Topic]
    public var forgottenTopicsData: [ForgottenTopic]
    /// The consumer's rack (v11+), for follower fetching; empty when unset.
    public var rackId: String

    public init(
        replicaId: Int32 = -1,
        maxWaitMs: Int32,
        minBytes: Int32,
        maxBytes: Int32 = Int32.max,
        isolationLevel: IsolationLevel = .readUncommitted,
        sessionId: Int32 = 0,
        sessionEpoch: Int32 = -1,
        topics: [Topic],
        forgottenTopicsData: [ForgottenTopic] = [],
        rackId: String = ""
    ) {
        self.replicaId = replicaId
        self.maxWaitMs = maxWaitMs
        self.minBytes = minBytes
        self.maxBytes = maxBytes
        self.isolationLevel = isolationLevel
        self.sessionId = sessionId
        self.sessionEpoch = sessionEpoch
        self.topics = topics
        self.forgottenTopicsData = forgottenTopicsData
        self.rackId = rackId
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            replicaId: try buffer.readKafkaInteger(),
            maxWaitMs: try buffer.readKafkaInteger(),
            minBytes: try buffer.readKafkaInteger(),
            maxBytes: try buffer.readKafkaInteger(),
            isolationLevel: IsolationLevel(rawValue: try buffer.readKafkaInteger()),
            topics: []
        )
        if version >= 7 {
            self.sessionId = try buffer.readKafkaInteger()
            self.sessionEpoch = try buffer.readKafkaInteger()
        }
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                topic: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try Partition(from: &buffer, version: version)
                }
            )
        }
        if version >= 7 {
            self.forgottenTopicsData = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                ForgottenTopic(
                    topic: try buffer.readKafkaString(flexible: flexible),
                    partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                        try buffer.readKafkaInteger(as: Int32.self)
                    }
                )
            }
        }
        if version >= 11 { self.rackId = try buffer.readKafkaString(flexible: flexible) }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeInteger(self.replicaId)
        buffer.writeInteger(self.maxWaitMs)
        buffer.writeInteger(self.minBytes)
        buffer.writeInteger(self.maxBytes)
        buffer.writeInteger(self.isolationLevel.rawValue)
        if version >= 7 {
            buffer.writeInteger(self.sessionId)
            buffer.writeInteger(self.sessionEpoch)
        }
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.topic, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                partition.write(to: &buffer, version: version)
            }
        }
        if version >= 7 {
            buffer.writeKafkaArray(self.forgottenTopicsData, flexible: flexible) { buffer, forgotten in
                buffer.writeKafkaString(forgotten.topic, flexible: flexible)
                buffer.writeKafkaArray(forgotten.partitions, flexible: flexible) { $0.writeInteger($1) }
            }
        }
        if version >= 11 { buffer.writeKafkaString(self.rackId, flexible: flexible) }
    }
}

/// Fetch response, v4–v11: v5 adds the log start offset, v7 the top-level error code and session
/// id, v11 the preferred read replica. Records stay raw bytes; null and empty both mean no data.
public struct FetchResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.fetch
    public static let versions: ClosedRange<Int16> = 4...11

    public struct AbortedTransaction: Hashable, Sendable {
        public var producerId: Int64
        public var firstOffset: Int64

        public init(producerId: Int64, firstOffset: Int64) {
            self.producerId = producerId
            self.firstOffset = firstOffset
        }
    }

    public struct Partition: Hashable, Sendable {
        public var partitionIndex: Int32
        public var errorCode: KafkaErrorCode
        public var highWatermark: Int64
        public var lastStableOffset: Int64
        public var logStartOffset: Int64
        /// Aborted transactions in the returned range, for read-committed fetches; nil otherwise.
        public var abortedTransactions: [AbortedTransaction]?
        /// The replica the consumer should fetch from next (v11+), -1 for none.
        public var preferredReadReplica: Int32
        /// The record batches, not parsed here. The last batch may be cut short by the size limits.
        public var records: ByteBuffer?

        public init(
            partitionIndex: Int32,
            errorCode: KafkaErrorCode = .none,
            highWatermark: Int64,
            lastStableOffset: Int64 = -1,
            logStartOffset: Int64 = -1,
            abortedTransactions: [AbortedTransaction]? = nil,
            preferredReadReplica: Int32 = -1,
            records: ByteBuffer?
        ) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
            self.highWatermark = highWatermark
            self.lastStableOffset = lastStableOffset
            self.logStartOffset = logStartOffset
            self.abortedTransactions = abortedTransactions
            self.preferredReadReplica = preferredReadReplica
            self.records = records
        }

        /// A partition that returns only an error: offsets unknown (-1), no records.
        public static func error(_ errorCode: KafkaErrorCode, partitionIndex: Int32) -> Self {
            Self(partitionIndex: partitionIndex, errorCode: errorCode, highWatermark: -1, records: nil)
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = FetchResponse.isFlexible(version)
            self.init(
                partitionIndex: try buffer.readKafkaInteger(),
                errorCode: try buffer.readKafkaErrorCode(),
                highWatermark: try buffer.readKafkaInteger(),
                lastStableOffset: try buffer.readKafkaInteger(),
                records: nil
            )
            if version >= 5 { self.logStartOffset = try buffer.readKafkaInteger() }
            self.abortedTransactions = try buffer.readKafkaNullableArray(flexible: flexible) {
                buffer throws(WireError) in
                AbortedTransaction(
                    producerId: try buffer.readKafkaInteger(),
                    firstOffset: try buffer.readKafkaInteger()
                )
            }
            if version >= 11 { self.preferredReadReplica = try buffer.readKafkaInteger() }
            self.records = try buffer.readKafkaNullableBytes(flexible: flexible)
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = FetchResponse.isFlexible(version)
            buffer.writeInteger(self.partitionIndex)
            buffer.writeKafkaErrorCode(self.errorCode)
            buffer.writeInteger(self.highWatermark)
            buffer.writeInteger(self.lastStableOffset)
            if version >= 5 { buffer.writeInteger(self.logStartOffset) }
            buffer.writeKafkaNullableArray(self.abortedTransactions, flexible: flexible) { buffer, aborted in
                buffer.writeInteger(aborted.producerId)
                buffer.writeInteger(aborted.firstOffset)
            }
            if version >= 11 { buffer.writeInteger(self.preferredReadReplica) }
            buffer.writeKafkaNullableBytes(self.records, flexible: flexible)
        }
    }

    public struct Topic: Hashable, Sendable {
        public var topic: String
        public var partitions: [Partition]

        public init(topic: String, partitions: [Partition]) {
            self.topic = topic
            self.partitions = partitions
        }
    }

    public var throttleTimeMs: Int32
    /// Top-level error (v7+), e.g. an unknown fetch session; the topics are then empty.
    public var errorCode: KafkaErrorCode
    public var sessionId: Int32
    public var responses: [Topic]

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: KafkaErrorCode = .none,
        sessionId: Int32 = 0,
        responses: [Topic]
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.sessionId = sessionId
        self.responses = responses
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(throttleTimeMs: try buffer.readKafkaInteger(), responses: [])
        if version >= 7 {
            self.errorCode = try buffer.readKafkaErrorCode()
            self.sessionId = try buffer.readKafkaInteger()
        }
        self.responses = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                topic: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try Partition(from: &buffer, version: version)
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeInteger(self.throttleTimeMs)
        if version >= 7 {
            buffer.writeKafkaErrorCode(self.errorCode)
            buffer.writeInteger(self.sessionId)
        }
        buffer.writeKafkaArray(self.responses, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.topic, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                partition.write(to: &buffer, version: version)
            }
        }
    }
}
