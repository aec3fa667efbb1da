import NIOCore

/// JoinGroup (key 11), v0–v2: the first step of a classic-group rebalance. v1 adds a rebalance
/// timeout separate from the session timeout; v4's MEMBER_ID_REQUIRED round trip and v5's static
/// membership are not in this range.
public struct JoinGroupRequest: KafkaRequestMessage {
    public typealias Response = JoinGroupResponse
    public static let apiKey = ApiKey.joinGroup
    public static let versions: ClosedRange<Int16> = 0...2

    /// One protocol (assignor) the member supports, in order of preference. For protocol type
    /// "consumer" the metadata is a `ConsumerProtocolSubscription`.
    public struct GroupProtocol: Hashable, Sendable {
        public var name: String
        public var metadata: ByteBuffer

        public init(name: String, metadata: ByteBuffer) {
            self.name = name
            self.metadata = metadata
        }
    }

    public var groupId: String
    public var sessionTimeoutMs: Int32
    /// v1+; v0 members use the session timeout as rebalance timeout, hence the -1 default.
    public var rebalanceTimeoutMs: Int32
    /// Empty on the first join; the coordinator assigns one.
    public var memberId: String
    public var protocolType: String
    public var protocols: [GroupProtocol]

    public init(
        groupId: String,
        sessionTimeoutMs: Int32,
        rebalanceTimeoutMs: Int32 = -1,
        memberId: String = "",
        protocolType: String,
        protocols: [GroupProtocol]
    ) {
        self.groupId = groupId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.memberId = memberId
        self.protocolType = protocolType
        self.protocols = protocols
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        let groupId = try buffer.readKafkaString(flexible: flexible)
        let sessionTimeoutMs: Int32 = try buffer.readKafkaInteger()
        let rebalanceTimeoutMs: Int32 = version >= 1 ? try buffer.readKafkaInteger() : -1
        let memberId = try buffer.readKafkaString(flexible: flexible)
        let protocolType = try buffer.readKafkaString(flexible: flexible)
        let protocols = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            GroupProtocol(
                name: try buffer.readKafkaString(flexible: flexible),
                metadata: try buffer.readKafkaBytes(flexible: flexible)
            )
        }
        self.init(
            groupId: groupId,
            sessionTimeoutMs: sessionTimeoutMs,
            rebalanceTimeoutMs: rebalanceTimeoutMs,
            memberId: memberId,
            protocolType: protocolType,
            protocols: protocols
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaString(self.groupId, flexible: flexible)
        buffer.writeInteger(self.sessionTimeoutMs)
        if version >= 1 { buffer.writeInteger(self.rebalanceTimeoutMs) }
        buffer.writeKafkaString(self.memberId, flexible: flexible)
        buffer.writeKafkaString(self.protocolType, flexible: flexible)
        buffer.writeKafkaArray(self.protocols, flexible: flexible) { buffer, entry in
            buffer.writeKafkaString(entry.name, flexible: flexible)
            buffer.writeKafkaBytes(entry.metadata, flexible: flexible)
        }
    }
}

/// The join result. Only the leader gets a non-empty `members` list (with every member's
/// metadata for the chosen protocol), since it runs the assignor. v2 adds throttle time.
public struct JoinGroupResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.joinGroup
    public static let versions: ClosedRange<Int16> = 0...2

    public struct Member: Hashable, Sendable {
        public var memberId: String
        public var metadata: ByteBuffer

        public init(memberId: String, metadata: ByteBuffer) {
            self.memberId = memberId
            self.metadata = metadata
        }
    }

    public var throttleTimeMs: Int32
    public var errorCode: KafkaErrorCode
    public var generationId: Int32
    /// The protocol (assignor) the coordinator chose; empty on error.
    public var protocolName: String
    public var leader: String
    public var memberId: String
    public var members: [Member]

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: KafkaErrorCode = .none,
        generationId: Int32 = -1,
        protocolName: String = "",
        leader: String = "",
        memberId: String = "",
        members: [Member] = []
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.generationId = generationId
        self.protocolName = protocolName
        self.leader = leader
        self.memberId = memberId
        self.members = members
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        if version >= 2 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.errorCode = try buffer.readKafkaErrorCode()
        self.generationId = try buffer.readKafkaInteger()
        self.protocolName = try buffer.readKafkaString(flexible: flexible)
        self.leader = try buffer.readKafkaString(flexible: flexible)
        self.memberId = try buffer.readKafkaString(flexible: flexible)
        self.members = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Member(
                memberId: try buffer.readKafkaString(flexible: flexible),
                metadata: try buffer.readKafkaBytes(flexible: flexible)
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 2 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaErrorCode(self.errorCode)
        buffer.writeInteger(self.generationId)
        buffer.writeKafkaString(self.protocolName, flexible: flexible)
        buffer.writeKafkaString(self.leader, flexible: flexible)
        buffer.writeKafkaString(self.memberId, flexible: flexible)
        buffer.writeKafkaArray(self.members, flexible: flexible) { buffer, member in
            buffer.writeKafkaString(member.memberId, flexible: flexible)
            buffer.writeKafkaBytes(member.metadata, flexible: flexible)
        }
    }
}
