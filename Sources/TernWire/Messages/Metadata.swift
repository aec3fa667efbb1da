import NIOCore

/// Metadata (key 3), v1–v4. v0 is left out: its topics array cannot be null, so "all topics" was an
/// empty array there, while from v1 null means all topics and an empty array means none.
public struct MetadataRequest: KafkaRequestMessage {
    public typealias Response = MetadataResponse
    public static let apiKey = ApiKey.metadata
    public static let versions: ClosedRange<Int16> = 1...4

    /// A request that asks for every topic.
    public static let allTopics = MetadataRequest(topics: nil)

    public struct Topic: Hashable, Sendable {
        public var name: String

        public init(name: String) {
            self.name = name
        }
    }

    /// The topics to describe: nil for all topics, empty for none (only brokers and controller).
    public var topics: [Topic]?
    /// Whether the broker may auto-create the requested topics (v4+; older clients always allow it).
    public var allowAutoTopicCreation: Bool

    public init(topics: [Topic]?, allowAutoTopicCreation: Bool = true) {
        self.topics = topics
        self.allowAutoTopicCreation = allowAutoTopicCreation
    }

    /// The requested topic names, nil meaning all topics.
    public var topicNames: [String]? { self.topics?.map(\.name) }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(topics: nil)
        self.topics = try buffer.readKafkaNullableArray(flexible: flexible) { buffer throws(WireError) in
            Topic(name: try buffer.readKafkaString(flexible: flexible))
        }
        if version >= 4 { self.allowAutoTopicCreation = try buffer.readKafkaBool() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaNullableArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
        }
        if version >= 4 { buffer.writeKafkaBool(self.allowAutoTopicCreation) }
    }
}

/// Metadata response, v1–v4: v1 adds racks, the controller and `isInternal`, v2 the cluster id,
/// v3 the throttle time (first field). Leader epochs (v7) and offline replicas (v5) are not here.
public struct MetadataResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.metadata
    public static let versions: ClosedRange<Int16> = 1...4

    public struct Broker: Hashable, Sendable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
        public var rack: String?

        public init(nodeId: Int32, host: String, port: Int32, rack: String? = nil) {
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.rack = rack
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = MetadataResponse.isFlexible(version)
            self.init(
                nodeId: try buffer.readKafkaInteger(),
                host: try buffer.readKafkaString(flexible: flexible),
                port: try buffer.readKafkaInteger()
            )
            self.rack = try buffer.readKafkaNullableString(flexible: flexible)
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = MetadataResponse.isFlexible(version)
            buffer.writeInteger(self.nodeId)
            buffer.writeKafkaString(self.host, flexible: flexible)
            buffer.writeInteger(self.port)
            buffer.writeKafkaNullableString(self.rack, flexible: flexible)
        }
    }

    public struct Partition: Hashable, Sendable {
        public var errorCode: KafkaErrorCode
        public var partitionIndex: Int32
        public var leaderId: Int32
        public var replicaNodes: [Int32]
        public var isrNodes: [Int32]

        public init(
            errorCode: KafkaErrorCode = .none,
            partitionIndex: Int32,
            leaderId: Int32,
            replicaNodes: [Int32],
            isrNodes: [Int32]
        ) {
            self.errorCode = errorCode
            self.partitionIndex = partitionIndex
            self.leaderId = leaderId
            self.replicaNodes = replicaNodes
            self.isrNodes = isrNodes
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = MetadataResponse.isFlexible(version)
            self.init(
                errorCode: try buffer.readKafkaErrorCode(),
                partitionIndex: try buffer.readKafkaInteger(),
                leaderId: try buffer.readKafkaInteger(),
                replicaNodes: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try buffer.readKafkaInteger(as: Int32.self)
                },
                isrNodes: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try buffer.readKafkaInteger(as: Int32.self)
                }
            )
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = MetadataResponse.isFlexible(version)
            buffer.writeKafkaErrorCode(self.errorCode)
            buffer.writeInteger(self.partitionIndex)
            buffer.writeInteger(self.leaderId)
            buffer.writeKafkaArray(self.replicaNodes, flexible: flexible) { $0.writeInteger($1) }
            buffer.writeKafkaArray(self.isrNodes, flexible: flexible) { $0.writeInteger($1) }
        }
    }

    public struct Topic: Hashable, Sendable {
        public var errorCode: KafkaErrorCode
        public var name: String
        public var isInternal: Bool
        public var partitions: [Partition]

        public init(errorCode: KafkaErrorCode = .none, name: String, isInternal: Bool = false, partitions: [Partition])
        {
            self.errorCode = errorCode
            self.name = name
            self.isInternal = isInternal
            self.partitions = partitions
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = MetadataResponse.isFlexible(version)
            self.init(
                errorCode: try buffer.readKafkaErrorCode(),
                name: try buffer.readKafkaString(flexible: flexible),
                isInternal: try buffer.readKafkaBool(),
                partitions: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try Partition(from: &buffer, version: version)
                }
            )
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = MetadataResponse.isFlexible(version)
            buffer.writeKafkaErrorCode(self.errorCode)
            buffer.writeKafkaString(self.name, flexible: flexible)
            buffer.writeKafkaBool(self.isInternal)
            buffer.writeKafkaArray(self.partitions, flexible: flexible) { buffer, partition in
                partition.write(to: &buffer, version: version)
            }
        }
    }

    public var throttleTimeMs: Int32
    public var brokers: [Broker]
    public var clusterId: String?
    /// The controller's node id, -1 if unknown; admin clients send CreateTopics/DeleteTopics there.
    public var controllerId: Int32
    public var topics: [Topic]

    public init(
        throttleTimeMs: Int32 = 0,
        brokers: [Broker],
        clusterId: String? = nil,
        controllerId: Int32 = -1,
        topics: [Topic]
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.brokers = brokers
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.topics = topics
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(brokers: [], topics: [])
        if version >= 3 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.brokers = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            try Broker(from: &buffer, version: version)
        }
        if version >= 2 { self.clusterId = try buffer.readKafkaNullableString(flexible: flexible) }
        self.controllerId = try buffer.readKafkaInteger()
        self.topics = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            try Topic(from: &buffer, version: version)
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 3 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.brokers, flexible: flexible) { buffer, broker in
            broker.write(to: &buffer, version: version)
        }
        if version >= 2 { buffer.writeKafkaNullableString(self.clusterId, flexible: flexible) }
        buffer.writeInteger(self.controllerId)
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            topic.write(to: &buffer, version: version)
        }
    }
}
