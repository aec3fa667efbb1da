/// A Kafka API key (the first field of every request header).
public struct ApiKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    // The named keys and the `known` table of every API are generated (Generated/ApiKey+Known.swift).

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
