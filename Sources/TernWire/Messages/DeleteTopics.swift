import NIOCore

/// DeleteTopics (key 20), v0–v1: a list of names and a timeout; v1 changes only the response.
/// Admin clients send it to the controller named in the Metadata response.
public struct DeleteTopicsRequest: KafkaRequestMessage {
    public typealias Response = DeleteTopicsResponse
    public static let apiKey = ApiKey.deleteTopics
    public static let versions: ClosedRange<Int16> = 0...1

    public var topicNames: [String]
    public var timeoutMs: Int32

    public init(topicNames: [String], timeoutMs: Int32) {
        self.topicNames = topicNames
        self.timeoutMs = timeoutMs
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            topicNames: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                try buffer.readKafkaString(flexible: flexible)
            },
            timeoutMs: try buffer.readKafkaInteger()
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaArray(self.topicNames, flexible: flexible) { buffer, name in
            buffer.writeKafkaString(name, flexible: flexible)
        }
        buffer.writeInteger(self.timeoutMs)
    }
}

/// DeleteTopics response, v0–v1: v1 adds the throttle time (first field). Per-topic error messages
/// come only in v5.
public struct DeleteTopicsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.deleteTopics
    public static let versions: ClosedRange<Int16> = 0...1

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var errorCode: KafkaErrorCode

        public init(name: String, errorCode: KafkaErrorCode = .none) {
            self.name = name
            self.errorCode = errorCode
        }
    }

    public var throttleTimeMs: Int32
    public var responses: [Topic]

    public init(throttleTimeMs: Int32 = 0, responses: [Topic]) {
        self.throttleTimeMs = throttleTimeMs
        self.responses = responses
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(responses: [])
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.responses = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Topic(name: try buffer.readKafkaString(flexible: flexible), errorCode: try buffer.readKafkaErrorCode())
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.responses, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaErrorCode(topic.errorCode)
        }
    }
}
