import NIOCore

/// Produce (key 0), v3–v7: the versions that carry v2 record batches (v3 adds the transactional
/// id). A broker advertises 0–7 so that librdkafka < 2.11.1 keeps compressing, but must refuse
/// v0–v2 (KAFKA-18659, kafka-compat.md §1.3); this codec therefore implements 3–7 only. The
/// request layout is the same in all of them.
public struct ProduceRequest: KafkaRequestMessage {
    public typealias Response = ProduceResponse
    public static let apiKey = ApiKey.produce
    public static let versions: ClosedRange<Int16> = 3...7

    public struct Partition: Hashable, Sendable {
        public var index: Int32
        /// The record batches as sent, not parsed here.
        public var records: ByteBuffer?

        public init(index: Int32, records: ByteBuffer?) {
            self.index = index
            self.records = records
        }
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitionData: [Partition]

        public init(name: String, partitionData: [Partition]) {
            self.name = name
            self.partitionData = partitionData
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = ProduceRequest.isFlexible(version)
            self.init(
                name: try buffer.readKafkaString(flexible: flexible),
                partitionData: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Partition(
                        index: try buffer.readKafkaInteger(),
                        records: try buffer.readKafkaNullableBytes(flexible: flexible)
                    )
                }
            )
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = ProduceRequest.isFlexible(version)
            buffer.writeKafkaString(self.name, flexible: flexible)
            buffer.writeKafkaArray(self.partitionData, flexible: flexible) { buffer, partition in
                buffer.writeInteger(partition.index)
                buffer.writeKafkaNullableBytes(partition.records, flexible: flexible)
            }
        }
    }

    public var transactionalId: String?
    /// 0 (no response at all), 1 (leader) or -1 (all in-sync replicas).
    public var acks: Int16
    public var timeoutMs: Int32
    public var topicData: [Topic]

    public init(transactionalId: String? = nil, acks: Int16, timeoutMs: Int32, topicData: [Topic]) {
        self.transactionalId = transactionalId
        self.acks = acks
        self.timeoutMs = timeoutMs
        self.topicData = topicData
    }

    /// Whether the client waits for a response: with acks = 0 the broker must not send one.
    public var expectsResponse: Bool { self.acks != 0 }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            transactionalId: try buffer.readKafkaNullableString(flexible: flexible),
            acks: try buffer.readKafkaInteger(),
            timeoutMs: try buffer.readKafkaInteger(),
            topicData: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                try Topic(from: &buffer, version: version)
            }
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaNullableString(self.transactionalId, flexible: flexible)
        buffer.writeInteger(self.acks)
        buffer.writeInteger(self.timeoutMs)
        buffer.writeKafkaArray(self.topicData, flexible: flexible) { buffer, topic in
            topic.write(to: &buffer, version: version)
        }
    }
}

/// Produce response, v3–v7: the log start offset appears in v5; the throttle time comes last
/// (unlike most responses). Per-record errors (v8) are not here.
public struct ProduceResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.produce
    public static let versions: ClosedRange<Int16> = 3...7

    public struct Partition: Hashable, Sendable {
        public var index: Int32
        public var errorCode: KafkaErrorCode
        public var baseOffset: Int64
        /// The broker's append time when the topic uses LogAppendTime, else -1.
        public var logAppendTimeMs: Int64
        public var logStartOffset: Int64

        public init(
            index: Int32,
            errorCode: KafkaErrorCode = .none,
            baseOffset: Int64,
            logAppendTimeMs: Int64 = -1,
            logStartOffset: Int64 = -1
        ) {
            self.index = index
            self.errorCode = errorCode
            self.baseOffset = baseOffset
            self.logAppendTimeMs = logAppendTimeMs
            self.logStartOffset = logStartOffset
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            self.init(
                index: try buffer.readKafkaInteger(),
                errorCode: try buffer.readKafkaErrorCode(),
                baseOffset: try buffer.readKafkaInteger(),
                logAppendTimeMs: try buffer.readKafkaInteger()
            )
            if version >= 5 { self.logStartOffset = try buffer.readKafkaInteger() }
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            buffer.writeInteger(self.index)
            buffer.writeKafkaErrorCode(self.errorCode)
            buffer.writeInteger(self.baseOffset)
            buffer.writeInteger(self.logAppendTimeMs)
            if version >= 5 { buffer.writeInteger(self.logStartOffset) }
        }
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var partitionResponses: [Partition]

        public init(name: String, partitionResponses: [Partition]) {
            self.name = name
            self.partitionResponses = partitionResponses
        }
    }

    public var responses: [Topic]
    public var throttleTimeMs: Int32

    public init(responses: [Topic], throttleTimeMs: Int32 = 0) {
        self.responses = responses
        self.throttleTimeMs = throttleTimeMs
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            responses: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                Topic(
                    name: try buffer.readKafkaString(flexible: flexible),
                    partitionResponses: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                        try Partition(from: &buffer, version: version)
                    }
                )
            },
            throttleTimeMs: try buffer.readKafkaInteger()
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaArray(self.responses, flexible: flexible) { buffer, topic in
            buffer.writeKafkaString(topic.name, flexible: flexible)
            buffer.writeKafkaArray(topic.partitionResponses, flexible: flexible) { buffer, partition in
                partition.write(to: &buffer, version: version)
            }
        }
        buffer.writeInteger(self.throttleTimeMs)
    }
}
