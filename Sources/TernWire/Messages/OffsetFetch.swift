import NIOCore

/// OffsetFetch (key 9), v1–v3: a group's committed offsets. From v2 a null topic list asks for
/// every partition the group has committed; v1 cannot express that (its list is not nullable).
public struct OffsetFetchRequest: KafkaRequestMessage {
    public typealias Response = OffsetFetchResponse
    public static let apiKey = ApiKey.offsetFetch
    public static let versions: ClosedRange<Int16> = 1...3

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitionIndexes: [Int32]

        public init(name: String, partitionIndexes: [Int32]) {
            self.name = name
            self.partitionIndexes = partitionIndexes
        }
    }

    public var groupId: String
    /// nil (v2+ only) = all committed partitions of the group. Writing nil at v1 is a programming
    /// error, as in Kafka's generated code.
    public var topics: [Topic]?

    public init(groupId: String, topics: [Topic]?) {
        self.groupId = groupId
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(groupId: try buffer.readKafkaString(flexible: flexible), topics: nil)
        let readTopic = { (buffer: inout ByteBuffer) throws(WireError) -> Topic in
            Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                partitionIndexes: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try buffer.readKafkaInteger()
                }
            )
        }
        if version >= 2 {
            self.topics = try buffer.readKafkaNullableArray(flexible: flexible, readTopic)
        } else {
            self.topics = try buffer.readKafkaArray(flexible: flexible, readTopic)
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        precondition(version >= 2 || self.topics != nil, "OffsetFetch v\(version) cannot ask for all topics (null)")
        buffer.writeKafkaString(self.groupId, flexible: flexible)
        buffer.writeKafkaNullableArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitionIndexes, flexible: flexible) { buffer, index in
                buffer.writeInteger(index)
            }
        }
    }
}

/// Committed offset per partition: -1 with error 0 for a partition never committed. v2 adds a
/// top-level error code (e.g. COORDINATOR_LOAD_IN_PROGRESS, which v1 reports per partition);
/// v3 adds throttle time.
public struct OffsetFetchResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.offsetFetch
    public static let versions: ClosedRange<Int16> = 1...3

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitions: [Partition]

        public init(name: String, partitions: [Partition]) {
            self.name = name
            self.partitions = partitions
        }
    }

    public struct Partition: Hashable, Sendable {
        public var partitionIndex: Int32
        public var committedOffset: Int64
        public var metadata: String?
        public var errorCode: KafkaErrorCode

        public init(
            partitionIndex: Int32,
            committedOffset: Int64,
            metadata: String? = nil,
            errorCode: KafkaErrorCode = .none
        ) {
            self.partitionIndex = partitionIndex
            self.committedOffset = committedOffset
            self.metadata = metadata
            self.errorCode = errorCode
        }
    }

    public var throttleTimeMs: Int32
    public var topics: [Topic]
    /// v2+; absent (0) in v1.
    public var errorCode: KafkaErrorCode

    public init(throttleTimeMs: Int32 = 0, topics: [Topic] = [], errorCode: KafkaErrorCode = .none) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
        self.errorCode = errorCode
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        if version >= 3 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Partition(
                        partitionIndex: try buffer.readKafkaInteger(),
                        committedOffset: try buffer.readKafkaInteger(),
                        metadata: try buffer.readKafkaNullableString(flexible: flexible),
                        errorCode: try buffer.readKafkaErrorCode()
                    )
                }
            )
        }
        if version >= 2 { self.errorCode = try buffer.readKafkaErrorCode() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 3 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                buffer.writeInteger(partition.partitionIndex)
                buffer.writeInteger(partition.committedOffset)
                buffer.writeKafkaNullableString(partition.metadata, flexible: flexible)
                buffer.writeKafkaErrorCode(partition.errorCode)
            }
        }
        if version >= 2 { buffer.writeKafkaErrorCode(self.errorCode) }
    }
}
