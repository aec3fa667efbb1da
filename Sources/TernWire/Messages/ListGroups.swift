import NIOCore

/// ListGroups (key 16), v0–v2: every group the broker coordinates. The request is empty until the
/// v4 state filter; v1 adds throttle time to the response.
public struct ListGroupsRequest: KafkaRequestMessage {
    public typealias Response = ListGroupsResponse
    public static let apiKey = ApiKey.listGroups
    public static let versions: ClosedRange<Int16> = 0...2

    public init() {}

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.init()
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {}
}

public struct ListGroupsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.listGroups
    public static let versions: ClosedRange<Int16> = 0...2

    public struct Group: Hashable, Sendable {
        public var groupId: String
        /// "consumer" for consumer groups, "" for groups that only commit offsets.
        public var protocolType: String

        public init(groupId: String, protocolType: String) {
            self.groupId = groupId
            self.protocolType = protocolType
        }
    }

    public var throttleTimeMs: Int32
    public var errorCode: KafkaErrorCode
    public var groups: [Group]

    public init(throttleTimeMs: Int32 = 0, errorCode: KafkaErrorCode = .none, groups: [Group] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.groups = groups
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        self.errorCode = try buffer.readKafkaErrorCode()
        self.groups = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Group(
                groupId: try buffer.readKafkaString(flexible: flexible),
                protocolType: try buffer.readKafkaString(flexible: flexible)
            )
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        buffer.writeKafkaErrorCode(self.errorCode)
        buffer.writeKafkaArray(self.groups, flexible: flexible) { buffer, group in
            buffer.writeKafkaString(group.groupId, flexible: flexible)
            buffer.writeKafkaString(group.protocolType, flexible: flexible)
        }
    }
}
