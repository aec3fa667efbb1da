import NIOCore

/// ListOffsets (key 2), v1–v2. v0 (several offsets per partition, `old_style_offsets`) is not
/// implemented; librdkafka needs v1 advertised (OffsetTime feature), v2 adds the isolation level.
public struct ListOffsetsRequest: KafkaRequestMessage {
    public typealias Response = ListOffsetsResponse
    public static let apiKey = ApiKey.listOffsets
    public static let versions: ClosedRange<Int16> = 1...2

    /// The `timestamp` that asks for the log end offset (or the last stable offset when read committed).
    public static let latestTimestamp: Int64 = -1
    /// The `timestamp` that asks for the log start offset.
    public static let earliestTimestamp: Int64 = -2

    public struct Partition: Hashable, Sendable {
        public var partitionIndex: Int32
        /// A time in ms for the first offset at or after it, or `latestTimestamp`/`earliestTimestamp`.
        public var timestamp: Int64

        public init(partitionIndex: Int32, timestamp: Int64) {
            self.partitionIndex = partitionIndex
            self.timestamp = timestamp
        }
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitions: [Partition]

        public init(name: String, partitions: [Partition]) {
            self.name = name
            self.partitions = partitions
        }
    }

    /// -1 for consumers.
    public var replicaId: Int32
    public var isolationLevel: IsolationLevel
    public var topics: [Topic]

    public init(replicaId: Int32 = -1, isolationLevel: IsolationLevel = .readUncommitted, topics: [Topic]) {
        self.replicaId = replicaId
        self.isolationLevel = isolationLevel
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(replicaId: try buffer.readKafkaInteger(), topics: [])
        if version >= 2 { self.isolationLevel = IsolationLevel(rawValue: try buffer.readKafkaInteger()) }
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Partition(partitionIndex: try buffer.readKafkaInteger(), timestamp: try buffer.readKafkaInteger())
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeInteger(self.replicaId)
        if version >= 2 { buffer.writeInteger(self.isolationLevel.rawValue) }
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                buffer.writeInteger(partition.partitionIndex)
                buffer.writeInteger(partition.timestamp)
            }
        }
    }
}

/// ListOffsets response, v1–v2: one timestamp and offset per partition; v2 adds the throttle time
/// (first field).
public struct ListOffsetsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.listOffsets
    public static let versions: ClosedRange<Int16> = 1...2

    public struct Partition: Hashable, Sendable {
        public var partitionIndex: Int32
        public var errorCode: KafkaErrorCode
        /// The timestamp of the returned offset, -1 for the earliest/latest queries.
        public var timestamp: Int64
        /// The offset found, -1 if none.
        public var offset: Int64

        public init(partitionIndex: Int32, errorCode: KafkaErrorCode = .none, timestamp: Int64 = -1, offset: Int64 = -1)
        {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
            self.timestamp = timestamp
            self.offset = offset
        }
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitions: [Partition]

        public init(name: String, partitions: [Partition]) {
            self.name = name
            self.partitions = partitions
        }
    }

    public var throttleTimeMs: Int32
    public var topics: [Topic]

    public init(throttleTimeMs: Int32 = 0, topics: [Topic]) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(topics: [])
        if version >= 2 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Partition(
                        partitionIndex: try buffer.readKafkaInteger(),
                        errorCode: try buffer.readKafkaErrorCode(),
                        timestamp: try buffer.readKafkaInteger(),
                        offset: try buffer.readKafkaInteger()
                    )
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 2 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitions, flexible: flexible) { buffer, partition in
                buffer.writeInteger(partition.partitionIndex)
                buffer.writeKafkaErrorCode(partition.errorCode)
                buffer.writeInteger(partition.timestamp)
                buffer.writeInteger(partition.offset)
            }
        }
    }
}
