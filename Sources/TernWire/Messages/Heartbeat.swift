import NIOCore

/// Heartbeat (key 12), v0–v1: keeps a member alive between polls; the response's error
/// (REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION) is how members learn to rejoin.
public struct HeartbeatRequest: KafkaRequestMessage {
    public typealias Response = HeartbeatResponse
    public static let apiKey = ApiKey.heartbeat
    public static let versions: ClosedRange<Int16> = 0...1

    public var groupId: String
    public var generationId: Int32
    public var memberId: String

    public init(groupId: String, generationId: Int32, memberId: String) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            groupId: try buffer.readKafkaString(flexible: flexible),
            generationId: try buffer.readKafkaInteger(),
            memberId: try buffer.readKafkaString(flexible: flexible)
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaString(self.groupId, flexible: flexible)
        buffer.writeInteger(self.generationId)
        buffer.writeKafkaString(self.memberId, flexible: flexible)
    }
}

/// v1 adds throttle time.
public struct HeartbeatResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.heartbeat
    public static let versions: ClosedRange<Int16> = 0...1

    public var throttleTimeMs: Int32
    public var errorCode: KafkaErrorCode

    public init(throttleTimeMs: Int32 = 0, errorCode: KafkaErrorCode = .none) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.init()
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.errorCode = try buffer.readKafkaErrorCode()
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaErrorCode(self.errorCode)
    }
}
