import ArgumentParser
import TernCLICore
import TernClient

/// The subcommands: what people reach for kafka-topics.sh, kafka-consumer-groups.sh, kafka-acls.sh,
/// kafka-configs.sh (users), kafka-producer-perf-test.sh and kafka-dump-log.sh for.
struct TernCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "kcat-compatible producer and consumer, admin and benchmarks for Tern and Kafka brokers.",
        discussion: """
            Without a subcommand, tern takes kcat's options (see `tern -h`):
              tern -b localhost:9092 -C -t orders -e -J
            """,
        subcommands: [
            TopicCommand.self, GroupCommand.self, ClusterCommand.self, AclCommand.self, UserCommand.self,
            BenchCommand.self, DumpLogCommand.self,
        ]
    )

    static let subcommandNames: Set<String> = ["topic", "group", "cluster", "acl", "user", "bench", "dump-log", "help"]

    /// Parses and runs a subcommand. (In an async function, not top-level code, so `run()` resolves
    /// to the async requirement rather than ParsableCommand's synchronous default.)
    static func runSubcommand(_ arguments: [String]) async {
        do {
            var command = try await self.asyncParseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            self.exit(withError: error)
        }
    }
}

/// Options every networked subcommand takes.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.short, .customLong("bootstrap-server")],
        help: "Broker(s), host[:port],… (default: $TERN_BROKERS or localhost:9092)."
    )
    var brokers: String?

    @Option(name: .customLong("timeout"), help: "Seconds to wait for the broker before giving up.")
    var timeoutSeconds: Int = 10

    @Option(
        name: .customShort("X"),
        help: "Client property name=value, as kcat's -X (security.protocol, sasl.*, ssl.*, client.id)."
    )
    var properties: [String] = []

    /// The client settings these options give: brokers, connect timeout, `-X` properties
    /// (client.id and the security ones).
    func clientConfiguration(clientId: String) throws(CLIError) -> ClientConfiguration {
        var configuration = ClientConfiguration(bootstrapServers: self.bootstrap.split(separator: ",").map(String.init))
        configuration.clientId = clientId
        configuration.connectTimeout = .seconds(max(1, self.timeoutSeconds))
        var pairs: [(String, String)] = []
        for property in self.properties {
            guard let equals = property.firstIndex(of: "=") else {
                throw CLIError("-X \(property): expected name=value")
            }
            let (name, value) = (String(property[..<equals]), String(property[property.index(after: equals)...]))
            try ClientProperties.validate(name: name, value: value)
            pairs.append((name, value))
        }
        if let id = pairs.last(where: { ClientProperties.lookup($0.0)?.name == "client.id" })?.1 {
            configuration.clientId = id
        }
        try applySecurity(ClientProperties.resolve(pairs), to: &configuration)
        return configuration
    }

    var bootstrap: String {
        if let brokers { return brokers }
        if let env = getenv("TERN_BROKERS").map({ String(cString: $0) }), !env.isEmpty { return env }
        return "localhost:9092"
    }
}

#if canImport(Glibc)
    import Glibc
#endif
