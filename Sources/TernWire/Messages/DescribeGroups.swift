import NIOCore

/// DescribeGroups (key 15), v0–v4: state, protocol and members of groups (admin tools, consumer
/// group describe). v3 can ask for the caller's authorized operations on each group.
public struct DescribeGroupsRequest: KafkaRequestMessage {
    public typealias Response = DescribeGroupsResponse
    public static let apiKey = ApiKey.describeGroups
    public static let versions: ClosedRange<Int16> = 0...4

    public var groups: [String]
    /// v3+.
    public var includeAuthorizedOperations: Bool

    public init(groups: [String], includeAuthorizedOperations: Bool = false) {
        self.groups = groups
        self.includeAuthorizedOperations = includeAuthorizedOperations
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            groups: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                try buffer.readKafkaString(flexible: flexible)
            }
        )
        if version >= 3 { self.includeAuthorizedOperations = try buffer.readKafkaBool() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaArray(self.groups, flexible: flexible) { buffer, group in
            buffer.writeKafkaString(group, flexible: flexible)
        }
        if version >= 3 { buffer.writeKafkaBool(self.includeAuthorizedOperations) }
    }
}

/// One entry per requested group, each with its own error code.
/// v1 adds throttle time, v3 the authorized-operations bitfield, v4 each member's group instance id.
public struct DescribeGroupsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.describeGroups
    public static let versions: ClosedRange<Int16> = 0...4

    /// `authorizedOperations` value meaning "not requested / not computed" (the schema default).
    public static let authorizedOperationsOmitted = Int32.min

    public struct Group: Hashable, Sendable {
        public var errorCode: KafkaErrorCode
        public var groupId: String
        /// "Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead", or "".
        public var groupState: String
        public var protocolType: String
        /// The chosen protocol (assignor) name while the group is stable, else "".
        public var protocolData: String
        public var members: [Member]
        /// v3+: bit i set = ACL operation i allowed; `authorizedOperationsOmitted` when not asked for.
        public var authorizedOperations: Int32

        public init(
            errorCode: KafkaErrorCode = .none,
            groupId: String,
            groupState: String,
            protocolType: String,
            protocolData: String,
            members: [Member] = [],
            authorizedOperations: Int32 = DescribeGroupsResponse.authorizedOperationsOmitted
        ) {
            self.errorCode = errorCode
            self.groupId = groupId
            self.groupState = groupState
            self.protocolType = protocolType
            self.protocolData = protocolData
            self.members = members
            self.authorizedOperations = authorizedOperations
        }
    }

    public struct Member: Hashable, Sendable {
        public var memberId: String
        /// v4+ (static membership); null for dynamic members.
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        /// For protocol type "consumer": a `ConsumerProtocolSubscription`.
        public var memberMetadata: ByteBuffer
        /// For protocol type "consumer": a `ConsumerProtocolAssignment`.
        public var memberAssignment: ByteBuffer

        public init(
            memberId: String,
            groupInstanceId: String? = nil,
            clientId: String,
            clientHost: String,
            memberMetadata: ByteBuffer = ByteBuffer(),
            memberAssignment: ByteBuffer = ByteBuffer()
        ) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.clientId = clientId
            self.clientHost = clientHost
            self.memberMetadata = memberMetadata
            self.memberAssignment = memberAssignment
        }

        init(from buffer: inout ByteBuffer, version: Int16, flexible: Bool) throws(WireError) {
            self.init(memberId: try buffer.readKafkaString(flexible: flexible), clientId: "", clientHost: "")
            if version >= 4 { self.groupInstanceId = try buffer.readKafkaNullableString(flexible: flexible) }
            self.clientId = try buffer.readKafkaString(flexible: flexible)
            self.clientHost = try buffer.readKafkaString(flexible: flexible)
            self.memberMetadata = try buffer.readKafkaBytes(flexible: flexible)
            self.memberAssignment = try buffer.readKafkaBytes(flexible: flexible)
        }

        func write(to buffer: inout ByteBuffer, version: Int16, flexible: Bool) {
            buffer.writeKafkaString(self.memberId, flexible: flexible)
            if version >= 4 { buffer.writeKafkaNullableString(self.groupInstanceId, flexible: flexible) }
            buffer.writeKafkaString(self.clientId, flexible: flexible)
            buffer.writeKafkaString(self.clientHost, flexible: flexible)
            buffer.writeKafkaBytes(self.memberMetadata, flexible: flexible)
            buffer.writeKafkaBytes(self.memberAssignment, flexible: flexible)
        }
    }

    public var throttleTimeMs: Int32
    public var groups: [Group]

    public init(throttleTimeMs: Int32 = 0, groups: [Group] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.groups = groups
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.groups = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            var group = Group(
                errorCode: try buffer.readKafkaErrorCode(),
                groupId: try buffer.readKafkaString(flexible: flexible),
                groupState: try buffer.readKafkaString(flexible: flexible),
                protocolType: try buffer.readKafkaString(flexible: flexible),
                protocolData: try buffer.readKafkaString(flexible: flexible),
                members: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try Member(from: &buffer, version: version, flexible: flexible)
                }
            )
            if version >= 3 { group.authorizedOperations = try buffer.readKafkaInteger() }
            return group
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaArray(self.groups, flexible: flexible) { buffer, group in
            buffer.writeKafkaErrorCode(group.errorCode)
            buffer.writeKafkaString(group.groupId, flexible: flexible)
            buffer.writeKafkaString(group.groupState, flexible: flexible)
            buffer.writeKafkaString(group.protocolType, flexible: flexible)
            buffer.writeKafkaString(group.protocolData, flexible: flexible)
            buffer.writeKafkaArray(group.members, flexible: flexible) { buffer, member in
                member.write(to: &buffer, version: version, flexible: flexible)
            }
            if version >= 3 { buffer.writeInteger(group.authorizedOperations) }
        }
    }
}
