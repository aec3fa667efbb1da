import NIOCore

/// LeaveGroup (key 13), v0–v1: one member leaves, triggering a rebalance without waiting for its
/// session to expire. v3+ (batched members, static membership) is not in this range.
public struct LeaveGroupRequest: KafkaRequestMessage {
    public typealias Response = LeaveGroupResponse
    public static let apiKey = ApiKey.leaveGroup
    public static let versions: ClosedRange<Int16> = 0...1

    public var groupId: String
    public var memberId: String

    public init(groupId: String, memberId: String) {
        self.groupId = groupId
        self.memberId = memberId
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            groupId: try buffer.readKafkaString(flexible: flexible),
            memberId: try buffer.readKafkaString(flexible: flexible)
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaString(self.groupId, flexible: flexible)
        buffer.writeKafkaString(self.memberId, flexible: flexible)
    }
}

/// v1 adds throttle time.
public struct LeaveGroupResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.leaveGroup
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
