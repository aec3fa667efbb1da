import NIOCore

/// OffsetCommit (key 8), v2–v3: a group member (or, with generation -1 and an empty member id, a
/// standalone consumer) stores committed offsets. v2–v4 carry a retention time that v5 dropped; v3
/// only adds throttle time to the response.
public struct OffsetCommitRequest: KafkaRequestMessage {
    public typealias Response = OffsetCommitResponse
    public static let apiKey = ApiKey.offsetCommit
    public static let versions: ClosedRange<Int16> = 2...3

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
        /// Opaque client data kept with the offset (null allowed).
        public var committedMetadata: String?

        public init(partitionIndex: Int32, committedOffset: Int64, committedMetadata: String? = nil) {
            self.partitionIndex = partitionIndex
            self.committedOffset = committedOffset
            self.committedMetadata = committedMetadata
        }
    }

    public var groupId: String
    /// The classic group's generation (the schema's name covers KIP-848 member epochs too);
    /// -1 for commits from consumers outside a group.
    public var generationIdOrMemberEpoch: Int32
    public var memberId: String
    /// -1 means "use the broker's offsets.retention.minutes".
    public var retentionTimeMs: Int64
    public var topics: [Topic]

    public init(
        groupId: String,
        generationIdOrMemberEpoch: Int32 = -1,
        memberId: String = "",
        retentionTimeMs: Int64 = -1,
        topics: [Topic]
    ) {
        self.groupId = groupId
        self.generationIdOrMemberEpoch = generationIdOrMemberEpoch
        self.memberId = memberId
        self.retentionTimeMs = retentionTimeMs
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            groupId: try buffer.readKafkaString(flexible: flexible),
            generationIdOrMemberEpoch: try buffer.readKafkaInteger(),
            memberId: try buffer.readKafkaString(flexible: flexible),
            retentionTimeMs: try buffer.readKafkaInteger(),
            topics: []
        )
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Partition(
                        partitionIndex: try buffer.readKafkaInteger(),
                        committedOffset: try buffer.readKafkaInteger(),
                        committedMetadata: try buffer.readKafkaNullableString(flexible: flexible)
                    )
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaString(self.groupId, flexible: flexible)
        buffer.writeInteger(self.generationIdOrMemberEpoch)
        buffer.writeKafkaString(self.memberId, flexible: flexible)
        buffer.writeInteger(self.retentionTimeMs)
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                buffer.writeInteger(partition.partitionIndex)
                buffer.writeInteger(partition.committedOffset)
                buffer.writeKafkaNullableString(partition.committedMetadata, flexible: flexible)
            }
        }
    }
}

/// One error code per committed partition. v3 adds throttle time.
public struct OffsetCommitResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.offsetCommit
    public static let versions: ClosedRange<Int16> = 2...3

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
        public var errorCode: KafkaErrorCode

        public init(partitionIndex: Int32, errorCode: KafkaErrorCode = .none) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
        }
    }

    public var throttleTimeMs: Int32
    public var topics: [Topic]

    public init(throttleTimeMs: Int32 = 0, topics: [Topic] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        if version >= 3 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Partition(partitionIndex: try buffer.readKafkaInteger(), errorCode: try buffer.readKafkaErrorCode())
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 3 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                buffer.writeInteger(partition.partitionIndex)
                buffer.writeKafkaErrorCode(partition.errorCode)
            }
        }
    }
}
