import NIOCore

/// The kind of resource a config belongs to (Kafka's `ConfigResource.Type`, an int8). These ids
/// differ from the ACL resource types.
public struct ConfigResourceType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int8

    public init(rawValue: Int8) {
        self.rawValue = rawValue
    }

    public static let unknown = Self(rawValue: 0)
    public static let topic = Self(rawValue: 2)
    public static let broker = Self(rawValue: 4)
    public static let brokerLogger = Self(rawValue: 8)

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .topic: "TOPIC"
        case .broker: "BROKER"
        case .brokerLogger: "BROKER_LOGGER"
        default: "ConfigResourceType(\(self.rawValue))"
        }
    }
}

/// Where a config value comes from (DescribeConfigs v1+, an int8).
public struct ConfigSource: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int8

    public init(rawValue: Int8) {
        self.rawValue = rawValue
    }

    /// The schema's placeholder when the version carries no source (v0).
    public static let notReported = Self(rawValue: -1)
    public static let unknown = Self(rawValue: 0)
    public static let topicConfig = Self(rawValue: 1)
    public static let dynamicBrokerConfig = Self(rawValue: 2)
    public static let dynamicDefaultBrokerConfig = Self(rawValue: 3)
    public static let staticBrokerConfig = Self(rawValue: 4)
    public static let defaultConfig = Self(rawValue: 5)
    public static let dynamicBrokerLoggerConfig = Self(rawValue: 6)

    public var description: String {
        switch self {
        case .notReported: "NOT_REPORTED"
        case .unknown: "UNKNOWN_CONFIG"
        case .topicConfig: "TOPIC_CONFIG"
        case .dynamicBrokerConfig: "DYNAMIC_BROKER_CONFIG"
        case .dynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case .staticBrokerConfig: "STATIC_BROKER_CONFIG"
        case .defaultConfig: "DEFAULT_CONFIG"
        case .dynamicBrokerLoggerConfig: "DYNAMIC_BROKER_LOGGER_CONFIG"
        default: "ConfigSource(\(self.rawValue))"
        }
    }
}

/// DescribeConfigs (key 32), v0–v3: v1 adds `includeSynonyms`, v3 `includeDocumentation`. v2
/// changes only throttling; v4 is the first flexible version.
public struct DescribeConfigsRequest: KafkaRequestMessage {
    public typealias Response = DescribeConfigsResponse
    public static let apiKey = ApiKey.describeConfigs
    public static let versions: ClosedRange<Int16> = 0...3

    public struct Resource: Hashable, Sendable {
        public var resourceType: ConfigResourceType
        /// The topic name, or the broker id as a decimal string ("" for the cluster-wide default).
        public var resourceName: String
        /// The keys to describe, or nil for all of them.
        public var configurationKeys: [String]?

        public init(resourceType: ConfigResourceType, resourceName: String, configurationKeys: [String]? = nil) {
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.configurationKeys = configurationKeys
        }
    }

    public var resources: [Resource]
    public var includeSynonyms: Bool
    public var includeDocumentation: Bool

    public init(resources: [Resource], includeSynonyms: Bool = false, includeDocumentation: Bool = false) {
        self.resources = resources
        self.includeSynonyms = includeSynonyms
        self.includeDocumentation = includeDocumentation
    }

    public init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
        let flexible = Self.isFlexible(version)
        self.init(
            resources: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                Resource(
                    resourceType: ConfigResourceType(rawValue: try buffer.readKafkaInteger()),
                    resourceName: try buffer.readKafkaString(flexible: flexible),
                    configurationKeys: try buffer.readKafkaNullableArray(flexible: flexible) {
                        buffer throws(WireError) in
                        try buffer.readKafkaString(flexible: flexible)
                    }
                )
            }
        )
        if version >= 1 { self.includeSynonyms = try buffer.readKafkaBool() }
        if version >= 3 { self.includeDocumentation = try buffer.readKafkaBool() }
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeKafkaArray(self.resources, flexible: flexible) { buffer, resource in
            buffer.writeInteger(resource.resourceType.rawValue)
            buffer.writeKafkaString(resource.resourceName, flexible: flexible)
            buffer.writeKafkaNullableArray(resource.configurationKeys, flexible: flexible) { buffer, key in
                buffer.writeKafkaString(key, flexible: flexible)
            }
        }
        if version >= 1 { buffer.writeKafkaBool(self.includeSynonyms) }
        if version >= 3 { buffer.writeKafkaBool(self.includeDocumentation) }
    }
}

/// DescribeConfigs response, v0–v3. v0 says only whether each value is a default (`isDefault`);
/// v1 replaces that with `configSource` and adds synonyms; v3 adds the value type and documentation.
public struct DescribeConfigsResponse: KafkaResponseMessage {
    public static let apiKey = ApiKey.describeConfigs
    public static let versions: ClosedRange<Int16> = 0...3

    /// Another key that sets the same value, in the order the broker resolves them (v1+).
    public struct Synonym: Hashable, Sendable {
        public var name: String
        public var value: String?
        public var source: ConfigSource

        public init(name: String, value: String?, source: ConfigSource) {
            self.name = name
            self.value = value
            self.source = source
        }
    }

    public struct Config: Hashable, Sendable {
        public var name: String
        /// Nil for sensitive values.
        public var value: String?
        public var readOnly: Bool
        /// v0 only; later versions report `configSource` instead.
        public var isDefault: Bool
        /// v1+; `.notReported` (-1) when read from v0.
        public var configSource: ConfigSource
        public var isSensitive: Bool
        public var synonyms: [Synonym]
        /// The value type (v3+): 1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE, 7 LIST,
        /// 8 CLASS, 9 PASSWORD; 0 unknown.
        public var configType: Int8
        public var documentation: String?

        public init(
            name: String,
            value: String?,
            readOnly: Bool,
            isDefault: Bool = false,
            configSource: ConfigSource = .notReported,
            isSensitive: Bool,
            synonyms: [Synonym] = [],
            configType: Int8 = 0,
            documentation: String? = nil
        ) {
            self.name = name
            self.value = value
            self.readOnly = readOnly
            self.isDefault = isDefault
            self.configSource = configSource
            self.isSensitive = isSensitive
            self.synonyms = synonyms
            self.configType = configType
            self.documentation = documentation
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = DescribeConfigsResponse.isFlexible(version)
            self.init(
                name: try buffer.readKafkaString(flexible: flexible),
                value: try buffer.readKafkaNullableString(flexible: flexible),
                readOnly: try buffer.readKafkaBool(),
                isSensitive: false
            )
            if version == 0 { self.isDefault = try buffer.readKafkaBool() }
            if version >= 1 { self.configSource = ConfigSource(rawValue: try buffer.readKafkaInteger()) }
            self.isSensitive = try buffer.readKafkaBool()
            if version >= 1 {
                self.synonyms = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    Synonym(
                        name: try buffer.readKafkaString(flexible: flexible),
                        value: try buffer.readKafkaNullableString(flexible: flexible),
                        source: ConfigSource(rawValue: try buffer.readKafkaInteger())
                    )
                }
            }
            if version >= 3 {
                self.configType = try buffer.readKafkaInteger()
                self.documentation = try buffer.readKafkaNullableString(flexible: flexible)
            }
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = DescribeConfigsResponse.isFlexible(version)
            buffer.writeKafkaString(self.name, flexible: flexible)
            buffer.writeKafkaNullableString(self.value, flexible: flexible)
            buffer.writeKafkaBool(self.readOnly)
            if version == 0 { buffer.writeKafkaBool(self.isDefault) }
            if version >= 1 { buffer.writeInteger(self.configSource.rawValue) }
            buffer.writeKafkaBool(self.isSensitive)
            if version >= 1 {
                buffer.writeKafkaArray(self.synonyms, flexible: flexible) { buffer, synonym in
                    buffer.writeKafkaString(synonym.name, flexible: flexible)
                    buffer.writeKafkaNullableString(synonym.value, flexible: flexible)
                    buffer.writeInteger(synonym.source.rawValue)
                }
            }
            if version >= 3 {
                buffer.writeInteger(self.configType)
                buffer.writeKafkaNullableString(self.documentation, flexible: flexible)
            }
        }
    }

    public struct Result: Hashable, Sendable {
        public var errorCode: KafkaErrorCode
        public var errorMessage: String?
        public var resourceType: ConfigResourceType
        public var resourceName: String
        public var configs: [Config]

        public init(
            errorCode: KafkaErrorCode = .none,
            errorMessage: String? = nil,
            resourceType: ConfigResourceType,
            resourceName: String,
            configs: [Config]
        ) {
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.configs = configs
        }

        init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {
            let flexible = DescribeConfigsResponse.isFlexible(version)
            self.init(
                errorCode: try buffer.readKafkaErrorCode(),
                errorMessage: try buffer.readKafkaNullableString(flexible: flexible),
                resourceType: ConfigResourceType(rawValue: try buffer.readKafkaInteger()),
                resourceName: try buffer.readKafkaString(flexible: flexible),
                configs: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try Config(from: &buffer, version: version)
                }
            )
        }

        func write(to buffer: inout ByteBuffer, version: Int16) {
            let flexible = DescribeConfigsResponse.isFlexible(version)
            buffer.writeKafkaErrorCode(self.errorCode)
            buffer.writeKafkaNullableString(self.errorMessage, flexible: flexible)
            buffer.writeInteger(self.resourceType.rawValue)
            buffer.writeKafkaString(self.resourceName, flexible: flexible)
            buffer.writeKafkaArray(self.configs, flexible: flexible) { buffer, config in
                config.write(to: &buffer, version: version)
            }
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
        self.init(
            throttleTimeMs: try buffer.readKafkaInteger(),
            results: try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                try Result(from: &buffer, version: version)
            }
        )
    }

    public func write(to buffer: inout ByteBuffer, version: Int16) {
        let flexible = Self.isFlexible(version)
        buffer.writeInteger(self.throttleTimeMs)
        buffer.writeKafkaArray(self.results, flexible: flexible) { buffer, result in
            result.write(to: &buffer, version: version)
        }
    }
}
