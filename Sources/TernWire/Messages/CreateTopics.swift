import NIOCore

/// CreateTopics (key 19), v0–v3; v1 adds `validateOnly`. Admin clients send it to the controller
/// named in the Metadata response. v4 (KIP-464 defaults) and v5 (flexible) are not here.
public struct CreateTopicsRequest: KafkaRequestMessage {
    public typealias Response = CreateTopicsResponse
    public static let apiKey = ApiKey.createTopics
    public static let versions: ClosedRange<Int16> = 0...3

    /// A manual placement of one partition.
    public struct Assignment: Hashable, Sendable {
        public var partitionIndex: Int32
        public var brokerIds: [Int32]

        public init(partitionIndex: Int32, brokerIds: [Int32]) {
            self.partitionIndex = partitionIndex
            self.brokerIds = brokerIds
        }
    }

    public struct Config: Hashable, Sendable {
        public var name: String
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        /// -1 with a manual assignment (and, from v4, for the broker default).
        public var numPartitions: Int32
        /// -1 with a manual assignment (and, from v4, for the broker default).
        public var replicationFactor: Int16
        /// Empty for automatic placement.
        public var assignments: [Assignment]
        public var configs: [Config]

        public init(
            name: String,
            numPartitions: Int32,
            replicationFactor: Int16,
            assignments: [Assignment] = [],
            configs: [Config] = []
        ) {
            self.name = name
            self.numPartitions = numPartitions
            self.replicationFactor = replicationFactor
            self.assignments = assignments
            self.configs = configs
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = CreateTopicsRequest.isFlexible(version)
            self.init(
                name: try buffer.readKafkaString(flexible: flexible),
                numPartitions: try buffer.readKafkaInteger(),
                replicationFactor: try buffer.readKafkaInteger(),
                assignments: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Assignment(
                        partitionIndex: try buffer.readKafkaInteger(),
                        brokerIds: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                            try buffer.readKafkaInteger(as: Int32.self)
                        }
                    )
                },
                configs: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Config(
                        name: try buffer.readKafkaString(flexible: flexible),
                        value: try buffer.readKafkaNullableString(flexible: flexible)
                    )
                }
            )
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = CreateTopicsRequest.isFlexible(version)
            buffer.writeKafkaString(self.name, flexible: flexible)
            buffer.writeInteger(self.numPartitions)
            buffer.writeInteger(self.replicationFactor)
            buffer.writeKafkaArray(self.assignments, flexible: flexible) { buffer, assignment in
                buffer.writeInteger(assignment.partitionIndex)
                buffer.writeKafkaArray(assignment.brokerIds, flexible: flexible) { $0.writeInteger($1) }
            }
            buffer.writeKafkaArray(self.configs, flexible: flexible) { buffer, config in
                buffer.writeKafkaString(config.name, flexible: flexible)
                buffer.writeKafkaNullableString(config.value, flexible: flexible)
            }
        }
    }

    public var topics: [Topic]
    public var timeoutMs: Int32
    /// Check only, create nothing (v1+).
    public var validateOnly: Bool

    public init(topics: [Topic], timeoutMs: Int32 = 60000, validateOnly: Bool = false) {
        self.topics = topics
        self.timeoutMs = timeoutMs
        self.validateOnly = validateOnly
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            topics: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                try Topic(from: &buffer, version: version)
            },
            timeoutMs: try buffer.readKafkaInteger()
        )
        if version >= 1 { self.validateOnly = try buffer.readKafkaBool() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            topic.write(to: &buffer, version: version)
        }
        buffer.writeInteger(self.timeoutMs)
        if version >= 1 { buffer.writeKafkaBool(self.validateOnly) }
    }
}

/// CreateTopics response, v0–v3: v1 adds a per-topic error message, v2 the throttle time (first
/// field). v3 differs from v2 only in throttling behaviour.
public struct CreateTopicsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.createTopics
    public static let versions: ClosedRange<Int16> = 0...3

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var errorCode: KafkaErrorCode
        /// Details of the error (v1+), nil when there is none.
        public var errorMessage: String?

        public init(name: String, errorCode: KafkaErrorCode = .none, errorMessage: String? = nil) {
            self.name = name
            self.errorCode = errorCode
            self.errorMessage = errorMessage
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
            var topic = Topic(
                name: try buffer.readKafkaString(flexible: flexible),
                errorCode: try buffer.readKafkaErrorCode()
            )
            if version >= 1 { topic.errorMessage = try buffer.readKafkaNullableString(flexible: flexible) }
            return topic
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 2 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.topics, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaErrorCode(topic.errorCode)
            if version >= 1 { buffer.writeKafkaNullableString(topic.errorMessage, flexible: flexible) }
        }
    }
}
