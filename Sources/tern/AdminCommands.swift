import ArgumentParser
import TernCLICore
import TernClient
import TernWire

/// Runs an admin action with a client, turning every failure into one line on stderr and exit 1.
func withAdmin<T: Sendable>(
    _ connection: ConnectionOptions,
    _ body: @escaping @Sendable (Admin) async throws -> T
) async throws -> T {
    do {
        var configuration = try connection.clientConfiguration(clientId: "tern-admin")
        configuration.requestTimeout = .seconds(max(1, connection.timeoutSeconds))
        let admin = try Admin(configuration: configuration)
        do {
            let result = try await withTimeout(
                .seconds(max(1, connection.timeoutSeconds) * 3),
                "no answer from \(connection.bootstrap) within \(max(1, connection.timeoutSeconds) * 3)s"
            ) { try await body(admin) }
            await admin.close()
            return result
        } catch {
            await admin.close()
            throw error
        }
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("tern: \(describe(error))")
        throw ExitCode(1)
    }
}

/// Plain aligned columns for people.
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        var s = ""
        for (i, cell) in cells.enumerated() {
            if i == cells.count - 1 {
                s += cell
            } else {
                s += cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
        }
        return s + "\n"
    }
    return line(header) + rows.map(line).joined()
}

/// JSON for scripts: a minimal writer for the shapes the admin commands print.
indirect enum JSON: Sendable {
    case string(String), int(Int64), bool(Bool), null
    case array([JSON]), object([(String, JSON)])

    var text: String {
        switch self {
        case .string(let s): jsonString(s)
        case .int(let n): String(n)
        case .bool(let b): String(b)
        case .null: "null"
        case .array(let items): "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let pairs): "{" + pairs.map { jsonString($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }
}

struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Create, delete, list and describe topics, add partitions, delete records.",
        subcommands: [
            Create.self, Delete.self, List.self, Describe.self, AddPartitions.self, AlterConfig.self,
            DeleteRecords.self,
        ]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a topic.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: [.short, .long], help: "Number of partitions.") var partitions: Int32 = 1
        @Option(name: [.short, .customLong("replication-factor")], help: "Replicas per partition.")
        var replicationFactor: Int16 = 1
        @Option(name: [.customLong("config")], help: "A topic config, name=value (repeatable).") var configs: [String] =
            []
        @Flag(name: .customLong("if-not-exists"), help: "Succeed if the topic already exists.") var ifNotExists = false

        func run() async throws {
            var configs: [String: String] = [:]
            for c in self.configs {
                guard let eq = c.firstIndex(of: "="), eq != c.startIndex else {
                    printError("tern: --config expects name=value, not \(c)")
                    throw ExitCode(1)
                }
                configs[String(c[..<eq])] = String(c[c.index(after: eq)...])
            }
            guard self.partitions > 0 else {
                printError("tern: --partitions must be at least 1")
                throw ExitCode(1)
            }
            let (name, partitions, rf, ifNotExists) = (
                self.name, self.partitions, self.replicationFactor, self.ifNotExists
            )
            let created = try await withAdmin(self.connection) { [configs] admin in
                do {
                    try await admin.createTopic(name, partitions: partitions, replicationFactor: rf, configs: configs)
                    return true
                } catch let error as TernClientError where ifNotExists && error.kafkaErrorCode == .topicAlreadyExists {
                    return false
                }
            }
            print(
                created
                    ? "Created topic \"\(name)\" with \(partitions) partition\(partitions == 1 ? "" : "s")."
                    : "Topic \"\(name)\" already exists."
            )
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete topics.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic names.") var names: [String]

        func run() async throws {
            let names = self.names
            try await withAdmin(self.connection) { admin in try await admin.deleteTopics(names) }
            for name in names { print("Deleted topic \"\(name)\".") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topics.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Include internal topics (__consumer_offsets).") var all = false
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let metadata = try await withAdmin(self.connection) { admin in try await admin.metadata() }
            let topics = metadata.topics.filter { self.all || !$0.isInternal && !$0.name.hasPrefix("__") }
            if self.json {
                print(
                    JSON.array(
                        topics.map {
                            .object([
                                ("topic", .string($0.name)), ("partitions", .int(Int64($0.partitions.count))),
                                ("internal", .bool($0.isInternal)),
                            ])
                        }
                    ).text
                )
            } else {
                print(
                    table(["TOPIC", "PARTITIONS"], topics.map { [$0.name, String($0.partitions.count)] }),
                    terminator: ""
                )
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe topics: partitions (leader, replicas, ISR, offsets, bytes on disk) and configs."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic names (default: all).") var names: [String] = []
        @Flag(name: .customLong("all-configs"), help: "Show default configs too.") var allConfigs = false
        @Flag(help: "JSON output.") var json = false

        struct Description: Sendable {
            var topic: ClusterMetadata.Topic
            var earliest: [Int32: Int64]
            var latest: [Int32: Int64]
            /// Bytes on disk at the leader (DescribeLogDirs); absent when the leader reports none.
            var sizes: [Int32: Int64]
            var configs: [Admin.ConfigEntry]
        }

        func run() async throws {
            let names = self.names
            let descriptions = try await withAdmin(self.connection) { admin in
                let metadata = try await admin.metadata(topics: names.isEmpty ? nil : names)
                var result: [Description] = []
                for topic in metadata.topics
                where names.contains(topic.name) || names.isEmpty && !topic.name.hasPrefix("__") {
                    if topic.error != .none {
                        throw CLIError(
                            "topic \"\(topic.name)\": \(topic.error == .unknownTopicOrPartition ? "no such topic" : "\(topic.error)")"
                        )
                    }
                    let tps = topic.partitions.map { TopicPartition(topic: topic.name, partition: $0.partition) }
                    let earliest = try await admin.listOffsets(tps, spec: .earliest)
                    let latest = try await admin.listOffsets(tps, spec: .latest)
                    let sizes = try await admin.logSizes(of: tps)
                    let configs = try await admin.describeConfigs(topic: topic.name)
                    result.append(
                        Description(
                            topic: topic,
                            earliest: Dictionary(uniqueKeysWithValues: earliest.map { ($0.key.partition, $0.value) }),
                            latest: Dictionary(uniqueKeysWithValues: latest.map { ($0.key.partition, $0.value) }),
                            sizes: Dictionary(uniqueKeysWithValues: sizes.map { ($0.key.partition, $0.value) }),
                            configs: configs
                        )
                    )
                }
                for name in names where !metadata.topics.contains(where: { $0.name == name }) {
                    throw CLIError("topic \"\(name)\": no such topic")
                }
                return result
            }
            if self.json {
                print(
                    JSON.array(
                        descriptions.map { d in
                            .object([
                                ("topic", .string(d.topic.name)),
                                (
                                    "partitions",
                                    .array(
                                        d.topic.partitions.map { p in
                                            let earliest = d.earliest[p.partition] ?? -1
                                            let latest = d.latest[p.partition] ?? -1
                                            return .object([
                                                ("partition", .int(Int64(p.partition))),
                                                ("leader", .int(Int64(p.leader))),
                                                ("replicas", .array(p.replicas.map { .int(Int64($0)) })),
                                                ("isr", .array(p.isr.map { .int(Int64($0)) })),
                                                ("earliestOffset", .int(earliest)),
                                                ("latestOffset", .int(latest)),
                                                ("records", .int(max(0, latest - earliest))),
                                                ("sizeBytes", d.sizes[p.partition].map(JSON.int) ?? .null),
                                            ])
                                        }
                                    )
                                ),
                                (
                                    "configs",
                                    .object(
                                        d.configs.filter { self.allConfigs || !$0.isDefault }.map {
                                            ($0.name, $0.isSensitive ? .null : $0.value.map(JSON.string) ?? .null)
                                        }
                                    )
                                ),
                                (
                                    "configSources",
                                    .object(
                                        d.configs.filter { self.allConfigs || !$0.isDefault }.map {
                                            ($0.name, .string($0.source))
                                        }
                                    )
                                ),
                            ])
                        }
                    ).text
                )
                return
            }
            var out = ""
            for d in descriptions {
                out += "Topic: \(d.topic.name)  Partitions: \(d.topic.partitions.count)\n"
                let configs = d.configs.filter { self.allConfigs || !$0.isDefault }
                if !configs.isEmpty {
                    out +=
                        "Configs: "
                        + configs.map {
                            "\($0.name)=\($0.isSensitive ? "<sensitive>" : $0.value ?? "") (\($0.source))"
                        }
                        .joined(separator: ", ") + "\n"
                }
                out += table(
                    ["PARTITION", "LEADER", "REPLICAS", "ISR", "EARLIEST", "LATEST", "RECORDS", "SIZE"],
                    d.topic.partitions.map { p in
                        let e = d.earliest[p.partition] ?? -1
                        let l = d.latest[p.partition] ?? -1
                        return [
                            String(p.partition), String(p.leader), p.replicas.map(String.init).joined(separator: ","),
                            p.isr.map(String.init).joined(separator: ","), String(e), String(l), String(max(0, l - e)),
                            d.sizes[p.partition].map(String.init) ?? "-",
                        ]
                    }
                )
                out += "\n"
            }
            print(out, terminator: "")
        }
    }
}

extension TopicCommand {
    struct AddPartitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-partitions",
            abstract: "Grow a topic to more partitions (CreatePartitions)."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: [.short, .long], help: "The new total number of partitions.") var partitions: Int32
        @Flag(name: .customLong("validate-only"), help: "Check with the broker, change nothing.")
        var validateOnly = false
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let (name, partitions, validateOnly) = (self.name, self.partitions, self.validateOnly)
            try await withAdmin(self.connection) { admin in
                try await admin.createPartitions(name, totalPartitions: partitions, validateOnly: validateOnly)
            }
            if self.json {
                print(
                    JSON.object([
                        ("topic", .string(name)), ("partitions", .int(Int64(partitions))),
                        ("validateOnly", .bool(validateOnly)),
                    ]).text
                )
            } else if validateOnly {
                print("Topic \"\(name)\" can grow to \(partitions) partitions (nothing changed).")
            } else {
                print("Topic \"\(name)\" now has \(partitions) partitions.")
            }
        }
    }

    struct AlterConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alter-config",
            abstract: "Change a topic's configs, leaving the others (IncrementalAlterConfigs); applied at once."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: .customLong("set"), help: "Set a config: KEY=VALUE (repeatable).") var set: [String] = []
        @Option(name: .customLong("delete"), help: "Remove an override: KEY (repeatable); the default applies again.")
        var delete: [String] = []
        @Option(name: .customLong("append"), help: "Add items to a list config: KEY=ITEM[,ITEM] (repeatable).")
        var append: [String] = []
        @Option(name: .customLong("subtract"), help: "Remove items from a list config: KEY=ITEM[,ITEM] (repeatable).")
        var subtract: [String] = []
        @Flag(name: .customLong("validate-only"), help: "Check with the broker, change nothing.")
        var validateOnly = false
        @Flag(help: "JSON output.") var json = false

        func validate() throws {
            guard !(self.set.isEmpty && self.delete.isEmpty && self.append.isEmpty && self.subtract.isEmpty) else {
                throw ValidationError("nothing to change: give --set, --delete, --append or --subtract")
            }
            for pair in self.set + self.append + self.subtract where !pair.contains("=") {
                throw ValidationError("'\(pair)' is not KEY=VALUE")
            }
        }

        func run() async throws {
            func split(_ pair: String) -> (String, String) {
                let equals = pair.firstIndex(of: "=")!
                return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            }
            let changes: [Admin.ConfigChange] =
                self.set.map(split).map { .set($0, $1) } + self.delete.map { .delete($0) }
                + self.append.map(split).map { .append($0, $1) } + self.subtract.map(split).map { .subtract($0, $1) }
            let (name, validateOnly) = (self.name, self.validateOnly)
            try await withAdmin(self.connection) { admin in
                try await admin.incrementalAlterConfigs(topic: name, changes, validateOnly: validateOnly)
            }
            if self.json {
                print(
                    JSON.object([
                        ("topic", .string(name)), ("changes", .int(Int64(changes.count))),
                        ("validateOnly", .bool(validateOnly)),
                    ]).text
                )
            } else if validateOnly {
                print("Topic \"\(name)\": \(changes.count) config change(s) are valid (nothing changed).")
            } else {
                print("Topic \"\(name)\": \(changes.count) config change(s) applied.")
            }
        }
    }

    struct DeleteRecords: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-records",
            abstract: "Delete the records before an offset: the offset becomes the log start (DeleteRecords)."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Topic name.") var name: String
        @Option(name: [.short, .long], help: "Partition (default: every partition of the topic).") var partition: Int32?
        @Option(
            name: [.short, .long],
            parsing: .unconditional,
            help: "Delete the records before this offset; -1: all records."
        )
        var offset: Int64
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            guard self.offset >= -1 else {
                printError("tern: --offset must be an offset or -1 (the high watermark)")
                throw ExitCode(1)
            }
            let (name, partition, offset) = (self.name, self.partition, self.offset)
            let lowWatermarks = try await withAdmin(self.connection) { admin in
                let partitions: [TopicPartition]
                if let partition {
                    partitions = [TopicPartition(topic: name, partition: partition)]
                } else {
                    let metadata = try await admin.metadata(topics: [name])
                    guard let topic = metadata.topics.first(where: { $0.name == name }), topic.error == .none else {
                        throw CLIError("topic \"\(name)\": no such topic")
                    }
                    partitions = topic.partitions.map { TopicPartition(topic: name, partition: $0.partition) }
                }
                return try await admin.deleteRecords(Dictionary(uniqueKeysWithValues: partitions.map { ($0, offset) }))
            }
            let sorted = lowWatermarks.sorted { $0.key < $1.key }
            if self.json {
                print(
                    JSON.array(
                        sorted.map {
                            .object([
                                ("topic", .string($0.key.topic)), ("partition", .int(Int64($0.key.partition))),
                                ("lowWatermark", .int($0.value)),
                            ])
                        }
                    ).text
                )
            } else {
                print(
                    table(
                        ["PARTITION", "LOW_WATERMARK"],
                        sorted.map { [String($0.key.partition), String($0.value)] }
                    ),
                    terminator: ""
                )
            }
        }
    }
}

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Describe the cluster.",
        subcommands: [Describe.self]
    )

    /// Kafka's ACL operation codes, for the bits of DescribeCluster's authorized operations.
    static let aclOperations: [(code: Int32, name: String)] = [
        (3, "READ"), (4, "WRITE"), (5, "CREATE"), (6, "DELETE"), (7, "ALTER"), (8, "DESCRIBE"),
        (9, "CLUSTER_ACTION"), (10, "DESCRIBE_CONFIGS"), (11, "ALTER_CONFIGS"), (12, "IDEMPOTENT_WRITE"),
        (13, "CREATE_TOKENS"), (14, "DESCRIBE_TOKENS"), (15, "TWO_PHASE_COMMIT"),
    ]

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The cluster id, the controller and the brokers (DescribeCluster)."
        )
        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .customLong("authorized-operations"), help: "Also ask which cluster operations are allowed.")
        var authorizedOperations = false
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let include = self.authorizedOperations
            let cluster = try await withAdmin(self.connection) { admin in
                try await admin.describeCluster(includeAuthorizedOperations: include)
            }
            let operations = cluster.authorizedOperations.map { bits in
                ClusterCommand.aclOperations.filter { bits & (1 << $0.code) != 0 }.map(\.name)
            }
            if self.json {
                var fields: [(String, JSON)] = [
                    ("clusterId", .string(cluster.clusterId)), ("controller", .int(Int64(cluster.controllerId))),
                    (
                        "brokers",
                        .array(
                            cluster.brokers.map {
                                .object([
                                    ("id", .int(Int64($0.nodeId))), ("host", .string($0.host)),
                                    ("port", .int(Int64($0.port))), ("rack", $0.rack.map(JSON.string) ?? .null),
                                ])
                            }
                        )
                    ),
                ]
                if include {
                    fields.append(("authorizedOperations", operations.map { .array($0.map(JSON.string)) } ?? .null))
                }
                print(JSON.object(fields).text)
                return
            }
            var out = "Cluster: \(cluster.clusterId)  Controller: \(cluster.controllerId)\n"
            if include { out += "Authorized operations: \(operations?.joined(separator: ", ") ?? "not reported")\n" }
            out += table(
                ["BROKER", "HOST", "PORT", "RACK"],
                cluster.brokers.map { [String($0.nodeId), $0.host, String($0.port), $0.rack ?? "-"] }
            )
            print(out, terminator: "")
        }
    }
}

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "List and describe consumer groups, reset their offsets.",
        subcommands: [List.self, Describe.self, ResetOffsets.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List consumer groups.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let groups = try await withAdmin(self.connection) { admin in
                let listings = try await admin.listGroups()
                let states = try await admin.describeGroups(listings.map(\.groupId))
                return listings.map { listing in
                    (listing, states.first { $0.groupId == listing.groupId })
                }
            }
            if self.json {
                print(
                    JSON.array(
                        groups.map { l, d in
                            .object([
                                ("group", .string(l.groupId)), ("protocolType", .string(l.protocolType)),
                                ("state", .string(d?.state ?? l.state)),
                                ("members", .int(Int64(d?.members.count ?? 0))),
                            ])
                        }
                    ).text
                )
            } else {
                print(
                    table(
                        ["GROUP", "STATE", "MEMBERS", "PROTOCOL-TYPE"],
                        groups.map { l, d in
                            [l.groupId, d?.state ?? l.state, String(d?.members.count ?? 0), l.protocolType]
                        }
                    ),
                    terminator: ""
                )
            }
        }
    }

    struct PartitionState: Sendable {
        var tp: TopicPartition
        var committed: Int64?
        var logEnd: Int64
        var owner: Admin.GroupMember?
        var lag: Int64? { self.committed.map { max(0, self.logEnd - $0) } }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe groups: state, members and assignments, committed offsets and lag per partition."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Group ids.") var groups: [String]
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let ids = self.groups
            let result = try await withAdmin(self.connection) { admin in
                var out: [(Admin.GroupDescription, [PartitionState])] = []
                for description in try await admin.describeGroups(ids) {
                    if description.error != .none {
                        throw CLIError("group \"\(description.groupId)\": \(description.error)")
                    }
                    let committed = try await admin.fetchOffsets(group: description.groupId)
                    var partitions = Set(committed.keys)
                    for member in description.members { partitions.formUnion(member.assignment) }
                    if description.state == "Dead" && partitions.isEmpty {
                        throw CLIError("group \"\(description.groupId)\" does not exist")
                    }
                    let sorted = partitions.sorted()
                    let ends = sorted.isEmpty ? [:] : try await admin.listOffsets(sorted, spec: .latest)
                    out.append(
                        (
                            description,
                            sorted.map { tp in
                                PartitionState(
                                    tp: tp,
                                    committed: committed[tp],
                                    logEnd: ends[tp] ?? -1,
                                    owner: description.members.first { $0.assignment.contains(tp) }
                                )
                            }
                        )
                    )
                }
                return out
            }
            if self.json {
                print(
                    JSON.array(
                        result.map { d, parts in
                            .object([
                                ("group", .string(d.groupId)), ("state", .string(d.state)),
                                ("protocolType", .string(d.protocolType)), ("protocol", .string(d.protocolName)),
                                (
                                    "members",
                                    .array(
                                        d.members.map { m in
                                            .object([
                                                ("memberId", .string(m.memberId)), ("clientId", .string(m.clientId)),
                                                ("host", .string(m.clientHost)),
                                                (
                                                    "assignment",
                                                    .array(
                                                        m.assignment.map {
                                                            .object([
                                                                ("topic", .string($0.topic)),
                                                                ("partition", .int(Int64($0.partition))),
                                                            ])
                                                        }
                                                    )
                                                ),
                                            ])
                                        }
                                    )
                                ),
                                (
                                    "partitions",
                                    .array(
                                        parts.map { p in
                                            .object([
                                                ("topic", .string(p.tp.topic)),
                                                ("partition", .int(Int64(p.tp.partition))),
                                                ("committedOffset", p.committed.map(JSON.int) ?? .null),
                                                ("logEndOffset", .int(p.logEnd)), ("lag", p.lag.map(JSON.int) ?? .null),
                                                ("memberId", p.owner.map { .string($0.memberId) } ?? .null),
                                            ])
                                        }
                                    )
                                ),
                            ])
                        }
                    ).text
                )
                return
            }
            var out = ""
            for (d, parts) in result {
                out +=
                    "Group: \(d.groupId)  State: \(d.state)  Protocol: \(d.protocolName.isEmpty ? "-" : d.protocolName)"
                out += "  Members: \(d.members.count)\n"
                if !parts.isEmpty {
                    out += table(
                        ["TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "MEMBER", "CLIENT-ID", "HOST"],
                        parts.map { p in
                            [
                                p.tp.topic, String(p.tp.partition), p.committed.map(String.init) ?? "-",
                                String(p.logEnd),
                                p.lag.map(String.init) ?? "-", p.owner?.memberId ?? "-", p.owner?.clientId ?? "-",
                                p.owner?.clientHost ?? "-",
                            ]
                        }
                    )
                }
                out += "\n"
            }
            print(out, terminator: "")
        }
    }

    struct ResetOffsets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-offsets",
            abstract: "Set a group's committed offsets (dry run unless --execute; the group must have no members).",
            discussion: """
                Examples:
                  tern group reset-offsets --group billing --topic orders --to-earliest
                  tern group reset-offsets --group billing --topic orders:0,2 --to-offset 1000 --execute
                  tern group reset-offsets --group billing --all-topics --to-datetime 1700000000000 --execute
                """
        )
        @OptionGroup var connection: ConnectionOptions
        @Option(name: [.short, .long], help: "Group id.") var group: String
        @Option(name: [.short, .long], help: "topic or topic:p1,p2 (repeatable).") var topic: [String] = []
        @Flag(name: .customLong("all-topics"), help: "Every topic the group has committed offsets for.") var allTopics =
            false
        @Flag(name: .customLong("to-earliest")) var toEarliest = false
        @Flag(name: .customLong("to-latest")) var toLatest = false
        @Option(name: .customLong("to-offset"), help: "An absolute offset (clamped to the partition's range).")
        var toOffset: Int64?
        @Option(name: .customLong("to-datetime"), help: "The first offset at or after this time (ms since the epoch).")
        var toTimestamp: Int64?
        @Flag(help: "Commit the new offsets (without it: only show them).") var execute = false
        @Flag(help: "JSON output.") var json = false

        func validate() throws {
            let targets = [self.toEarliest, self.toLatest, self.toOffset != nil, self.toTimestamp != nil].filter { $0 }
                .count
            guard targets == 1 else {
                throw ValidationError("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime")
            }
            guard self.allTopics != !self.topic.isEmpty else { throw ValidationError("give --topic … or --all-topics") }
        }

        func run() async throws {
            var requested: [(String, [Int32]?)] = []
            for t in self.topic {
                if let colon = t.lastIndex(of: ":") {
                    let parts = t[t.index(after: colon)...].split(separator: ",").map { Int32($0) }
                    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                        printError("tern: --topic expects topic or topic:p1,p2, not \(t)")
                        throw ExitCode(1)
                    }
                    requested.append((String(t[..<colon]), parts.map { $0! }))
                } else {
                    requested.append((t, nil))
                }
            }
            let spec: OffsetSpec =
                if self.toEarliest { .earliest } else if self.toLatest { .latest } else if let t = self.toTimestamp {
                    .timestamp(t)
                } else { .offset(self.toOffset!) }
            let (group, allTopics, execute) = (self.group, self.allTopics, self.execute)
            let plan = try await withAdmin(self.connection) { [requested] admin in
                let groups = try await admin.describeGroups([group])
                if let g = groups.first, !g.members.isEmpty {
                    throw CLIError(
                        "group \"\(group)\" has \(g.members.count) active member(s) (state \(g.state)); stop its consumers first"
                    )
                }
                let committed = try await admin.fetchOffsets(group: group)
                var partitions: [TopicPartition] = []
                if allTopics {
                    partitions = committed.keys.sorted()
                } else {
                    for (topic, parts) in requested {
                        let all = try await admin.partitions(of: topic)
                        if let parts {
                            for p in parts where !all.contains(TopicPartition(topic: topic, partition: p)) {
                                throw CLIError("topic \"\(topic)\" has no partition \(p)")
                            }
                            partitions += parts.map { TopicPartition(topic: topic, partition: $0) }
                        } else {
                            partitions += all
                        }
                    }
                }
                guard !partitions.isEmpty else {
                    throw CLIError("nothing to reset: group \"\(group)\" has no committed offsets")
                }
                let earliest = try await admin.listOffsets(partitions, spec: .earliest)
                let latest = try await admin.listOffsets(partitions, spec: .latest)
                var targets: [TopicPartition: Int64]
                switch spec {
                case .offset(let o):
                    targets = Dictionary(
                        uniqueKeysWithValues: partitions.map { tp in
                            (tp, min(max(o, earliest[tp] ?? 0), latest[tp] ?? o))
                        }
                    )
                default: targets = try await admin.listOffsets(partitions, spec: spec)
                }
                if execute { try await admin.commitOffsets(group: group, targets) }
                return partitions.map { tp in (tp, committed[tp], targets[tp] ?? -1) }
            }
            if self.json {
                print(
                    JSON.object([
                        ("group", .string(group)), ("executed", .bool(execute)),
                        (
                            "partitions",
                            .array(
                                plan.map { tp, old, new in
                                    .object([
                                        ("topic", .string(tp.topic)), ("partition", .int(Int64(tp.partition))),
                                        ("currentOffset", old.map(JSON.int) ?? .null), ("newOffset", .int(new)),
                                    ])
                                }
                            )
                        ),
                    ]).text
                )
                return
            }
            print(
                table(
                    ["TOPIC", "PARTITION", "CURRENT", "NEW"],
                    plan.map { tp, old, new in
                        [tp.topic, String(tp.partition), old.map(String.init) ?? "-", String(new)]
                    }
                ),
                terminator: ""
            )
            print(execute ? "Offsets committed for group \"\(group)\"." : "Dry run: nothing committed (add --execute).")
        }
    }
}
