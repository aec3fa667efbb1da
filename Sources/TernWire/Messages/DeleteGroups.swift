import NIOCore

/// DeleteGroups (key 42), v0–v1: removes empty groups and their committed offsets. v1 only changes
/// throttling behaviour; v2 (flexible) is not implemented.
public struct DeleteGroupsRequest: KafkaRequestMessage {
    public typealias Response = DeleteGroupsResponse
    public static let apiKey = ApiKey.deleteGroups
    public static let versions: ClosedRange<Int16> = 0...1

    public var groupsNames: [String]

    public init(groupsNames: [String]) {
        self.groupsNames = groupsNames
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.groupsNames = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            try buffer.readKafkaString(flexible: flexible)
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaArray(self.groupsNames, flexible: flexible) { $0.writeKafkaString($1, flexible: flexible) }
    }
}

public struct DeleteGroupsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.deleteGroups
    public static let versions: ClosedRange<Int16> = 0...1

    public struct Result: Hashable, Sendable {
        public var groupId: String
        public var errorCode: KafkaErrorCode

        public init(groupId: String, errorCode: KafkaErrorCode = .none) {
            self.groupId = groupId
            self.errorCode = errorCode
        }
    }

    public var throttleTimeMs: Int32
    public var results: [Result]

    public init(throttleTimeMs: Int32 = 0, results: [Result]) {
        self.throttleTimeMs = throttleTimeMs
        self.results = results
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.throttleTimeMs = try buffer.readKafkaInteger()
        self.results = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            Result(groupId: try buffer.readKafkaString(flexible: flexible), errorCode: try buffer.readKafkaErrorCode())
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeInteger(self.throttleTimeMs)
        buffer.writeKafkaArray(self.results, flexible: flexible) { buffer, result in
            buffer.writeKafkaString(result.groupId, flexible: flexible)
            buffer.writeKafkaErrorCode(result.errorCode)
        }
    }
}
