import NIOCore

/// ApiVersions (key 18), v0–v3. v3 is flexible; its request carries the client software name and
/// version. The response always travels with response header v0 (see `ApiKey`).
public struct ApiVersionsRequest: KafkaRequestMessage {
    public typealias Response = ApiVersionsResponse
    public static let apiKey = ApiKey.apiVersions
    public static let versions: ClosedRange<Int16> = 0...3

    public var clientSoftwareName: String
    public var clientSoftwareVersion: String
    public var taggedFields: [TaggedField]

    public init(clientSoftwareName: String = "", clientSoftwareVersion: String = "", taggedFields: [TaggedField] = []) {
        self.clientSoftwareName = clientSoftwareName
        self.clientSoftwareVersion = clientSoftwareVersion
        self.taggedFields = taggedFields
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        self.init()
        if version >= 3 {
            self.clientSoftwareName = try buffer.readKafkaString(flexible: true)
            self.clientSoftwareVersion = try buffer.readKafkaString(flexible: true)
            self.taggedFields = try buffer.readKafkaTaggedFields()
        }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        if version >= 3 {
            buffer.writeKafkaString(self.clientSoftwareName, flexible: true)
            buffer.writeKafkaString(self.clientSoftwareVersion, flexible: true)
            buffer.writeKafkaTaggedFields(self.taggedFields)
        }
    }
}

public struct ApiVersionsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.apiVersions
    public static let versions: ClosedRange<Int16> = 0...3

    public struct ApiVersion: Hashable, Sendable {
        public var apiKey: ApiKey
        public var minVersion: Int16
        public var maxVersion: Int16
        public var taggedFields: [TaggedField]

        public init(apiKey: ApiKey, minVersion: Int16, maxVersion: Int16, taggedFields: [TaggedField] = []) {
            self.apiKey = apiKey
            self.minVersion = minVersion
            self.maxVersion = maxVersion
            self.taggedFields = taggedFields
        }
    }

    public var errorCode: KafkaErrorCode
    public var apiKeys: [ApiVersion]
    public var throttleTimeMs: Int32
    /// Top-level tagged fields (supported/finalized features, v3+), kept raw.
    public var taggedFields: [TaggedField]

    public init(
        errorCode: KafkaErrorCode = .none,
        apiKeys: [ApiVersion] = [],
        throttleTimeMs: Int32 = 0,
        taggedFields: [TaggedField] = []
    ) {
        self.errorCode = errorCode
        self.apiKeys = apiKeys
        self.throttleTimeMs = throttleTimeMs
        self.taggedFields = taggedFields
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init()
        self.errorCode = try buffer.readKafkaErrorCode()
        self.apiKeys = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
            var entry = ApiVersion(
                apiKey: ApiKey(rawValue: try buffer.readKafkaInteger()),
                minVersion: try buffer.readKafkaInteger(),
                maxVersion: try buffer.readKafkaInteger()
            )
            if flexible { entry.taggedFields = try buffer.readKafkaTaggedFields() }
            return entry
        }
        if version >= 1 { self.throttleTimeMs = try buffer.readKafkaInteger() }
        if flexible { self.taggedFields = try buffer.readKafkaTaggedFields() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaErrorCode(self.errorCode)
        buffer.writeKafkaArray(self.apiKeys, flexible: flexible) { buffer, entry in
            buffer.writeInteger(entry.apiKey.rawValue)
            buffer.writeInteger(entry.minVersion)
            buffer.writeInteger(entry.maxVersion)
            if flexible { buffer.writeKafkaTaggedFields(entry.taggedFields) }
        }
        if version >= 1 { buffer.writeInteger(self.throttleTimeMs) }
        if flexible { buffer.writeKafkaTaggedFields(self.taggedFields) }
    }
}
