import NIOCore

/// A request or response body of one Kafka API, readable and writable at every version in
/// `versions`. Fields a version lacks are skipped on write and left at their defaults on read,
/// as Kafka's generated code does for ignorable fields.
public protocol KafkaMessage: Hashable, Sendable {
    static var apiKey: ApiKey { get }
    /// The versions this codec reads and writes.
    static var versions: ClosedRange<Int16> { get }

    init(from buffer: inout ByteBuffer, version: Int16) throws(WireError)
    func write(to buffer: inout ByteBuffer, version: Int16)
}

public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaResponseMessage
}

public protocol KafkaResponseMessage: KafkaMessage {
    /// Calls `body` with every error code in the response (top level and per resource), for
    /// metrics and logs, with the name of the topic, group or key it is about when the response
    /// names one around it.
    func forEachErrorCode(_ body: (KafkaErrorCode, _ resource: String?) -> Void)
}

extension KafkaMessage {
    /// Whether `version` uses the flexible (KIP-482) encoding.
    @inlinable
    public static func isFlexible(_ version: Int16) -> Bool {
        Self.apiKey.isFlexible(version: version)
    }

    /// Decodes a whole body: the version must be supported and every byte must be consumed.
    public static func decode(_ body: ByteBuffer, version: Int16) throws(WireError) -> Self {
        guard Self.versions.contains(version) else {
            throw WireError(.unsupportedVersion, "\(Self.apiKey) v\(version) is outside \(Self.versions)")
        }
        var body = body
        let message = try Self(from: &body, version: version)
        guard body.readableBytes == 0 else {
            throw WireError(.trailingBytes, "\(body.readableBytes) bytes left after \(Self.apiKey) v\(version)")
        }
        return message
    }

    /// The body's bytes at `version`.
    public func encoded(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        precondition(Self.versions.contains(version), "\(Self.apiKey) v\(version) is outside \(Self.versions)")
        var buffer = allocator.buffer(capacity: 64)
        self.write(to: &buffer, version: version)
        return buffer
    }
}

extension KafkaRequestMessage {
    /// Writes a whole request frame: size, header (in the version the API calls for), body.
    public func writeFrame(to buffer: inout ByteBuffer, version: Int16, correlationId: Int32, clientId: String?) {
        precondition(Self.versions.contains(version), "\(Self.apiKey) v\(version) is outside \(Self.versions)")
        buffer.writeKafkaFrame { frame in
            RequestHeader(apiKey: Self.apiKey, apiVersion: version, correlationId: correlationId, clientId: clientId)
                .write(to: &frame)
            self.write(to: &frame, version: version)
        }
    }
}

extension KafkaResponseMessage {
    /// Writes a whole response frame: size, header (v0 or v1, per `ApiKey.responseHeaderVersion`), body.
    public func writeFrame(to buffer: inout ByteBuffer, version: Int16, correlationId: Int32) {
        precondition(Self.versions.contains(version), "\(Self.apiKey) v\(version) is outside \(Self.versions)")
        buffer.writeKafkaFrame { frame in
            ResponseHeader(correlationId: correlationId)
                .write(to: &frame, headerVersion: Self.apiKey.responseHeaderVersion(for: version))
            self.write(to: &frame, version: version)
        }
    }
}
