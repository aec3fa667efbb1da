import ArgumentParser
import Dispatch
import Foundation
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import TernBroker
import TernOperations
import TernServer
import TernStorage
import TernVersion

@main
struct Ternd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ternd",
        abstract: "Tern broker: a Kafka-compatible partitioned log.",
        discussion: """
            Settings come from flags, then TERN_* environment variables (e.g. TERN_NUM_PARTITIONS), then
            the --config properties file (Kafka's key=value names), then defaults. See docs/configuration.md
            and, for metrics, probes and logs, docs/operations.md.
            """,
        version: "ternd \(TernVersion.text)"
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

    @Option(help: "Address the HTTP admin listener (/metrics, /health/*) binds to (default 127.0.0.1).")
    var httpHost: String?

    @Option(help: "Port of the HTTP admin listener (default 9644).")
    var httpPort: Int?

    @Option(help: "Log line format: logfmt or json (default logfmt; env TERN_LOG_FORMAT).")
    var logFormat: String?

    @Option(
        help:
            "Lowest level logged: trace, debug, info, notice, warning, error, critical (default info; env TERN_LOG_LEVEL)."
    )
    var logLevel: String?

    @Option(help: "A Kafka-style properties file (key=value lines).")
    var config: String?

    func run() async throws {
        // Signals are taken over before anything else, so a SIGTERM that arrives while the logs open
        // or a listener binds is neither lost nor fatal: the broker shuts down as soon as it can.
        let shutdown = ShutdownRequest()
        let signalSources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { shutdown.request(signal: signalNumber) }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }

        let environment = ProcessInfo.processInfo.environment
        let format = try Self.parse(LogFormat.self, self.logFormat ?? environment["TERN_LOG_FORMAT"], "--log-format")
        let level = try Self.parse(Logger.Level.self, self.logLevel ?? environment["TERN_LOG_LEVEL"], "--log-level")
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, format: format ?? .logfmt, level: level ?? .info)
        }
        let logger = Logger(label: "ternd")

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
        flagProperties["http.host"] = self.httpHost
        flagProperties["http.port"] = self.httpPort.map(String.init)
        let environmentProperties = BrokerSettings.properties(fromEnvironment: environment)
        // `--port 0` is for tests that run brokers side by side: the admin port then defaults to
        // an ephemeral one too, or the second broker would fail on 9644.
        if self.port == 0
            && [fileProperties, environmentProperties, flagProperties].allSatisfy({ $0["http.port"] == nil })
        {
            flagProperties["http.port"] = "0"
        }
        var settings = try BrokerSettings.resolve([fileProperties, environmentProperties, flagProperties])

        let exporter = MetricsExporter(registry: PrometheusCollectorRegistry())
        MetricsSystem.bootstrap(exporter.makeFactory())
        let health = HealthState()
        // Both listeners bind before anything touches the data directory, so a port in use stops
        // ternd before it creates, locks or recovers anything. The admin listener also serves at
        // once, so probes answer (503) while the logs load or recover; the Kafka socket is only
        // bound (connections refused) until the broker is open.
        let admin: AdminServer
        do {
            admin = try await AdminServer.bind(
                host: settings.httpHost,
                port: settings.httpPort,
                routes: AdminServer.routes(health: health, metrics: exporter.render),
                logger: logger
            )
        } catch {
            throw StartupError(
                "cannot bind the admin listener to \(settings.httpHost):\(settings.httpPort): "
                    + "\(describe(error)); choose another port with --http-port"
            )
        }
        logger.info("admin listener up", metadata: ["address": "\(admin.localAddress)"])
        let kafkaSocket: ListenerSocket
        do {
            kafkaSocket = try ListenerSocket.bind(host: settings.host, port: settings.port)
        } catch {
            await admin.close()
            throw StartupError("cannot bind the Kafka listener to \(error); choose another port with --port")
        }
        // Port 0: clients must be told the port the kernel picked, not 0.
        if settings.broker.advertisedPort == 0 { settings.broker.advertisedPort = Int32(kafkaSocket.port) }

        let startup = BrokerStartup()
        let brokerService = BrokerService(
            settings: settings,
            health: health,
            exporter: exporter,
            startup: startup,
            partitionLoadDelay: environment["TERN_TEST_PARTITION_LOAD_DELAY_MS"].flatMap { Int($0) },
            logger: logger
        )
        let kafkaService = KafkaListenerService(
            settings: settings,
            socket: kafkaSocket,
            health: health,
            startup: startup,
            logger: logger
        )
        // Graceful shutdown runs in reverse order, each service after the previous one returned:
        // the Kafka listener drains (readiness already 503), then the logs are flushed and closed,
        // then the admin listener goes, so liveness answers until the end.
        let group = ServiceGroup(
            configuration: .init(
                // Named explicitly: the default name is "\(service)", which reflects over every
                // stored property (the settings too) and cost ~20 ms of startup.
                services: [
                    .init(service: AdminListenerService(server: admin), serviceName: "admin-listener"),
                    .init(service: brokerService, serviceName: "broker"),
                    .init(service: kafkaService, serviceName: "kafka-listener"),
                ],
                logger: logger
            )
        )
        shutdown.whenRequested { signalNumber in
            logger.info("shutting down", metadata: ["signal": "\(signalNumber)"])
            health.draining("shutting down")
            Task { await group.triggerGracefulShutdown() }
        }
        try await group.run()
        logger.info("stopped")
    }

    private static func parse<T: RawRepresentable<String>>(_ type: T.Type, _ value: String?, _ flag: String) throws
        -> T?
    {
        guard let value else { return nil }
        guard let parsed = T(rawValue: value.lowercased()) else {
            throw ValidationError("\(flag) \(value): expected one of the documented values")
        }
        return parsed
    }
}

/// Hands the broker from the service that opens it to the Kafka listener, which waits for it.
final class BrokerStartup: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Broker?, Never>])
        case done(Broker?)
    }

    private let state = Mutex(State.waiting([]))

    /// The broker once opened; nil if startup was abandoned (shutdown or failure).
    func broker() async -> Broker? {
        await withCheckedContinuation { continuation in
            let ready = self.state.withLock { state -> Broker?? in
                switch state {
                case .done(let broker): return .some(broker)
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return .none
                }
            }
            if case .some(let broker) = ready { continuation.resume(returning: broker) }
        }
    }

    func finish(_ broker: Broker?) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Broker?, Never>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(broker)
            return waiters
        }
        waiters.forEach { $0.resume(returning: broker) }
    }
}

/// Opens (and if needed recovers) the data directory, replays the group coordinator, applies
/// retention while running, and flushes and closes the logs on shutdown.
struct BrokerService: Service {
    let settings: BrokerSettings
    let health: HealthState
    let exporter: MetricsExporter
    let startup: BrokerStartup
    /// Test hook (TERN_TEST_PARTITION_LOAD_DELAY_MS): sleep before each partition is opened, so a
    /// test can watch readiness during a recovery.
    let partitionLoadDelay: Int?
    let logger: Logger

    func run() async throws {
        let health = self.health
        let delay = self.partitionLoadDelay
        health.starting("opening data directory")
        let logs: LogManager
        do {
            logs = try await LogManager.open(
                dataDirectory: self.settings.dataDirectory,
                defaultConfig: self.settings.broker.defaultLogConfig,
                logger: self.logger,
                onPartitionLoad: { event in
                    health.starting(
                        event.recovering
                            ? "recovering partition logs after an unclean shutdown (\(event.loadedCount) done, at \(event.topicPartition))"
                            : "loading partition logs (\(event.loadedCount) done)"
                    )
                    if let delay { usleep(UInt32(delay) * 1000) }
                }
            )
        } catch  where error.code == .dataDirectoryLocked {
            self.startup.finish(nil)
            throw StartupError("cannot open the data directory: \(error.message)")
        } catch {
            self.startup.finish(nil)
            throw error
        }
        let broker: Broker
        do {
            health.starting("replaying consumer group offsets")
            broker = try Broker(configuration: self.settings.broker, logs: logs, logger: self.logger)
        } catch {
            self.startup.finish(nil)
            try? await logs.close()
            throw error
        }
        self.exporter.attach(broker)
        health.setDegradationCheck {
            let failed = logs.failedPartitions
            guard let (first, error) = failed.first else { return nil }
            return "storage failed for \(failed.count) partition log(s), first \(first): \(error.message); "
                + "they answer KAFKA_STORAGE_ERROR until ternd restarts and recovers them"
        }
        self.startup.finish(broker)

        let interval = self.settings.retentionCheckIntervalMs
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                if Task.isCancelled { break }
                await logs.applyRetention()
            }
        }
        // The Kafka listener has drained by now (it shuts down first): nothing appends any more.
        try await logs.close()
        self.logger.info("logs flushed and closed")
    }
}

/// The Kafka listener: binds once the broker is open, marks the broker ready, serves, and on
/// shutdown stops accepting and reading, answers what was read, then returns.
struct KafkaListenerService: Service {
    let settings: BrokerSettings
    /// Bound before the data directory was opened; listened on once the broker is open.
    let socket: ListenerSocket
    let health: HealthState
    let startup: BrokerStartup
    let logger: Logger

    func run() async throws {
        let startup = self.startup
        // A shutdown before the broker is open abandons the wait (the broker service then closes
        // the logs once they are open).
        let broker = await withGracefulShutdownHandler {
            await startup.broker()
        } onGracefulShutdown: {
            startup.finish(nil)
        }
        guard let broker, !Task.isShuttingDownGracefully else {
            self.socket.close()
            // Startup failed (the broker service threw) or shutdown began. Returning now would
            // race the broker's error to the group, which then reports "a service has finished
            // unexpectedly" instead of why (e.g. the data directory is locked): wait for the
            // shutdown that error starts.
            try? await gracefulShutdown()
            return
        }
        let server: KafkaServer
        do {
            server = try await KafkaServer.listen(
                on: self.socket,
                configuration: KafkaServer.Configuration(settings: self.settings),
                broker: broker,
                logger: self.logger
            )
        } catch {
            throw StartupError(
                "cannot listen on \(self.settings.host):\(self.settings.port): \(describe(error)); "
                    + "choose another port with --port"
            )
        }
        self.logger.info(
            "listening",
            metadata: ["address": "\(server.localAddress)", "data-dir": "\(self.settings.dataDirectory)"]
        )
        self.health.ready()
        // On stdout, apart from the logs, so a test in any language can read the port it got
        // from `--port 0` (docs/testing.md).
        printFlushed("listening on \(hostAndPort(server.localAddress))")
        let health = self.health
        let delayMs = self.settings.shutdownDelayMs
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            health.draining("shutting down")
            Task {
                if delayMs > 0 { try? await Task.sleep(for: .milliseconds(delayMs)) }
                await server.shutdownGracefully()
            }
        }
    }
}

/// The admin listener, closed last.
struct AdminListenerService: Service {
    let server: AdminServer

    func run() async throws {
        let server = self.server
        await withTaskCancellationOrGracefulShutdownHandler {
            await server.waitUntilClosed()
        } onCancelOrGracefulShutdown: {
            Task { await server.close() }
        }
    }
}

/// An error for a startup message; NIO's errno errors in Tern's wording (their own description
/// has a stray parenthesis: `Address already in use) (errno: 98)`).
func describe(_ error: any Error) -> String {
    if let error = error as? IOError {
        let call = error.description.prefix(while: { $0 != "(" && $0 != ":" })
        return describeErrno(String(call), error.errnoCode)
    }
    return "\(error)"
}

/// `127.0.0.1:9092`, `[::1]:9092`.
func hostAndPort(_ address: SocketAddress) -> String {
    let host = address.ipAddress ?? "\(address)"
    return (host.contains(":") ? "[\(host)]" : host) + ":\(address.port ?? 0)"
}

/// A line on stdout, written at once (print's stdout is fully buffered when it is a pipe).
func printFlushed(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct StartupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A shutdown asked for by a signal, possibly before there is anything to shut down.
final class ShutdownRequest: Sendable {
    private struct State {
        var signal: Int32?
        var action: (@Sendable (Int32) -> Void)?
    }
    private let state = Mutex(State())

    func request(signal: Int32) {
        let action = self.state.withLock { state -> (@Sendable (Int32) -> Void)? in
            guard state.signal == nil else { return nil }
            state.signal = signal
            return state.action
        }
        action?(signal)
    }

    /// Runs `action` on the first request, or at once if one already came.
    func whenRequested(_ action: @escaping @Sendable (Int32) -> Void) {
        let signal = self.state.withLock { state -> Int32? in
            state.action = action
            return state.signal
        }
        if let signal { action(signal) }
    }
}
