import NIOCore
import TernStorage
import TernWire

/// A refused config change: the Kafka error code and message of one resource's result.
struct ConfigChangeError: Error, Equatable {
    var code: KafkaErrorCode
    var message: String

    init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// IncrementalAlterConfigs' `config_operation` (Kafka's `AlterConfigOp.OpType` ids).
enum IncrementalConfigOperation: Int8, Sendable {
    case set = 0
    case delete = 1
    case append = 2
    case subtract = 3
}

/// One requested change of IncrementalAlterConfigs, decoded from the wire.
struct IncrementalConfigChange: Equatable, Sendable {
    var name: String
    var operation: Int8
    var value: String?
}

enum ConfigAlteration {
    /// AlterConfigs' new override set: exactly the configs given (Kafka replaces the whole set).
    ///
    /// - Throws: INVALID_REQUEST for a key given twice or a null value.
    static func replacement(_ configs: [(name: String, value: String?)]) throws(ConfigChangeError) -> [String: String] {
        var result: [String: String] = [:]
        for config in configs {
            guard result[config.name] == nil else {
                throw ConfigChangeError(.invalidRequest, "duplicate config key '\(config.name)'")
            }
            guard let value = config.value else {
                throw ConfigChangeError(.invalidRequest, "null value is not supported for '\(config.name)'")
            }
            result[config.name] = value
        }
        return result
    }

    /// Applies IncrementalAlterConfigs' operations to the current overrides, with Kafka's rules:
    /// SET replaces, DELETE removes the override (so the inherited value applies again), APPEND
    /// adds the list items not yet present and SUBTRACT removes items, both starting from the
    /// override or else the inherited value, and both only for list-typed keys.
    ///
    /// - Parameters:
    ///   - type: the key's value type, nil for a key the resource does not know.
    ///   - inherited: the value the key has without an override.
    /// - Throws: INVALID_REQUEST for a duplicate key, an unknown operation or a null value for
    ///   SET/APPEND/SUBTRACT; INVALID_CONFIG for APPEND/SUBTRACT on a key that is not a list.
    static func applying(
        _ changes: [IncrementalConfigChange],
        to current: [String: String],
        type: (String) -> LogConfig.ValueType?,
        inherited: (String) -> String?
    ) throws(ConfigChangeError) -> [String: String] {
        var seen = Set<String>()
        for change in changes where !seen.insert(change.name).inserted {
            throw ConfigChangeError(.invalidRequest, "duplicate config key '\(change.name)'")
        }
        var result = current
        for change in changes {
            guard let operation = IncrementalConfigOperation(rawValue: change.operation) else {
                throw ConfigChangeError(
                    .invalidRequest,
                    "unknown config operation \(change.operation) for '\(change.name)'"
                )
            }
            if operation == .delete {
                result[change.name] = nil
                continue
            }
            guard let value = change.value else {
                throw ConfigChangeError(.invalidRequest, "null value is not supported for '\(change.name)'")
            }
            switch operation {
            case .set:
                result[change.name] = value
            case .append, .subtract:
                guard type(change.name) == .list else {
                    throw ConfigChangeError(
                        .invalidConfig,
                        "config value \(operation == .append ? "append" : "subtract") is not allowed for config key: \(change.name)"
                    )
                }
                let old = Self.listItems(result[change.name] ?? inherited(change.name) ?? "")
                let given = Self.listItems(value)
                let items =
                    operation == .append ? old + given.filter { !old.contains($0) } : old.filter { !given.contains($0) }
                result[change.name] = items.joined(separator: ",")
            case .delete:
                preconditionFailure("handled above")
            }
        }
        return result
    }

    private static func listItems(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0.drop(while: { $0 == " " })) }.map { item in
            var item = Substring(item)
            while item.last == " " { item.removeLast() }
            return String(item)
        }.filter { !$0.isEmpty }
    }
}

/// The broker's dynamic configs (AlterConfigs on a BROKER resource): Kafka's two layers, the
/// cluster-wide default (resource name "") and this broker's own (its node id), the latter
/// stronger. Only the `log.*` topic defaults are dynamic in Tern; they apply to every topic that
/// does not override the key and persist in the data directory, one properties file per layer.
struct DynamicBrokerConfig: Sendable, Equatable {
    var clusterDefaults: [String: String] = [:]
    var perBroker: [String: String] = [:]

    enum Layer: Sendable {
        case clusterDefault
        case broker
    }

    static let clusterDefaultsFileName = "dynamic-broker-default.properties"
    static func brokerFileName(nodeId: Int32) -> String { "dynamic-broker-\(nodeId).properties" }

    /// Broker keys that may change while ternd runs.
    static let dynamicKeys = Set(BrokerSettings.logConfigKeys.keys)

    subscript(layer: Layer) -> [String: String] {
        get { layer == .clusterDefault ? self.clusterDefaults : self.perBroker }
        set {
            if layer == .clusterDefault { self.clusterDefaults = newValue } else { self.perBroker = newValue }
        }
    }

    /// The value a broker key has from the dynamic layers, with its source.
    func dynamicValue(_ brokerKey: String) -> [(value: String, source: ConfigSource)] {
        var found: [(String, ConfigSource)] = []
        if let value = self.perBroker[brokerKey] { found.append((value, .dynamicBrokerConfig)) }
        if let value = self.clusterDefaults[brokerKey] { found.append((value, .dynamicDefaultBrokerConfig)) }
        return found
    }

    /// The topic defaults: `staticDefaults` with both layers applied (this broker's last).
    func topicDefaults(over staticDefaults: LogConfig) throws(StorageError) -> LogConfig {
        var topicProperties: [String: String] = [:]
        for layer in [self.clusterDefaults, self.perBroker] {
            for (brokerKey, value) in layer {
                if let topicKey = BrokerSettings.logConfigKeys[brokerKey] { topicProperties[topicKey] = value }
            }
        }
        return try LogConfig(properties: topicProperties, defaults: staticDefaults)
    }

    /// Checks a layer's keys: only dynamic ones, and (with the other layer) values LogConfig
    /// accepts.
    ///
    /// - Throws: INVALID_REQUEST, as Kafka answers an invalid broker config change.
    func validate(over staticDefaults: LogConfig, resourceName: String) throws(ConfigChangeError) {
        for key in Set(self.clusterDefaults.keys).union(self.perBroker.keys).sorted()
        where !Self.dynamicKeys.contains(key) {
            let reason =
                BrokerSettings.recognisedKeys.contains(key)
                ? "Cannot update these configs dynamically: [\(key)]" : "unknown broker config '\(key)'"
            throw ConfigChangeError(
                .invalidRequest,
                "Invalid config value for resource ConfigResource(type=BROKER, name='\(resourceName)'): \(reason)"
            )
        }
        for (key, value) in self.clusterDefaults.merging(self.perBroker, uniquingKeysWith: { $1 })
        where value.contains("\n") {
            throw ConfigChangeError(.invalidRequest, "config '\(key)' contains a line break")
        }
        do throws(StorageError) {
            _ = try self.topicDefaults(over: staticDefaults)
        } catch {
            throw ConfigChangeError(
                .invalidRequest,
                "Invalid config value for resource ConfigResource(type=BROKER, name='\(resourceName)'): "
                    + error.message
            )
        }
    }

    /// Both layers as stored in the data directory; missing files are empty layers.
    static func load(from logs: LogManager, nodeId: Int32) throws -> DynamicBrokerConfig {
        func read(_ name: String) throws -> [String: String] {
            guard let bytes = try logs.readDataFile(named: name) else { return [:] }
            return try BrokerSettings.parseProperties(String(buffer: bytes))
        }
        return DynamicBrokerConfig(
            clusterDefaults: try read(Self.clusterDefaultsFileName),
            perBroker: try read(Self.brokerFileName(nodeId: nodeId))
        )
    }

    /// Writes one layer's file atomically.
    func save(_ layer: Layer, to logs: LogManager, nodeId: Int32) throws(StorageError) {
        var text = "# Tern dynamic broker configs (AlterConfigs); rewritten by the broker\n"
        for (key, value) in self[layer].sorted(by: { $0.key < $1.key }) { text += "\(key)=\(value)\n" }
        let name = layer == .clusterDefault ? Self.clusterDefaultsFileName : Self.brokerFileName(nodeId: nodeId)
        try logs.writeDataFile(named: name, bytes: ByteBuffer(string: text))
    }
}
