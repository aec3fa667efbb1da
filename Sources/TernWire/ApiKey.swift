/// A Kafka API key (the first field of every request header).
public struct ApiKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    public static let produce = ApiKey(rawValue: 0)
    public static let fetch = ApiKey(rawValue: 1)
    public static let listOffsets = ApiKey(rawValue: 2)
    public static let metadata = ApiKey(rawValue: 3)
    public static let offsetCommit = ApiKey(rawValue: 8)
    public static let offsetFetch = ApiKey(rawValue: 9)
    public static let findCoordinator = ApiKey(rawValue: 10)
    public static let joinGroup = ApiKey(rawValue: 11)
    public static let heartbeat = ApiKey(rawValue: 12)
    public static let leaveGroup = ApiKey(rawValue: 13)
    public static let syncGroup = ApiKey(rawValue: 14)
    public static let describeGroups = ApiKey(rawValue: 15)
    public static let listGroups = ApiKey(rawValue: 16)
    public static let saslHandshake = ApiKey(rawValue: 17)
    public static let apiVersions = ApiKey(rawValue: 18)
    public static let createTopics = ApiKey(rawValue: 19)
    public static let deleteTopics = ApiKey(rawValue: 20)
    public static let deleteRecords = ApiKey(rawValue: 21)
    public static let initProducerId = ApiKey(rawValue: 22)
    public static let offsetForLeaderEpoch = ApiKey(rawValue: 23)
    public static let describeConfigs = ApiKey(rawValue: 32)
    public static let alterConfigs = ApiKey(rawValue: 33)
    public static let saslAuthenticate = ApiKey(rawValue: 36)
    public static let createPartitions = ApiKey(rawValue: 37)
    public static let deleteGroups = ApiKey(rawValue: 42)
    public static let incrementalAlterConfigs = ApiKey(rawValue: 44)
    public static let offsetDelete = ApiKey(rawValue: 47)

    /// Name and first flexible version (KIP-482) of every key this codebase knows, from Kafka's
    /// message schemas (`flexibleVersions`). The header versions depend on the latter.
    private static let known: [Int16: (name: String, firstFlexibleVersion: Int16?)] = [
        0: ("Produce", 9), 1: ("Fetch", 12), 2: ("ListOffsets", 6), 3: ("Metadata", 9),
        8: ("OffsetCommit", 8), 9: ("OffsetFetch", 6), 10: ("FindCoordinator", 3), 11: ("JoinGroup", 6),
        12: ("Heartbeat", 4), 13: ("LeaveGroup", 4), 14: ("SyncGroup", 4), 15: ("DescribeGroups", 5),
        16: ("ListGroups", 3), 17: ("SaslHandshake", nil), 18: ("ApiVersions", 3), 19: ("CreateTopics", 5),
        20: ("DeleteTopics", 4), 21: ("DeleteRecords", 2), 22: ("InitProducerId", 2),
        23: ("OffsetForLeaderEpoch", 4), 32: ("DescribeConfigs", 4), 33: ("AlterConfigs", 2),
        36: ("SaslAuthenticate", 2), 37: ("CreatePartitions", 2), 42: ("DeleteGroups", 2),
        44: ("IncrementalAlterConfigs", 1), 47: ("OffsetDelete", nil),
    ]

    public var isKnown: Bool { Self.known[self.rawValue] != nil }

    public var name: String { Self.known[self.rawValue]?.name ?? "Unknown(\(self.rawValue))" }

    public var description: String { self.name }

    /// The first flexible version of this API, or nil if it has none (or is unknown).
    public var firstFlexibleVersion: Int16? { Self.known[self.rawValue]?.firstFlexibleVersion }

    public func isFlexible(version: Int16) -> Bool {
        guard let first = self.firstFlexibleVersion else { return false }
        return version >= first
    }

    /// Request header version for a request of this API at `version`: v2 when flexible, else v1
    /// (ControlledShutdown v0's header v0 is not supported here).
    public func requestHeaderVersion(for version: Int16) -> Int16 {
        self.isFlexible(version: version) ? 2 : 1
    }

    /// Response header version: v1 when flexible, else v0. ApiVersions responses always use v0
    /// (KIP-511: the client cannot yet know whether the broker understood a flexible request).
    public func responseHeaderVersion(for version: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return self.isFlexible(version: version) ? 1 : 0
    }
}
