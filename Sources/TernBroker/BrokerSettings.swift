import TernCoordinator
import TernStorage
import TernTransactions

/// Everything `ternd` is configured with, resolved from Kafka-style properties.
///
/// Sources, strongest first: command-line flags, `TERN_*` environment variables (the property
/// name upper-cased with dots as underscores: `TERN_NUM_PARTITIONS`), the `--config` properties
/// file, then the defaults. Every recognised key is listed in docs/configuration.md.
public struct BrokerSettings: Sendable {
    public var dataDirectory = "./tern-data"
    public var host = "127.0.0.1"
    public var port = 9092
    /// The Kafka listeners (`listeners`; by default one PLAINTEXT listener on `host`/`port`). The
    /// first one's address is also `host`/`port`, and its advertised address the broker's default.
    public var listeners: [ListenerSettings] = []
    /// TLS for the SSL listeners; nil when there is none.
    public var tls: TLSSettings?
    /// `sasl.enabled.mechanisms` of the SASL listeners (Kafka's default is GSSAPI, which Tern
    /// does not serve: all three it does by default).
    public var saslMechanisms: [SaslMechanism] = SaslMechanism.allCases
    /// `socket.request.max.bytes`.
    public var maximumRequestBytes = 104_857_600
    /// `log.retention.check.interval.ms`: how often retention runs.
    public var retentionCheckIntervalMs: Int64 = 300_000
    /// `http.host` / `http.port`: the admin listener (metrics and health probes).
    public var httpHost = "127.0.0.1"
    public var httpPort = 9644
    /// `http.ssl.*`: the admin listener serves HTTPS with this keystore (nil: plain HTTP).
    public var httpTLS: TLSSettings?
    /// `shutdown.delay.ms`: on SIGTERM, how long readiness reports 503 before the Kafka listener
    /// stops accepting (time for a load balancer or Kubernetes to stop routing clients here).
    public var shutdownDelayMs: Int64 = 0
    /// `connections.max.idle.ms`: a Kafka connection with no complete request and no pending
    /// reply for this long is closed (10 minutes, as Kafka); -1: never.
    public var connectionsMaxIdleMs: Int64 = 600_000
    /// `socket.write.timeout.ms` (Tern's own; Kafka has none): a connection whose replies cannot be
    /// handed to its socket for this long (the client stopped reading) is closed; -1: never.
    public var socketWriteTimeoutMs: Int64 = 30_000
    /// `max.connections`: open Kafka connections in all; unlimited by default, as Kafka.
    public var maximumConnections = Int.max
    /// `max.connections.per.ip`: open Kafka connections from one client address.
    public var maximumConnectionsPerAddress = Int.max
    /// `max.connections.per.ip.overrides`: `address:count` pairs, comma-separated, as Kafka.
    public var connectionsPerAddressOverrides: [String: Int] = [:]
    public var broker = BrokerConfiguration()
    /// `log.cleaner.*`: the log cleaner's threads, memory and I/O cap.
    public var cleaner = LogCleanerConfig()

    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// Broker property → topic-level `LogConfig` key it sets the default of (Kafka's names).
    public static let logConfigKeys: [String: String] = [
        "log.segment.bytes": "segment.bytes",
        "log.roll.ms": "segment.ms",
        "log.retention.ms": "retention.ms",
        "log.retention.bytes": "retention.bytes",
        "message.max.bytes": "max.message.bytes",
        "log.flush.interval.messages": "flush.messages",
        "log.flush.interval.ms": "flush.ms",
        "log.index.interval.bytes": "index.interval.bytes",
        "log.index.size.max.bytes": "segment.index.bytes",
        "log.message.timestamp.type": "message.timestamp.type",
        "log.cleanup.policy": "cleanup.policy",
        "log.cleaner.delete.retention.ms": "delete.retention.ms",
        "log.cleaner.min.compaction.lag.ms": "min.compaction.lag.ms",
        "log.cleaner.max.compaction.lag.ms": "max.compaction.lag.ms",
        "log.cleaner.min.cleanable.ratio": "min.cleanable.dirty.ratio",
    ]

    /// Keys given in hours or minutes that Kafka also accepts, converted to their `.ms` key.
    static let coarseTimeKeys: [String: (key: String, multiplier: Int64)] = [
        "log.retention.hours": ("log.retention.ms", 3_600_000),
        "log.retention.minutes": ("log.retention.ms", 60_000),
        "log.roll.hours": ("log.roll.ms", 3_600_000),
    ]

    public static let otherKeys: Set<String> = Set([
        "log.dirs", "log.dir", "host", "port", "advertised.host", "advertised.port", "node.id", "broker.id",
        "cluster.id", "num.partitions", "auto.create.topics.enable", "socket.request.max.bytes",
        "fetch.max.bytes", "log.retention.check.interval.ms", "group.min.session.timeout.ms",
        "group.max.session.timeout.ms", "group.initial.rebalance.delay.ms", "http.host", "http.port",
        "shutdown.delay.ms", "connections.max.idle.ms", "connections.max.reauth.ms", "socket.write.timeout.ms",
        "max.connections",
        "max.connections.per.ip",
        "max.connections.per.ip.overrides", "offsets.retention.minutes", "offsets.retention.check.interval.ms",
        "transaction.max.timeout.ms", "transactional.id.expiration.ms",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    ]).union(listenerKeyCatalogue.keys).union(cleanerKeyCatalogue.keys)

    /// Type and one-line description of each static broker key (DescribeConfigs); the `log.*`
    /// keys take theirs from the topic key they set the default of.
    static let staticKeyCatalogue: [String: (type: LogConfig.ValueType, documentation: String)] =
        listenerKeyCatalogue.merging([
            "log.dirs": (.string, "Data directory (its first entry)."),
            "log.dir": (.string, "Data directory, when log.dirs is not set."),
            "host": (.string, "Address the Kafka listener binds to."),
            "port": (.int, "Port of the Kafka listener."),
            "advertised.host": (.string, "Host given to clients."),
            "advertised.port": (.int, "Port given to clients."),
            "node.id": (.int, "This broker's id."),
            "broker.id": (.int, "This broker's id (older name of node.id)."),
            "cluster.id": (.string, "Cluster id in Metadata."),
            "num.partitions": (.int, "Partitions of an auto-created topic."),
            "auto.create.topics.enable": (.boolean, "Metadata creates unknown topics."),
            "socket.request.max.bytes": (.int, "Largest request frame accepted."),
            "fetch.max.bytes": (.int, "Cap on one Fetch response."),
            "log.retention.check.interval.ms": (.long, "How often retention runs."),
            "group.min.session.timeout.ms": (.int, "Smallest session timeout a JoinGroup may ask for."),
            "group.max.session.timeout.ms": (.int, "Largest session timeout a JoinGroup may ask for."),
            "group.initial.rebalance.delay.ms": (.int, "Wait for more members before a new group's first rebalance."),
            "offsets.retention.minutes": (
                .int, "Committed offsets are deleted this long after their group emptied (or their commit)."
            ),
            "offsets.retention.check.interval.ms": (.long, "How often committed offsets are checked for expiry."),
            "transaction.max.timeout.ms": (.int, "Largest transaction timeout an InitProducerId may ask for."),
            "transactional.id.expiration.ms": (
                .long, "A transactional id unused for this long (no open transaction) is removed."
            ),
            "transaction.abort.timed.out.transaction.cleanup.interval.ms": (
                .long, "How often open transactions are checked against their timeout."
            ),
            "http.host": (.string, "Address of the HTTP admin listener."),
            "http.port": (.int, "Port of the HTTP admin listener."),
            "shutdown.delay.ms": (.long, "Readiness reports 503 this long before the listener stops."),
            "connections.max.idle.ms": (.long, "Idle connections are closed after this long; -1 never."),
            "connections.max.reauth.ms": (
                .long, "SASL authentications last this long; clients re-authenticate (KIP-368). 0: forever."
            ),
            "socket.write.timeout.ms": (
                .long, "A connection that reads none of its replies for this long is closed; -1 never."
            ),
            "log.retention.hours": (.int, "retention in hours (log.retention.ms wins)."),
            "log.retention.minutes": (.int, "retention in minutes (log.retention.ms wins)."),
            "log.roll.hours": (.int, "segment age in hours (log.roll.ms wins)."),
        ]) { first, _ in first }.merging(cleanerKeyCatalogue) { first, _ in first }

    /// The value each static key has when nothing sets it (nil: none, e.g. `advertised.host`
    /// follows `host`). The `log.*` topic defaults come from `LogConfig()`.
    static var defaultValues: [String: String] {
        let settings = BrokerSettings()
        let broker = settings.broker
        var values: [String: String] = [
            "log.dirs": settings.dataDirectory, "host": settings.host, "port": String(settings.port),
            "node.id": String(broker.nodeId), "cluster.id": broker.clusterId,
            "num.partitions": String(broker.defaultPartitionCount),
            "auto.create.topics.enable": String(broker.autoCreateTopics),
            "socket.request.max.bytes": String(settings.maximumRequestBytes),
            "fetch.max.bytes": String(broker.fetchMaxBytes),
            "log.retention.check.interval.ms": String(settings.retentionCheckIntervalMs),
            "group.min.session.timeout.ms": String(broker.groupCoordinator.minSessionTimeoutMs),
            "group.max.session.timeout.ms": String(broker.groupCoordinator.maxSessionTimeoutMs),
            "group.initial.rebalance.delay.ms": String(broker.groupCoordinator.initialRebalanceDelayMs),
            "offsets.retention.minutes": String(broker.groupCoordinator.offsetsRetentionMs / 60_000),
            "offsets.retention.check.interval.ms": String(broker.groupCoordinator.offsetsRetentionCheckIntervalMs),
            "transaction.max.timeout.ms": String(broker.transactionCoordinator.transactionMaxTimeoutMs),
            "transactional.id.expiration.ms": String(broker.transactionCoordinator.transactionalIdExpirationMs),
            "transaction.abort.timed.out.transaction.cleanup.interval.ms": String(
                broker.transactionAbortCheckIntervalMs
            ),
            "http.host": settings.httpHost, "http.port": String(settings.httpPort),
            "shutdown.delay.ms": String(settings.shutdownDelayMs),
            "connections.max.idle.ms": String(settings.connectionsMaxIdleMs),
            "connections.max.reauth.ms": String(broker.connectionsMaxReauthMs),
            "socket.write.timeout.ms": String(settings.socketWriteTimeoutMs),
        ]
        values.merge(cleanerDefaultValues) { first, _ in first }
        let topicDefaults = LogConfig().kafkaProperties
        for (brokerKey, topicKey) in logConfigKeys { values[brokerKey] = topicDefaults[topicKey] }
        return values
    }

    public static var recognisedKeys: Set<String> {
        otherKeys.union(logConfigKeys.keys).union(coarseTimeKeys.keys)
    }

    public init() {}

    /// Parses `key=value` lines; `#` and `!` start comments, as in Java properties files.
    public static func parseProperties(_ text: String) throws(Error) -> [String: String] {
        var properties: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw Error(description: "line \(number + 1): expected key=value, got \"\(line)\"")
            }
            properties[String(line[..<separator]).trimmingWhitespace()] =
                String(line[line.index(after: separator)...]).trimmingWhitespace()
        }
        return properties
    }

    /// The `TERN_*` variables of an environment, as property keys.
    public static func properties(fromEnvironment environment: [String: String]) -> [String: String] {
        var byVariable: [String: String] = [:]
        for key in recognisedKeys {
            byVariable["TERN_" + key.uppercased().replacingDotsWithUnderscores()] = key
        }
        var properties: [String: String] = [:]
        for (variable, value) in environment {
            if let key = byVariable[variable] {
                properties[key] = value
            } else if variable.hasPrefix("TERN_LISTENER_NAME_") {
                // TERN_LISTENER_NAME_<NAME>_<KEY>: the listener's name may hold underscores, the
                // key's part is one of the listener-prefixed keys.
                let rest = variable.dropFirst("TERN_LISTENER_NAME_".count)
                for key in listenerPrefixedKeys {
                    let suffix = "_" + key.uppercased().replacingDotsWithUnderscores()
                    if rest.hasSuffix(suffix), rest.count > suffix.count {
                        properties["listener.name.\(rest.dropLast(suffix.count).lowercased()).\(key)"] = value
                    }
                }
            }
        }
        return properties
    }

    /// Resolves settings from layered property sets, weakest first.
    public static func resolve(_ layers: [[String: String]]) throws(Error) -> BrokerSettings {
        var merged: [String: String] = [:]
        for layer in layers {
            for (key, value) in layer {
                if let coarse = coarseTimeKeys[key] {
                    guard let amount = Int64(value) else { throw Error(description: "\(key)=\(value): not a number") }
                    merged[coarse.key] = String(amount * coarse.multiplier)
                } else {
                    merged[key] = value
                }
            }
        }
        var settings = BrokerSettings()
        for key in merged.keys where !recognisedKeys.contains(key) && !isListenerPrefixedKey(key) {
            throw Error(description: "unknown property \(key)")
        }
        settings.broker.staticProperties = merged
        func int<T: FixedWidthInteger>(_ key: String, _ type: T.Type = T.self) throws(Error) -> T? {
            guard let value = merged[key] else { return nil }
            guard let number = T(value) else { throw Error(description: "\(key)=\(value): not a valid number") }
            return number
        }
        if let value = merged["log.dirs"] ?? merged["log.dir"] {
            settings.dataDirectory = String(value.split(separator: ",").first ?? Substring(value))
        }
        if let host = merged["host"] { settings.host = host }
        if let port = try int("port", Int.self) { settings.port = port }
        if let bytes = try int("socket.request.max.bytes", Int.self) { settings.maximumRequestBytes = bytes }
        if let host = merged["http.host"] { settings.httpHost = host }
        if let port = try int("http.port", Int.self) {
            guard (0...65535).contains(port) else { throw Error(description: "http.port=\(port): not a port") }
            settings.httpPort = port
        }
        if let ms = try int("shutdown.delay.ms", Int64.self) {
            guard ms >= 0 else { throw Error(description: "shutdown.delay.ms=\(ms): must not be negative") }
            settings.shutdownDelayMs = ms
        }
        if let ms = try int("connections.max.reauth.ms", Int64.self) {
            guard ms >= 0 else { throw Error(description: "connections.max.reauth.ms=\(ms): must be 0 or positive") }
            settings.broker.connectionsMaxReauthMs = ms
        }
        if let ms = try int("connections.max.idle.ms", Int64.self) {
            guard ms != 0 else {
                throw Error(description: "connections.max.idle.ms=0: must be positive, or -1 for never")
            }
            settings.connectionsMaxIdleMs = ms
        }
        if let ms = try int("socket.write.timeout.ms", Int64.self) {
            guard ms != 0 else {
                throw Error(description: "socket.write.timeout.ms=0: must be positive, or -1 for never")
            }
            settings.socketWriteTimeoutMs = ms
        }
        if let count = try int("max.connections", Int.self) {
            guard count >= 0 else { throw Error(description: "max.connections=\(count): must not be negative") }
            settings.maximumConnections = count
        }
        if let count = try int("max.connections.per.ip", Int.self) {
            guard count >= 0 else {
                throw Error(description: "max.connections.per.ip=\(count): must not be negative")
            }
            settings.maximumConnectionsPerAddress = count
        }
        if let value = merged["max.connections.per.ip.overrides"] {
            settings.connectionsPerAddressOverrides = try parseAddressOverrides(value)
        }
        if let interval = try int("log.retention.check.interval.ms", Int64.self) {
            settings.retentionCheckIntervalMs = interval
        }
        settings.broker.advertisedHost = merged["advertised.host"] ?? settings.host
        settings.broker.advertisedPort = Int32(clamping: settings.port)
        if let port = try int("advertised.port", Int32.self) { settings.broker.advertisedPort = port }
        try resolveListeners(merged, into: &settings)
        if let id = try int("broker.id", Int32.self) { settings.broker.nodeId = id }
        if let id = try int("node.id", Int32.self) { settings.broker.nodeId = id }
        if let clusterId = merged["cluster.id"] { settings.broker.clusterId = clusterId }
        if let count = try int("num.partitions", Int32.self) {
            guard count >= 1 else { throw Error(description: "num.partitions=\(count): must be at least 1") }
            settings.broker.defaultPartitionCount = count
        }
        if let value = merged["auto.create.topics.enable"] {
            guard let flag = Bool(value.lowercased()) else {
                throw Error(description: "auto.create.topics.enable=\(value): expected true or false")
            }
            settings.broker.autoCreateTopics = flag
        }
        if let bytes = try int("fetch.max.bytes", Int.self) { settings.broker.fetchMaxBytes = bytes }
        if let ms = try int("group.min.session.timeout.ms", Int32.self) {
            settings.broker.groupCoordinator.minSessionTimeoutMs = ms
        }
        if let ms = try int("group.max.session.timeout.ms", Int32.self) {
            settings.broker.groupCoordinator.maxSessionTimeoutMs = ms
        }
        if let ms = try int("group.initial.rebalance.delay.ms", Int64.self) {
            settings.broker.groupCoordinator.initialRebalanceDelayMs = ms
        }
        if let minutes = try int("offsets.retention.minutes", Int64.self) {
            guard minutes > 0 else {
                throw Error(description: "offsets.retention.minutes=\(minutes): must be positive")
            }
            settings.broker.groupCoordinator.offsetsRetentionMs = minutes * 60_000
        }
        if let ms = try int("offsets.retention.check.interval.ms", Int64.self) {
            guard ms > 0 else {
                throw Error(description: "offsets.retention.check.interval.ms=\(ms): must be positive")
            }
            settings.broker.groupCoordinator.offsetsRetentionCheckIntervalMs = ms
        }
        if let ms = try int("transaction.max.timeout.ms", Int32.self) {
            guard ms > 0 else { throw Error(description: "transaction.max.timeout.ms=\(ms): must be positive") }
            settings.broker.transactionCoordinator.transactionMaxTimeoutMs = ms
        }
        if let ms = try int("transactional.id.expiration.ms", Int64.self) {
            guard ms > 0 else { throw Error(description: "transactional.id.expiration.ms=\(ms): must be positive") }
            settings.broker.transactionCoordinator.transactionalIdExpirationMs = ms
        }
        if let ms = try int("transaction.abort.timed.out.transaction.cleanup.interval.ms", Int64.self) {
            guard ms > 0 else {
                throw Error(
                    description: "transaction.abort.timed.out.transaction.cleanup.interval.ms=\(ms): must be positive"
                )
            }
            settings.broker.transactionAbortCheckIntervalMs = ms
        }
        settings.cleaner = try cleanerConfig(from: merged)
        var topicDefaults: [String: String] = [:]
        for (brokerKey, topicKey) in logConfigKeys {
            if let value = merged[brokerKey] { topicDefaults[topicKey] = value }
        }
        do throws(StorageError) {
            settings.broker.defaultLogConfig = try LogConfig(properties: topicDefaults, defaults: LogConfig())
        } catch {
            throw Error(description: "\(error)")
        }
        return settings
    }
}

extension BrokerSettings {
    /// Kafka's `max.connections.per.ip.overrides`: `host:count[,host:count...]`; the last `:`
    /// separates the count, so IPv6 addresses work.
    static func parseAddressOverrides(_ value: String) throws(Error) -> [String: Int] {
        var overrides: [String: Int] = [:]
        for entry in value.split(separator: ",") {
            let entry = entry.trimmingWhitespace()
            guard let colon = entry.lastIndex(of: ":"), let count = Int(entry[entry.index(after: colon)...]),
                count >= 0, colon != entry.startIndex
            else {
                throw Error(
                    description: "max.connections.per.ip.overrides: expected address:count, got \"\(entry)\""
                )
            }
            overrides[String(entry[..<colon])] = count
        }
        return overrides
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    fileprivate func replacingDotsWithUnderscores() -> String {
        String(self.map { $0 == "." ? "_" : $0 })
    }
}
