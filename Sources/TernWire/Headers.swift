import NIOCore

/// A request header, v0–v2 (see `ApiKey.requestHeaderVersion(for:)` for which goes with which
/// request).
///
/// - v0: `api_key i16, api_version i16, correlation_id i32`
/// - v1: v0 + `client_id` as an int16-length nullable string
/// - v2: v1 + tagged fields. `client_id` keeps its int16 length even here, so that any broker can
///   read the header of an ApiVersions request of any version.
public struct RequestHeader: Hashable, Sendable {
    public var apiKey: ApiKey
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    public var taggedFields: [TaggedField]

    public init(
        apiKey: ApiKey,
        apiVersion: Int16,
        correlationId: Int32,
        clientId: String? = nil,
        taggedFields: [TaggedField] = []
    ) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.taggedFields = taggedFields
    }

    /// The fixed 8-byte prefix every request header starts with, readable before the API and
    /// version are known to be supported (e.g. to answer an ApiVersions request of a version the
    /// broker does not speak).
    public struct Prefix: Hashable, Sendable {
        public var apiKey: ApiKey
        public var apiVersion: Int16
        public var correlationId: Int32
    }

    /// Reads the prefix without moving the reader index.
    public static func peekPrefix(_ buffer: ByteBuffer) throws(WireError) -> Prefix {
        var copy = buffer
        return Prefix(
            apiKey: ApiKey(rawValue: try copy.readKafkaInteger(as: Int16.self)),
            apiVersion: try copy.readKafkaInteger(as: Int16.self),
            correlationId: try copy.readKafkaInteger(as: Int32.self)
        )
    }

    /// Reads a header of the given header version.
    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws(WireError) {
        precondition((0...2).contains(headerVersion), "request header v\(headerVersion) does not exist")
        self.apiKey = ApiKey(rawValue: try buffer.readKafkaInteger(as: Int16.self))
        self.apiVersion = try buffer.readKafkaInteger(as: Int16.self)
        self.correlationId = try buffer.readKafkaInteger(as: Int32.self)
        self.clientId = headerVersion >= 1 ? try buffer.readKafkaNullableString() : nil
        self.taggedFields = headerVersion >= 2 ? try buffer.readKafkaTaggedFields() : []
    }

    /// Reads a header, choosing its version from the API key and version it starts with. Unknown
    /// API keys are read as header v1, which is what every non-flexible request uses.
    public init(from buffer: inout ByteBuffer) throws(WireError) {
        let prefix = try Self.peekPrefix(buffer)
        try self.init(from: &buffer, headerVersion: prefix.apiKey.requestHeaderVersion(for: prefix.apiVersion))
    }

    public func write(to buffer: inout ByteBuffer, headerVersion: Int16) {
        precondition((0...2).contains(headerVersion), "request header v\(headerVersion) does not exist")
        buffer.writeInteger(self.apiKey.rawValue)
        buffer.writeInteger(self.apiVersion)
        buffer.writeInteger(self.correlationId)
        if headerVersion >= 1 { buffer.writeKafkaNullableString(self.clientId) }
        if headerVersion >= 2 { buffer.writeKafkaTaggedFields(self.taggedFields) }
    }

    /// Writes the header in the version its API key and version call for.
    public func write(to buffer: inout ByteBuffer) {
        self.write(to: &buffer, headerVersion: self.apiKey.requestHeaderVersion(for: self.apiVersion))
    }
}

/// A response header: v0 is `correlation_id i32`, v1 adds tagged fields.
public struct ResponseHeader: Hashable, Sendable {
    public var correlationId: Int32
    public var taggedFields: [TaggedField]

    public init(correlationId: Int32, taggedFields: [TaggedField] = []) {
        self.correlationId = correlationId
        self.taggedFields = taggedFields
    }

    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws(WireError) {
        precondition((0...1).contains(headerVersion), "response header v\(headerVersion) does not exist")
        self.correlationId = try buffer.readKafkaInteger(as: Int32.self)
        self.taggedFields = headerVersion >= 1 ? try buffer.readKafkaTaggedFields() : []
    }

    public func write(to buffer: inout ByteBuffer, headerVersion: Int16) {
        precondition((0...1).contains(headerVersion), "response header v\(headerVersion) does not exist")
        buffer.writeInteger(self.correlationId)
        if headerVersion >= 1 { buffer.writeKafkaTaggedFields(self.taggedFields) }
    }
}
