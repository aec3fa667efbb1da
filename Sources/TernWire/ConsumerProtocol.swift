import NIOCore

// The embedded payloads of the "consumer" group protocol: what consumers put in JoinGroup
// `protocols[].metadata` (subscription) and what the leader hands out through SyncGroup
// (assignment). They are not Kafka APIs: no API key, no header, just an int16 version followed by a
// non-flexible struct. The broker only stores and forwards them; clients and admin tools parse them.

/// The operations shared by `ConsumerProtocolSubscription` and `ConsumerProtocolAssignment`.
public protocol ConsumerProtocolPayload: Hashable, Sendable {
    /// The versions this codec knows. Higher versions are read as the highest known one.
    static var versions: ClosedRange<Int16> { get }

    /// Reads the body (after the version prefix) using the fields of `version`.
    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)
    /// Writes the body (without the version prefix) in the format of `version`.
    func write(to buffer: inout ByteBuffer, version: Int16)
}

extension ConsumerProtocolPayload {
    /// Decodes version-prefixed bytes. As Kafka's consumer does, a version above `versions` is read
    /// with the newest known layout and whatever follows it is ignored (later versions may only
    /// append fields), and so are bytes after the known fields at any version. Negative versions
    /// are refused.
    public static func decode(from bytes: ByteBuffer) throws(WireError) -> Self {
        var bytes = bytes
        let version: Int16 = try bytes.readKafkaInteger()
        guard version >= Self.versions.lowerBound else {
            throw WireError(.unsupportedVersion, "\(Self.self) version \(version) is below \(Self.versions)")
        }
        return try Self(from: &bytes, version: min(version, Self.versions.upperBound))
    }

    /// The version prefix followed by the body at `version`.
    public func encode(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        precondition(Self.versions.contains(version), "\(Self.self) version \(version) is outside \(Self.versions)")
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(version)
        self.write(to: &buffer, version: version)
        return buffer
    }
}

// ConsumerProtocolSubscription and ConsumerProtocolAssignment are generated from Kafka's schemas
// (Generated/).
