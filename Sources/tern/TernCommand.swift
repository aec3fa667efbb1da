import ArgumentParser

/// The subcommands: what people reach for kafka-topics.sh, kafka-consumer-groups.sh,
/// kafka-producer-perf-test.sh and kafka-dump-log.sh for.
struct TernCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "kcat-compatible producer and consumer, admin and benchmarks for Tern and Kafka brokers.",
        discussion: """
            Without a subcommand, tern takes kcat's options (see `tern -h`):
              tern -b localhost:9092 -C -t orders -e -J
            """,
        subcommands: [TopicCommand.self, GroupCommand.self, BenchCommand.self, DumpLogCommand.self]
    )

    static let subcommandNames: Set<String> = ["topic", "group", "bench", "dump-log", "help"]
}

/// Options every networked subcommand takes.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.short, .customLong("bootstrap-server")], help: "Broker(s), host[:port],… (default: $TERN_BROKERS or localhost:9092).")
    var brokers: String?

    @Option(name: .customLong("timeout"), help: "Seconds to wait for the broker before giving up.")
    var timeoutSeconds: Int = 10

    var bootstrap: String {
        if let brokers { return brokers }
        if let env = getenv("TERN_BROKERS").map({ String(cString: $0) }), !env.isEmpty { return env }
        return "localhost:9092"
    }
}

#if canImport(Glibc)
import Glibc
#endif
