import NIOCore

/// OffsetDelete (key 47), v0 (never flexible): deletes a group's committed offsets for partitions
/// its members no longer consume.
public struct OffsetDeleteRequest: KafkaRequestMessage {
    public typealias Response = OffsetDeleteResponse
    public static let apiKey = ApiKey.offsetDelete
    public static let versions: ClosedRange<Int16> = 0...0

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitionIndexes: [Int32]

        public init(name: String, partitionIndexes: [Int32]) {
            self.name = name
            self.partitionIndexes = partitionIndexes
        }
    }

    public var groupId: String
    public var topics: [Topic]

    public init(groupId: String, topics: [Topic]) {
        self.groupId = groupId
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.groupId = try buffer.readKafkaString()
        self.topics = try buffer.readKafkaArray { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(),
                partitionIndexes: try buffer.readKafkaArray { buffer throws(WireError) in try buffer.readKafkaInteger()
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        buffer.writeKafkaString(self.groupId)
        buffer.writeKafkaArray(self.topics) { buffer, topic in
            buffer.writeKafkaString(topic.name)
            buffer.writeKafkaArray(topic.partitionIndexes) { $0.writeInteger($1) }
        }
    }
}

public struct OffsetDeleteResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.offsetDelete
    public static let versions: ClosedRange<Int16> = 0...0

    public struct Partition: Hashable, Sendable {
        public var partitionIndex: Int32
        public var errorCode: KafkaErrorCode

        public init(partitionIndex: Int32, errorCode: KafkaErrorCode = .none) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
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

    public var errorCode: KafkaErrorCode
    public var throttleTimeMs: Int32
    public var topics: [Topic]

    public init(errorCode: KafkaErrorCode = .none, throttleTimeMs: Int32 = 0, topics: [Topic]) {
        self.errorCode = errorCode
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.errorCode = try buffer.readKafkaErrorCode()
        self.throttleTimeMs = try buffer.readKafkaInteger()
        self.topics = try buffer.readKafkaArray { buffer throws(WireError) in
            Topic(
                name: try buffer.readKafkaString(),
                partitions: try buffer.readKafkaArray { buffer throws(WireError) in
                    Partition(partitionIndex: try buffer.readKafkaInteger(), errorCode: try buffer.readKafkaErrorCode())
                }
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        buffer.writeKafkaErrorCode(self.errorCode)
        buffer.writeInteger(self.throttleTimeMs)
        buffer.writeKafkaArray(self.topics) { buffer, topic in
            buffer.writeKafkaString(topic.name)
            buffer.writeKafkaArray(topic.partitions) { buffer, partition in
                buffer.writeInteger(partition.partitionIndex)
                buffer.writeKafkaErrorCode(partition.errorCode)
            }
        }
    }
}
