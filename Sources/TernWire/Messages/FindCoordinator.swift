import NIOCore

/// FindCoordinator (key 10), v0–v1: which broker coordinates a group (or, v1+, a transactional id).
/// v0 can only ask for group coordinators; v4+ batches keys and is not implemented here.
public struct FindCoordinatorRequest: KafkaRequestMessage {
    public typealias Response = FindCoordinatorResponse
    public static let apiKey = ApiKey.findCoordinator
    public static let versions: ClosedRange<Int16> = 0...1

    /// The group id (or transactional id when `keyType` is 1).
    public var key: String
    /// 0 = group, 1 = transaction (v1+; v0 requests always mean a group).
    public var keyType: Int8

    public init(key: String, keyType: Int8 = 0) {
        self.key = key
        self.keyType = keyType
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(key: try buffer.readKafkaString(flexible: flexible))
        if version >= 1 { self.keyType = try buffer.readKafkaInteger() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaString(self.key, flexible: flexible)
        if version >= 1 { buffer.writeInteger(self.keyType) }
    }
}

/// The coordinator's address, or an error (COORDINATOR_NOT_AVAILABLE while it is loading).
/// v1 adds throttle time and a human-readable error message.
public struct FindCoordinatorResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.findCoordinator
    public static let versions: ClosedRange<Int16> = 0...1

    public var throttleTimeMs: Int32
    public var errorCode: KafkaErrorCode
    public var errorMessage: String?
    public var nodeId: Int32
    public var host: String
    public var port: Int32

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: KafkaErrorCode = .none,
        errorMessage: String? = nil,
        nodeId: Int32,
        host: String,
        port: Int32
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.nodeId = nodeId
        self.host = host
        self.port = port
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(nodeId: -1, host: "", port: -1)
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.errorCode = try buffer.readKafkaErrorCode()
        if version >= 1 { self.errorMessage = try buffer.readKafkaNullableString(flexible: flexible) }
        self.nodeId = try buffer.readKafkaInteger()
        self.host = try buffer.readKafkaString(flexible: flexible)
        self.port = try buffer.readKafkaInteger()
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaErrorCode(self.errorCode)
        if version >= 1 { buffer.writeKafkaNullableString(self.errorMessage, flexible: flexible) }
        buffer.writeInteger(self.nodeId)
        buffer.writeKafkaString(self.host, flexible: flexible)
        buffer.writeInteger(self.port)
    }
}
