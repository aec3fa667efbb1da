import ArgumentParser
import Dispatch
import Foundation
import Logging
import Synchronization
import TernBroker
import TernServer
import TernStorage

@main
struct Ternd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ternd",
        abstract: "Tern broker: a Kafka-compatible partitioned log.",
        discussion: """
            Settings come from flags, then TERN_* environment variables (e.g. TERN_NUM_PARTITIONS), then
            the --config properties file (Kafka's key=value names), then defaults. See docs/configuration.md.
            """
    )

    @Option(help: "Directory holding the partition logs (default ./tern-data).")
    var dataDir: String?

    @Option(help: "Address the Kafka listener binds to (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port of the Kafka listener (default 9092).")
    var port: Int?

    @Option(help: "Host clients are told to connect to (default: --host).")
    var advertisedHost: String?

    @Option(help: "Port clients are told to connect to (default: --port).")
    var advertisedPort: Int?

    @Option(help: "A Kafka-style properties file (key=value lines).")
    var config: String?

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "ternd")
        logger.logLevel = .info

        var fileProperties: [String: String] = [:]
        if let config {
            fileProperties = try BrokerSettings.parseProperties(String(contentsOfFile: config, encoding: .utf8))
        }
        var flagProperties: [String: String] = [:]
        flagProperties["log.dirs"] = self.dataDir
        flagProperties["host"] = self.host
        flagProperties["port"] = self.port.map(String.init)
        flagProperties["advertised.host"] = self.advertisedHost
        flagProperties["advertised.port"] = self.advertisedPort.map(String.init)
        let settings = try BrokerSettings.resolve([
            fileProperties,
            BrokerSettings.properties(fromEnvironment: ProcessInfo.processInfo.environment),
            flagProperties,
        ])

        // Signals are taken over before anything else, so a SIGTERM that arrives while the logs open
        // or the listener binds is neither lost nor fatal: the broker shuts down as soon as it can.
        let shutdown = ShutdownRequest()
        let signalSources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                logger.info("shutting down", metadata: ["signal": "\(signalNumber)"])
                shutdown.request()
            }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }

        let logs = try await LogManager.open(
            dataDirectory: settings.dataDirectory,
            defaultConfig: settings.broker.defaultLogConfig,
            logger: logger
        )
        let broker = try Broker(configuration: settings.broker, logs: logs, logger: logger)
        let server = try await KafkaServer.bind(
            configuration: .init(
                host: settings.host,
                port: settings.port,
                maximumRequestBytes: settings.maximumRequestBytes
            ),
            broker: broker,
            logger: logger
        )
        logger.info(
            "listening",
            metadata: ["address": "\(server.localAddress)", "data-dir": "\(settings.dataDirectory)"]
        )
        // SIGINT/SIGTERM: stop accepting and reading, answer what was read, then flush and close
        // the logs so the next start needs no recovery.
        shutdown.whenRequested { Task { await server.shutdownGracefully() } }

        let retention = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(settings.retentionCheckIntervalMs))
                if Task.isCancelled { break }
                await logs.applyRetention()
            }
        }
        try await server.run()
        retention.cancel()
        try await logs.close()
        logger.info("stopped")
    }
}

/// A shutdown asked for by a signal, possibly before there is anything to shut down.
final class ShutdownRequest: Sendable {
    private struct State {
        var requested = false
        var action: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func request() {
        let action = self.state.withLock { state -> (@Sendable () -> Void)? in
            state.requested = true
            return state.action
        }
        action?()
    }

    /// Runs `action` on the first request, or at once if one already came.
    func whenRequested(_ action: @escaping @Sendable () -> Void) {
        let requested = self.state.withLock { state -> Bool in
            state.action = action
            return state.requested
        }
        if requested { action() }
    }
}
