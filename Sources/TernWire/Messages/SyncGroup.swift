import NIOCore

/// SyncGroup (key 14), v0–v1: the second step of a rebalance. The leader sends every member's
/// assignment; the others send an empty list and wait for theirs. v1 adds throttle time.
public struct SyncGroupRequest: KafkaRequestMessage {
    public typealias Response = SyncGroupResponse
    public static let apiKey = ApiKey.syncGroup
    public static let versions: ClosedRange<Int16> = 0...1

    /// For protocol type "consumer" the assignment is a `ConsumerProtocolAssignment`.
    public struct Assignment: Hashable, Sendable {
        public var memberId: String
        public var assignment: ByteBuffer

        public init(memberId: String, assignment: ByteBuffer) {
            self.memberId = memberId
            self.assignment = assignment
        }
    }

    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    /// Non-empty only from the leader.
    public var assignments: [Assignment]

    public init(groupId: String, generationId: Int32, memberId: String, assignments: [Assignment] = []) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.assignments = assignments
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            groupId: try buffer.readKafkaString(flexible: flexible),
            generationId: try buffer.readKafkaInteger(),
            memberId: try buffer.readKafkaString(flexible: flexible)
        )
        self.assignments = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Assignment(
                memberId: try buffer.readKafkaString(flexible: flexible),
                assignment: try buffer.readKafkaBytes(flexible: flexible)
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaString(self.groupId, flexible: flexible)
        buffer.writeInteger(self.generationId)
        buffer.writeKafkaString(self.memberId, flexible: flexible)
        buffer.writeKafkaArray(self.assignments, flexible: flexible) { buffer, entry in
            buffer.writeKafkaString(entry.memberId, flexible: flexible)
            buffer.writeKafkaBytes(entry.assignment, flexible: flexible)
        }
    }
}

/// The member's own assignment (empty bytes on error).
public struct SyncGroupResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.syncGroup
    public static let versions: ClosedRange<Int16> = 0...1

    public var throttleTimeMs: Int32
    public var errorCode: KafkaErrorCode
    public var assignment: ByteBuffer

    public init(throttleTimeMs: Int32 = 0, errorCode: KafkaErrorCode = .none, assignment: ByteBuffer = ByteBuffer()) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.assignment = assignment
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.errorCode = try buffer.readKafkaErrorCode()
        self.assignment = try buffer.readKafkaBytes(flexible: flexible)
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaErrorCode(self.errorCode)
        buffer.writeKafkaBytes(self.assignment, flexible: flexible)
    }
}
