import NIOCore

/// InitProducerId (key 22), v0 only: what kafka-python's idempotent producer (its default) and
/// aiokafka need. A null transactional id asks for an idempotent-only producer id.
public struct InitProducerIdRequest: KafkaRequestMessage {
    public typealias Response = InitProducerIdResponse
    public static let apiKey = ApiKey.initProducerId
    public static let versions: ClosedRange<Int16> = 0...0

    public var transactionalId: String?
    /// Only relevant with a transactional id.
    public var transactionTimeoutMs: Int32

    public init(transactionalId: String? = nil, transactionTimeoutMs: Int32) {
        self.transactionalId = transactionalId
        self.transactionTimeoutMs = transactionTimeoutMs
    }

    /// Whether the producer asks for transactions rather than idempotence alone.
    public var isTransactional: Bool { self.transactionalId != nil }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            transactionalId: try buffer.readKafkaNullableString(flexible: flexible),
            transactionTimeoutMs: try buffer.readKafkaInteger()
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaNullableString(self.transactionalId, flexible: flexible)
        buffer.writeInteger(self.transactionTimeoutMs)
    }
}

/// InitProducerId response, v0: throttle time first, then the error and the id/epoch pair.
public struct InitProducerIdResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.initProducerId
    public static let versions: ClosedRange<Int16> = 0...0

    public var throttleTimeMs: Int32
    public var errorCode: KafkaErrorCode
    /// -1 when an error is returned.
    public var producerId: Int64
    public var producerEpoch: Int16

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: KafkaErrorCode = .none,
        producerId: Int64,
        producerEpoch: Int16
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.producerId = producerId
        self.producerEpoch = producerEpoch
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.init(
            throttleTimeMs: try buffer.readKafkaInteger(),
            errorCode: try buffer.readKafkaErrorCode(),
            producerId: try buffer.readKafkaInteger(),
            producerEpoch: try buffer.readKafkaInteger()
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        buffer.writeInteger(self.throttleTimeMs)
        buffer.writeKafkaErrorCode(self.errorCode)
        buffer.writeInteger(self.producerId)
        buffer.writeInteger(self.producerEpoch)
    }
}
