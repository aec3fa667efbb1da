import Logging
import Synchronization
import TernStorage
import TernWire

/// One layer a config value comes from, strongest first in a synonym list.
private struct ConfigSynonym {
    var name: String
    var value: String
    var source: ConfigSource
}

extension Broker {
    // MARK: DescribeConfigs

    func describeConfigs(_ request: DescribeConfigsRequest, origin: RequestOrigin) -> DescribeConfigsResponse {
        let version = origin.apiVersion
        let options = DescribeOptions(
            version: version,
            includeSynonyms: version >= 1 && request.includeSynonyms,
            includeDocumentation: version >= 3 && request.includeDocumentation
        )
        return DescribeConfigsResponse(
            results: request.resources.map { resource in
                func failure(_ code: KafkaErrorCode, _ message: String) -> DescribeConfigsResponse.DescribeConfigsResult
                {
                    .init(
                        errorCode: code,
                        errorMessage: message,
                        resourceType: resource.resourceType,
                        resourceName: resource.resourceName,
                        configs: []
                    )
                }
                if let denied = self.configAccessError(
                    origin,
                    .describeConfigs,
                    resource.resourceType,
                    resource.resourceName
                ) {
                    return failure(denied, "Authorization failed.")
                }
                let entries: [DescribeConfigsResponse.DescribeConfigsResourceResult]
                switch resource.resourceType {
                case .topic:
                    guard let topic = self.logs.topic(resource.resourceName) else {
                        return failure(.unknownTopicOrPartition, "topic \(resource.resourceName) does not exist")
                    }
                    entries = self.topicConfigEntries(topic, options: options)
                case .broker:
                    do throws(ConfigChangeError) {
                        entries = self.brokerConfigEntries(layer: try self.brokerLayer(resource.resourceName), options)
                    } catch {
                        return failure(error.code, error.message)
                    }
                default:
                    return failure(.invalidRequest, "Unsupported resource type: \(resource.resourceType)")
                }
                // Keys the resource does not have are left out, as Kafka does.
                let wanted = resource.configurationKeys.map(Set.init)
                return .init(
                    resourceType: resource.resourceType,
                    resourceName: resource.resourceName,
                    configs: entries.filter { wanted?.contains($0.name) ?? true }
                )
            }
        )
    }

    private struct DescribeOptions {
        var version: Int16
        var includeSynonyms: Bool
        var includeDocumentation: Bool
    }

    private func entry(
        _ name: String,
        value: String,
        synonyms: [ConfigSynonym],
        readOnly: Bool,
        catalogue: (type: LogConfig.ValueType, documentation: String)?,
        _ options: DescribeOptions
    ) -> DescribeConfigsResponse.DescribeConfigsResourceResult {
        let source = synonyms.first?.source ?? .defaultConfig
        // Passwords are described, never shown, as Kafka does.
        let isSensitive = BrokerSettings.sensitiveKeys.contains(name)
        return .init(
            name: name,
            value: isSensitive ? nil : value,
            readOnly: readOnly,
            isDefault: source == .defaultConfig,
            configSource: options.version >= 1 ? source : .notReported,
            isSensitive: isSensitive,
            synonyms: options.includeSynonyms
                ? synonyms.map { .init(name: $0.name, value: isSensitive ? nil : $0.value, source: $0.source.rawValue) }
                : [],
            configType: catalogue.map { Self.kafkaConfigType($0.type) } ?? 0,
            documentation: options.includeDocumentation ? catalogue?.documentation : nil
        )
    }

    /// Kafka's `DescribeConfigsResponse.ConfigType` ids.
    static func kafkaConfigType(_ type: LogConfig.ValueType) -> Int8 {
        switch type {
        case .boolean: 1
        case .string: 2
        case .int: 3
        case .long: 5
        case .double: 6
        case .list: 7
        }
    }

    /// Every supported topic config plus the accepted-but-ignored ones the topic overrides.
    private func topicConfigEntries(
        _ topic: TopicDescription,
        options: DescribeOptions
    ) -> [DescribeConfigsResponse.DescribeConfigsResourceResult] {
        let effective = topic.config.kafkaProperties
        let keys = Set(effective.keys).union(topic.configOverrides.keys).sorted()
        return keys.map { key in
            self.entry(
                key,
                value: effective[key] ?? topic.configOverrides[key] ?? "",
                synonyms: self.topicSynonyms(key, topic: topic),
                readOnly: false,
                catalogue: LogConfig.keyCatalogue[key],
                options
            )
        }
    }

    /// A topic key's layers: the topic's override, then the broker key it defaults from.
    private func topicSynonyms(_ key: String, topic: TopicDescription) -> [ConfigSynonym] {
        var synonyms: [ConfigSynonym] = []
        if let value = topic.configOverrides[key] {
            synonyms.append(ConfigSynonym(name: key, value: value, source: .topicConfig))
        }
        if let brokerKey = Self.brokerKeysByTopicKey[key] { synonyms += self.brokerSynonyms(brokerKey) }
        return synonyms
    }

    /// A broker key's layers: this broker's dynamic value, the cluster-wide dynamic default, the
    /// static setting, Kafka's default.
    private func brokerSynonyms(_ brokerKey: String) -> [ConfigSynonym] {
        var synonyms = self.dynamicConfig.withLock { $0.dynamicValue(brokerKey) }.map {
            ConfigSynonym(name: brokerKey, value: $0.value, source: $0.source)
        }
        if let value = self.configuration.staticProperties[brokerKey] {
            synonyms.append(ConfigSynonym(name: brokerKey, value: value, source: .staticBrokerConfig))
        }
        if let value = BrokerSettings.defaultValues[brokerKey] {
            synonyms.append(ConfigSynonym(name: brokerKey, value: value, source: .defaultConfig))
        }
        return synonyms
    }

    static let brokerKeysByTopicKey: [String: String] = Dictionary(
        uniqueKeysWithValues: BrokerSettings.logConfigKeys.map { ($0.value, $0.key) }
    )

    private func brokerConfigEntries(
        layer: DynamicBrokerConfig.Layer,
        _ options: DescribeOptions
    ) -> [DescribeConfigsResponse.DescribeConfigsResourceResult] {
        if layer == .clusterDefault {
            // The cluster-wide resource holds only what was set on it (as Kafka's "" resource).
            return self.dynamicConfig.withLock { $0.clusterDefaults }.sorted { $0.key < $1.key }.map { key, value in
                self.entry(
                    key,
                    value: value,
                    synonyms: [ConfigSynonym(name: key, value: value, source: .dynamicDefaultBrokerConfig)],
                    readOnly: false,
                    catalogue: Self.brokerKeyCatalogue(key),
                    options
                )
            }
        }
        return BrokerSettings.recognisedKeys.sorted().compactMap { key in
            let synonyms = self.brokerSynonyms(key)
            guard let strongest = synonyms.first else { return nil }
            return self.entry(
                key,
                value: strongest.value,
                synonyms: synonyms,
                readOnly: !DynamicBrokerConfig.dynamicKeys.contains(key),
                catalogue: Self.brokerKeyCatalogue(key),
                options
            )
        }
    }

    static func brokerKeyCatalogue(_ key: String) -> (type: LogConfig.ValueType, documentation: String)? {
        if let topicKey = BrokerSettings.logConfigKeys[key], let topic = LogConfig.keyCatalogue[topicKey] {
            return (topic.type, "Default of the topic config \(topicKey): " + topic.documentation)
        }
        return BrokerSettings.staticKeyCatalogue[key]
    }

    /// The dynamic layer a BROKER resource name stands for: "" is the cluster-wide default, this
    /// node's id the broker itself.
    ///
    /// - Throws: INVALID_REQUEST for any other name, as Kafka does.
    private func brokerLayer(_ resourceName: String) throws(ConfigChangeError) -> DynamicBrokerConfig.Layer {
        if resourceName.isEmpty { return .clusterDefault }
        guard let id = Int32(resourceName) else {
            throw ConfigChangeError(.invalidRequest, "Broker id must be an integer, but it is: \(resourceName)")
        }
        guard id == self.configuration.nodeId else {
            throw ConfigChangeError(
                .invalidRequest,
                "Unexpected broker id, expected \(self.configuration.nodeId) or empty string, but received \(id)"
            )
        }
        return .broker
    }

    // MARK: AlterConfigs, IncrementalAlterConfigs

    /// TOPIC_AUTHORIZATION_FAILED or CLUSTER_AUTHORIZATION_FAILED (broker resources are the
    /// cluster's) when the principal may not do `operation` to the resource's configs.
    func configAccessError(
        _ origin: RequestOrigin,
        _ operation: AclOperation,
        _ type: ConfigResourceType,
        _ name: String
    ) -> KafkaErrorCode? {
        if type == .topic {
            return self.isAllowed(origin, operation, .topic, name) ? nil : .topicAuthorizationFailed
        }
        return self.isAllowedOnCluster(origin, operation) ? nil : .clusterAuthorizationFailed
    }

    func alterConfigs(_ request: AlterConfigsRequest, origin: RequestOrigin) -> AlterConfigsResponse {
        AlterConfigsResponse(
            responses: request.resources.map { resource in
                if let denied = self.configAccessError(
                    origin,
                    .alterConfigs,
                    resource.resourceType,
                    resource.resourceName
                ) {
                    return .init(
                        errorCode: denied,
                        errorMessage: "Authorization failed.",
                        resourceType: resource.resourceType,
                        resourceName: resource.resourceName
                    )
                }
                let result = self.alterResource(
                    type: resource.resourceType,
                    name: resource.resourceName,
                    validateOnly: request.validateOnly,
                    isDuplicate: request.resources.filter {
                        $0.resourceType == resource.resourceType && $0.resourceName == resource.resourceName
                    }.count > 1
                ) { _, _, _ throws(ConfigChangeError) in
                    try ConfigAlteration.replacement(resource.configs.map { ($0.name, $0.value) })
                }
                return .init(
                    errorCode: result.code,
                    errorMessage: result.message,
                    resourceType: resource.resourceType,
                    resourceName: resource.resourceName
                )
            }
        )
    }

    func incrementalAlterConfigs(
        _ request: IncrementalAlterConfigsRequest,
        origin: RequestOrigin
    ) -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse(
            responses: request.resources.map { resource in
                if let denied = self.configAccessError(
                    origin,
                    .alterConfigs,
                    resource.resourceType,
                    resource.resourceName
                ) {
                    return .init(
                        errorCode: denied,
                        errorMessage: "Authorization failed.",
                        resourceType: resource.resourceType,
                        resourceName: resource.resourceName
                    )
                }
                let changes = resource.configs.map {
                    IncrementalConfigChange(name: $0.name, operation: $0.configOperation, value: $0.value)
                }
                let result = self.alterResource(
                    type: resource.resourceType,
                    name: resource.resourceName,
                    validateOnly: request.validateOnly,
                    isDuplicate: request.resources.filter {
                        $0.resourceType == resource.resourceType && $0.resourceName == resource.resourceName
                    }.count > 1
                ) { current, type, inherited throws(ConfigChangeError) in
                    try ConfigAlteration.applying(changes, to: current, type: type, inherited: inherited)
                }
                return .init(
                    errorCode: result.code,
                    errorMessage: result.message,
                    resourceType: resource.resourceType,
                    resourceName: resource.resourceName
                )
            }
        )
    }

    /// What a change makes of a resource's current overrides, given each key's type and
    /// inherited value.
    typealias ConfigChangeRule = (
        _ current: [String: String],
        _ type: (String) -> LogConfig.ValueType?,
        _ inherited: (String) -> String?
    ) throws(ConfigChangeError) -> [String: String]

    /// Applies (or with `validateOnly` only checks) a change of one resource's overrides.
    private func alterResource(
        type: ConfigResourceType,
        name: String,
        validateOnly: Bool,
        isDuplicate: Bool,
        _ rule: ConfigChangeRule
    ) -> (code: KafkaErrorCode, message: String?) {
        guard !isDuplicate else {
            return (.invalidRequest, "Error due to duplicate config resource \(type) \(name)")
        }
        do throws(ConfigChangeError) {
            switch type {
            case .topic: try self.alterTopicConfig(name, validateOnly: validateOnly, rule)
            case .broker: try self.alterBrokerConfig(name, validateOnly: validateOnly, rule)
            default:
                throw ConfigChangeError(
                    .invalidRequest,
                    "AlterConfigs is only supported for topics and brokers, but resource type is \(type)"
                )
            }
            return (.none, nil)
        } catch {
            return (error.code, error.message)
        }
    }

    private func alterTopicConfig(_ name: String, validateOnly: Bool, _ rule: ConfigChangeRule)
        throws(ConfigChangeError)
    {
        // The rule runs under the topic's lock (typed as StorageError): its own error waits here.
        var ruleError: ConfigChangeError?
        do throws(StorageError) {
            let altered = try self.logs.alterTopicConfig(name, validateOnly: validateOnly) {
                topic,
                defaults throws(StorageError) in
                do throws(ConfigChangeError) {
                    let inherited = defaults.kafkaProperties
                    return try rule(topic.configOverrides, { LogConfig.keyCatalogue[$0]?.type }, { inherited[$0] })
                } catch {
                    ruleError = error
                    throw StorageError(.invalidConfig, error.message)
                }
            }
            if !validateOnly {
                self.logger.info(
                    "altered topic config",
                    metadata: [
                        "topic": "\(name)", "overrides": "\(altered.configOverrides.sorted { $0.key < $1.key })",
                    ]
                )
            }
        } catch {
            if let ruleError { throw ruleError }
            throw ConfigChangeError(error.kafkaErrorCode, error.message)
        }
    }

    private func alterBrokerConfig(_ name: String, validateOnly: Bool, _ rule: ConfigChangeRule)
        throws(ConfigChangeError)
    {
        let layer = try self.brokerLayer(name)
        let staticDefaults = self.configuration.defaultLogConfig
        let staticProperties = self.configuration.staticProperties
        let defaults = BrokerSettings.defaultValues
        // Under the lock: concurrent changes of broker configs apply one after the other.
        try self.dynamicConfig.withLock { config throws(ConfigChangeError) in
            var updated = config
            let clusterDefaults = config.clusterDefaults
            updated[layer] = try rule(
                config[layer],
                { Self.brokerKeyCatalogue($0)?.type },
                { key in
                    (layer == .broker ? clusterDefaults[key] : nil) ?? staticProperties[key] ?? defaults[key]
                }
            )
            try updated.validate(over: staticDefaults, resourceName: name)
            guard !validateOnly else { return }
            do throws(StorageError) {
                try updated.save(layer, to: self.logs, nodeId: self.configuration.nodeId)
                try self.logs.setDefaultConfig(updated.topicDefaults(over: staticDefaults))
            } catch {
                throw ConfigChangeError(error.kafkaErrorCode, error.message)
            }
            config = updated
            self.logger.info(
                "altered broker config",
                metadata: ["resource": "\(name)", "configs": "\(updated[layer].sorted { $0.key < $1.key })"]
            )
        }
    }
}
