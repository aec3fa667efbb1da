/// The librdkafka-style properties `tern` accepts with `-X name=value` and in config files, and
/// what they become. Names are librdkafka's (and Java's where they differ); a `topic.` prefix is
/// accepted as in kcat. Unknown names are an error, as in kcat.
public enum ClientProperties {
    public enum Kind: Sendable {
        case string, integer, boolean
        case choice([String])
        /// A comma-separated list of these words.
        case flags([String])
        /// Accepted so existing config files keep working; has no effect in Tern.
        case ignored
    }

    public struct Property: Sendable {
        public var name: String
        public var aliases: [String]
        public var kind: Kind
        public var defaultValue: String
        public var summary: String
    }

    public static let all: [Property] = [
        .init(
            name: "bootstrap.servers",
            aliases: ["metadata.broker.list"],
            kind: .string,
            defaultValue: "",
            summary: "Initial broker list, host[:port],… (same as -b)"
        ),
        .init(name: "client.id", aliases: [], kind: .string, defaultValue: "tern", summary: "Client identifier"),
        .init(
            name: "request.timeout.ms",
            aliases: ["socket.timeout.ms"],
            kind: .integer,
            defaultValue: "30000",
            summary: "Time limit of each request"
        ),
        .init(
            name: "socket.connection.setup.timeout.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "10000",
            summary: "Time limit to connect to a broker"
        ),
        .init(
            name: "metadata.max.age.ms",
            aliases: ["topic.metadata.refresh.interval.ms"],
            kind: .integer,
            defaultValue: "300000",
            summary: "Metadata refresh interval"
        ),
        .init(
            name: "acks",
            aliases: ["request.required.acks"],
            kind: .choice(["0", "1", "-1", "all"]),
            defaultValue: "-1",
            summary: "Producer acks: 0, 1 or all (-1)"
        ),
        .init(
            name: "compression.codec",
            aliases: ["compression.type"],
            kind: .choice(["none", "gzip", "snappy", "lz4", "zstd"]),
            defaultValue: "none",
            summary: "Producer compression (same as -z)"
        ),
        .init(
            name: "linger.ms",
            aliases: ["queue.buffering.max.ms"],
            kind: .integer,
            defaultValue: "5",
            summary: "Producer: how long to wait to fill a batch"
        ),
        .init(
            name: "partitioner",
            aliases: [],
            kind: .choice([
                "random", "consistent", "consistent_random", "murmur2", "murmur2_random", "fnv1a", "fnv1a_random",
            ]),
            defaultValue: "consistent_random",
            summary: "Producer: key → partition as librdkafka (murmur2_random is the Java client's)"
        ),
        .init(
            name: "sticky.partitioning.linger.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "",
            summary: "Producer: ms null-key records stay on one partition (default 2 × linger.ms; 0: random each)"
        ),
        .init(
            name: "batch.size",
            aliases: [],
            kind: .integer,
            defaultValue: "1000000",
            summary: "Producer: bytes per partition batch"
        ),
        .init(
            name: "queue.buffering.max.kbytes",
            aliases: [],
            kind: .integer,
            defaultValue: "65536",
            summary: "Producer: buffered kilobytes before sends wait"
        ),
        .init(
            name: "enable.idempotence",
            aliases: [],
            kind: .boolean,
            defaultValue: "true",
            summary: "Producer: idempotent (exactly once per partition) delivery"
        ),
        .init(
            name: "message.max.bytes",
            aliases: [],
            kind: .integer,
            defaultValue: "1000000",
            summary: "Largest message (and stdin message) in bytes"
        ),
        .init(
            name: "message.timeout.ms",
            aliases: ["delivery.timeout.ms"],
            kind: .integer,
            defaultValue: "120000",
            summary: "Producer: time limit to deliver a message"
        ),
        .init(
            name: "retries",
            aliases: ["message.send.max.retries"],
            kind: .integer,
            defaultValue: "2147483647",
            summary: "Producer: retries of a failed send"
        ),
        .init(
            name: "retry.backoff.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "100",
            summary: "Producer: wait between retries"
        ),
        .init(name: "group.id", aliases: [], kind: .string, defaultValue: "", summary: "Consumer group (same as -G)"),
        .init(
            name: "auto.offset.reset",
            aliases: [],
            kind: .choice(["smallest", "earliest", "beginning", "largest", "latest", "end"]),
            defaultValue: "largest",
            summary: "Where a group starts without a committed offset"
        ),
        .init(
            name: "enable.auto.commit",
            aliases: ["auto.commit.enable"],
            kind: .boolean,
            defaultValue: "true",
            summary: "Group consumer: commit offsets periodically"
        ),
        .init(
            name: "auto.commit.interval.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "5000",
            summary: "Group consumer: commit interval"
        ),
        .init(
            name: "session.timeout.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "45000",
            summary: "Group consumer: session timeout"
        ),
        .init(
            name: "heartbeat.interval.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "3000",
            summary: "Group consumer: heartbeat interval"
        ),
        .init(
            name: "max.poll.interval.ms",
            aliases: [],
            kind: .integer,
            defaultValue: "60000",
            summary: "Group consumer: rebalance timeout"
        ),
        .init(
            name: "partition.assignment.strategy",
            aliases: [],
            kind: .string,
            defaultValue: "range,roundrobin",
            summary: "Group consumer: assignors (range, roundrobin, sticky)"
        ),
        .init(
            name: "fetch.wait.max.ms",
            aliases: ["fetch.max.wait.ms"],
            kind: .integer,
            defaultValue: "500",
            summary: "Consumer: longest fetch wait"
        ),
        .init(
            name: "fetch.min.bytes",
            aliases: [],
            kind: .integer,
            defaultValue: "1",
            summary: "Consumer: bytes a fetch waits for"
        ),
        .init(
            name: "fetch.max.bytes",
            aliases: [],
            kind: .integer,
            defaultValue: "52428800",
            summary: "Consumer: bytes per fetch response"
        ),
        .init(
            name: "max.partition.fetch.bytes",
            aliases: ["fetch.message.max.bytes"],
            kind: .integer,
            defaultValue: "1048576",
            summary: "Consumer: bytes per partition per fetch"
        ),
        .init(
            name: "isolation.level",
            aliases: [],
            kind: .choice(["read_committed", "read_uncommitted"]),
            defaultValue: "read_committed",
            summary: "Consumer: isolation level"
        ),
        .init(
            name: "security.protocol",
            aliases: [],
            kind: .choice(
                ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl", "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
            ),
            defaultValue: "plaintext",
            summary: "plaintext, ssl, sasl_plaintext or sasl_ssl"
        ),
        .init(
            name: "sasl.mechanisms",
            aliases: ["sasl.mechanism"],
            kind: .choice(ClientSASLNames.mechanisms),
            defaultValue: "PLAIN",
            summary: "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
        ),
        .init(name: "sasl.username", aliases: [], kind: .string, defaultValue: "", summary: "SASL user name"),
        .init(name: "sasl.password", aliases: [], kind: .string, defaultValue: "", summary: "SASL password"),
        .init(
            name: "ssl.ca.location",
            aliases: [],
            kind: .string,
            defaultValue: "",
            summary: "PEM file of CA certificates that verify brokers (default: the system's)"
        ),
        .init(
            name: "ssl.certificate.location",
            aliases: [],
            kind: .string,
            defaultValue: "",
            summary: "Client certificate (PEM), for brokers that require one"
        ),
        .init(
            name: "ssl.key.location",
            aliases: [],
            kind: .string,
            defaultValue: "",
            summary: "Client private key (PEM)"
        ),
        .init(
            name: "ssl.key.password",
            aliases: [],
            kind: .string,
            defaultValue: "",
            summary: "Private key passphrase"
        ),
        .init(
            name: "enable.ssl.certificate.verification",
            aliases: [],
            kind: .boolean,
            defaultValue: "true",
            summary: "Verify broker certificates"
        ),
        .init(
            name: "ssl.endpoint.identification.algorithm",
            aliases: [],
            kind: .choice(["https", "none"]),
            defaultValue: "https",
            summary: "https: the certificate must name the broker's host; none: chain only"
        ),
        .init(
            name: "api.version.request",
            aliases: [],
            kind: .ignored,
            defaultValue: "true",
            summary: "Ignored (Tern always negotiates versions)"
        ),
        .init(name: "produce.offset.report", aliases: [], kind: .ignored, defaultValue: "true", summary: "Ignored"),
        .init(
            name: "debug",
            aliases: [],
            kind: .flags(Self.debugContexts),
            defaultValue: "",
            summary: "Debug logging on stderr (same as -d)"
        ),
        .init(name: "log_level", aliases: [], kind: .ignored, defaultValue: "", summary: "Ignored"),
        .init(
            name: "statistics.interval.ms",
            aliases: ["socket.keepalive.enable", "broker.address.family"],
            kind: .ignored,
            defaultValue: "",
            summary: "Ignored"
        ),
    ]

    /// The SASL mechanisms `sasl.mechanisms` accepts.
    enum ClientSASLNames {
        static let mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
    }

    /// librdkafka's debug contexts (`-d`, `debug`); any of them turns on all of Tern's debug log.
    public static let debugContexts = [
        "generic", "broker", "topic", "metadata", "feature", "queue", "msg", "protocol", "cgrp", "security", "fetch",
        "interceptor", "plugin", "consumer", "admin", "eos", "mock", "assignor", "conf", "all",
    ]

    static let byName: [String: Property] = {
        var table: [String: Property] = [:]
        for p in all {
            table[p.name] = p
            for alias in p.aliases { table[alias] = p }
        }
        return table
    }()

    /// The property a name refers to (its canonical entry), nil when Tern does not know it.
    public static func lookup(_ name: String) -> Property? {
        let bare = name.hasPrefix("topic.") ? String(name.dropFirst("topic.".count)) : name
        return byName[bare]
    }

    public static func validate(name: String, value: String) throws(CLIError) {
        guard let property = lookup(name) else {
            if name.hasPrefix("ssl.") || name.hasPrefix("sasl.") {
                throw CLIError(
                    "Configuration property \"\(name)\" is not supported (Tern reads PEM files and SASL PLAIN/SCRAM only)"
                )
            }
            if name == "transactional.id" {
                throw CLIError("Configuration property \"transactional.id\" is not supported: Tern has no transactions")
            }
            throw CLIError("No such configuration property: \"\(name)\"")
        }
        switch property.kind {
        case .string, .ignored: return
        case .integer:
            guard Int64(value) != nil else {
                throw CLIError("Invalid value \"\(value)\" for configuration property \"\(name)\": expected an integer")
            }
        case .boolean:
            guard Self.boolean(value) != nil else {
                throw CLIError(
                    "Invalid value \"\(value)\" for configuration property \"\(name)\": expected true or false"
                )
            }
        case .flags(let words):
            for word in value.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = word.trimmingCharacters(in: " \t")
                guard words.contains(trimmed) else {
                    throw CLIError("Invalid value \"\(trimmed)\" for configuration property \"\(name)\"")
                }
            }
        case .choice(let choices):
            guard choices.contains(value) else {
                throw CLIError(
                    "Invalid value \"\(value)\" for configuration property \"\(name)\" (\(choices.joined(separator: ", ")))"
                )
            }
        }
    }

    public static func boolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "t", "1": true
        case "false", "f", "0": false
        default: nil
        }
    }

    /// The effective settings: defaults, then `properties` in order (later wins).
    public static func resolve(_ properties: [(String, String)]) -> [String: String] {
        var values: [String: String] = [:]
        for p in all where !p.defaultValue.isEmpty { values[p.name] = p.defaultValue }
        for (name, value) in properties {
            if let p = lookup(name) { values[p.name] = value }
        }
        return values
    }

    /// `-X list`: every property with its default and meaning.
    public static func listing() -> String {
        // The default column fits the longest default (consistent_random).
        let width = max(16, all.map(\.defaultValue.count).max() ?? 0)
        var out = "Property                                 | " + pad("Default", width) + " | Description\n"
        out +=
            String(repeating: "-", count: 41) + "|" + String(repeating: "-", count: width + 2) + "|"
            + String(repeating: "-", count: 40) + "\n"
        for p in all {
            // Aliases go with the description, so long ones do not push the columns apart.
            var summary = p.summary
            if !p.aliases.isEmpty { summary += " (also: " + p.aliases.joined(separator: ", ") + ")" }
            out += pad(p.name, 40) + " | " + pad(p.defaultValue, width) + " | " + summary + "\n"
        }
        return out
    }

    /// `-X dump`: the effective configuration, in kcat's `# Global config` layout.
    public static func dump(_ properties: [(String, String)]) -> String {
        let values = resolve(properties)
        var out = "# Global config\n"
        for name in values.keys.sorted() { out += "\(name) = \(values[name]!)\n" }
        out += "\n# Topic config\n\n"
        return out
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
