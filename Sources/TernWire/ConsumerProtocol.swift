import NIOCore

// The embedded payloads of the "consumer" group protocol: what consumers put in JoinGroup
// `protocols[].metadata` (subscription) and what the leader hands out through SyncGroup
// (assignment). They are not Kafka APIs: no API key, no header, just an int16 version followed by a
// non-flexible struct. The broker only stores and forwards them; clients and admin tools parse them.

/// The operations shared by `ConsumerProtocolSubscription` and `ConsumerProtocolAssignment`.
public protocol ConsumerProtocolPayload: Hashable, Sendable {
    /// The versions this codec knows. Higher versions are read as the highest known one.
    static var versions: ClosedRange<Int16> { get }

    /// Reads the body (after the version prefix) using the fields of `version`.
    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)
    /// Writes the body (without the version prefix) in the format of `version`.
    func write(to buffer: inout ByteBuffer, version: Int16)
}

extension ConsumerProtocolPayload {
    /// Decodes version-prefixed bytes. As Kafka's consumer does, a version above `versions` is read
    /// with the newest known layout and whatever follows it is ignored (later versions may only
    /// append fields), and so are bytes after the known fields at any version. Negative versions
    /// are refused.
    public static func decode(from bytes: ByteBuffer) throws(WireError) -> Self {
        var bytes = bytes
        let version: Int16 = try bytes.readKafkaInteger()
        guard version >= Self.versions.lowerBound else {
            throw WireError(.unsupportedVersion, "\(Self.self) version \(version) is below \(Self.versions)")
        }
        return try Self(from: &bytes, version: min(version, Self.versions.upperBound))
    }

    /// The version prefix followed by the body at `version`.
    public func encode(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        precondition(Self.versions.contains(version), "\(Self.self) version \(version) is outside \(Self.versions)")
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(version)
        self.write(to: &buffer, version: version)
        return buffer
    }
}

/// A topic and some of its partitions, as listed in both consumer protocol payloads.
public struct ConsumerProtocolTopicPartitions: Hashable, Sendable {
    public var topic: String
    public var partitions: [Int32]

    public init(topic: String, partitions: [Int32]) {
        self.topic = topic
        self.partitions = partitions
    }

    init(from buffer: inout ByteBuffer) throws(WireError) {
        self.init(
            topic: try buffer.readKafkaString(),
            partitions: try buffer.readKafkaArray { buffer throws(WireError) in try buffer.readKafkaInteger() }
        )
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeKafkaString(self.topic)
        buffer.writeKafkaArray(self.partitions) { buffer, partition in buffer.writeInteger(partition) }
    }
}

/// A consumer's subscription (JoinGroup protocol metadata), versions 0–3. v1 adds the partitions
/// the member owns (cooperative rebalancing), v2 the generation they were owned in, v3 the rack.
public struct ConsumerProtocolSubscription: ConsumerProtocolPayload {
    public static let versions: ClosedRange<Int16> = 0...3

    public var topics: [String]
    /// Assignor-specific data (e.g. the sticky assignor's previous assignment); null by default.
    public var userData: ByteBuffer?
    /// v1+.
    public var ownedPartitions: [ConsumerProtocolTopicPartitions]
    /// v2+; -1 when absent.
    public var generationId: Int32
    /// v3+.
    public var rackId: String?

    public init(
        topics: [String],
        userData: ByteBuffer? = nil,
        ownedPartitions: [ConsumerProtocolTopicPartitions] = [],
        generationId: Int32 = -1,
        rackId: String? = nil
    ) {
        self.topics = topics
        self.userData = userData
        self.ownedPartitions = ownedPartitions
        self.generationId = generationId
        self.rackId = rackId
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.init(
            topics: try buffer.readKafkaArray { buffer throws(WireError) in try buffer.readKafkaString() },
            userData: try buffer.readKafkaNullableBytes()
        )
        if version >= 1 {
            self.ownedPartitions = try buffer.readKafkaArray { buffer throws(WireError) in
                try ConsumerProtocolTopicPartitions(from: &buffer)
            }
        }
        if version >= 2 { self.generationId = try buffer.readKafkaInteger() }
        if version >= 3 { self.rackId = try buffer.readKafkaNullableString() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        buffer.writeKafkaArray(self.topics) { buffer, topic in buffer.writeKafkaString(topic) }
        buffer.writeKafkaNullableBytes(self.userData)
        if version >= 1 {
            buffer.writeKafkaArray(self.ownedPartitions) { buffer, entry in entry.write(to: &buffer) }
        }
        if version >= 2 { buffer.writeInteger(self.generationId) }
        if version >= 3 { buffer.writeKafkaNullableString(self.rackId) }
    }
}

/// A member's assignment (SyncGroup assignment bytes), versions 0–3. All four versions have the
/// same layout; the version only tells the member which subscription features the leader knows.
public struct ConsumerProtocolAssignment: ConsumerProtocolPayload {
    public static let versions: ClosedRange<Int16> = 0...3

    public var assignedPartitions: [ConsumerProtocolTopicPartitions]
    public var userData: ByteBuffer?

    public init(assignedPartitions: [ConsumerProtocolTopicPartitions], userData: ByteBuffer? = nil) {
        self.assignedPartitions = assignedPartitions
        self.userData = userData
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.init(
            assignedPartitions: try buffer.readKafkaArray { buffer throws(WireError) in
                try ConsumerProtocolTopicPartitions(from: &buffer)
            },
            userData: try buffer.readKafkaNullableBytes()
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        buffer.writeKafkaArray(self.assignedPartitions) { buffer, entry in entry.write(to: &buffer) }
        buffer.writeKafkaNullableBytes(self.userData)
    }
}
