import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import TernBroker
import TernServer
import TernStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The services `ternd` runs in its ServiceGroup, in the library so they are tested and reused; the
// executable only parses its flags and assembles them.

/// Hands the broker from the service that opens it to the Kafka listener, which waits for it.
public final class BrokerStartup: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Broker?, Never>])
        case done(Broker?)
    }

    private let state = Mutex(State.waiting([]))

    /// The broker once opened; nil if startup was abandoned (shutdown or failure).
    public init() {}

    public func broker() async -> Broker? {
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

    public func finish(_ broker: Broker?) {
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
public struct BrokerService: Service {
    let settings: BrokerSettings
    let health: HealthState
    let exporter: MetricsExporter
    let startup: BrokerStartup
    /// Test hook (TERN_TEST_PARTITION_LOAD_DELAY_MS): sleep before each partition is opened, so a
    /// test can watch readiness during a recovery.
    let partitionLoadDelay: Int?
    let logger: Logger

    public init(
        settings: BrokerSettings,
        health: HealthState,
        exporter: MetricsExporter,
        startup: BrokerStartup,
        partitionLoadDelay: Int? = nil,
        logger: Logger
    ) {
        self.settings = settings
        self.health = health
        self.exporter = exporter
        self.startup = startup
        self.partitionLoadDelay = partitionLoadDelay
        self.logger = logger
    }

    public func run() async throws {
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
                },
                cleaner: self.settings.cleaner
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
public struct KafkaListenerService: Service {
    /// A listener's settings and its socket, bound before the data directory was opened and
    /// listened on once the broker is open.
    public struct BoundListener: Sendable {
        public var settings: ListenerSettings
        public var socket: ListenerSocket

        public init(settings: ListenerSettings, socket: ListenerSocket) {
            self.settings = settings
            self.socket = socket
        }
    }

    let settings: BrokerSettings
    let listeners: [BoundListener]
    /// For the SSL listeners.
    let tls: TLSContextBox?
    let health: HealthState
    let startup: BrokerStartup
    let logger: Logger

    public init(
        settings: BrokerSettings,
        listeners: [BoundListener],
        tls: TLSContextBox?,
        health: HealthState,
        startup: BrokerStartup,
        logger: Logger
    ) {
        self.settings = settings
        self.listeners = listeners
        self.tls = tls
        self.health = health
        self.startup = startup
        self.logger = logger
    }

    public func run() async throws {
        let startup = self.startup
        // A shutdown before the broker is open abandons the wait (the broker service then closes
        // the logs once they are open).
        let broker = await withGracefulShutdownHandler {
            await startup.broker()
        } onGracefulShutdown: {
            startup.finish(nil)
        }
        guard let broker, !Task.isShuttingDownGracefully else {
            for listener in self.listeners { listener.socket.close() }
            // Startup failed (the broker service threw) or shutdown began. Returning now would
            // race the broker's error to the group, which then reports "a service has finished
            // unexpectedly" instead of why (e.g. the data directory is locked): wait for the
            // shutdown that error starts.
            try? await gracefulShutdown()
            return
        }
        var servers: [KafkaServer] = []
        for listener in self.listeners {
            do {
                servers.append(
                    try await KafkaServer.listen(
                        on: listener.socket,
                        configuration: KafkaServer.Configuration(
                            settings: self.settings,
                            listener: listener.settings,
                            tls: self.tls
                        ),
                        broker: broker,
                        logger: self.logger
                    )
                )
            } catch {
                for server in servers { await server.shutdownGracefully() }
                throw StartupError(
                    "cannot listen on \(listener.settings.host):\(listener.settings.port): \(describe(error)); "
                        + "choose another port with --port or listeners"
                )
            }
        }
        for (server, listener) in zip(servers, self.listeners) {
            self.logger.info(
                "listening",
                metadata: [
                    "listener": "\(listener.settings.name)",
                    "protocol": "\(listener.settings.securityProtocol.rawValue)",
                    "address": "\(server.localAddress)", "data-dir": "\(self.settings.dataDirectory)",
                ]
            )
        }
        self.health.ready()
        // On stdout, apart from the logs, so a test in any language can read the port it got
        // from `--port 0` (docs/testing.md): the first listener's, then one line per other one.
        printFlushed("listening on \(hostAndPort(servers[0].localAddress))")
        for (server, listener) in zip(servers, self.listeners).dropFirst() {
            printFlushed("listening on \(hostAndPort(server.localAddress)) (\(listener.settings.name))")
        }
        let health = self.health
        let delayMs = self.settings.shutdownDelayMs
        let running = servers
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup { group in
                for server in running { group.addTask { try await server.run() } }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            health.draining("shutting down")
            Task {
                if delayMs > 0 { try? await Task.sleep(for: .milliseconds(delayMs)) }
                for server in running { await server.shutdownGracefully() }
            }
        }
    }
}

/// The admin listener, closed last.
public struct AdminListenerService: Service {
    let server: AdminServer

    public init(server: AdminServer) {
        self.server = server
    }

    public func run() async throws {
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
public func describe(_ error: any Error) -> String {
    if let error = error as? IOError {
        let call = error.description.prefix(while: { $0 != "(" && $0 != ":" })
        return describeErrno(String(call), error.errnoCode)
    }
    return "\(error)"
}

/// `127.0.0.1:9092`, `[::1]:9092`.
public func hostAndPort(_ address: SocketAddress) -> String {
    let host = address.ipAddress ?? "\(address)"
    return (host.contains(":") ? "[\(host)]" : host) + ":\(address.port ?? 0)"
}

/// A line on stdout, written at once (print's stdout is fully buffered when it is a pipe).
public func printFlushed(_ line: String) {
    var bytes = Array((line + "\n").utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}

public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A shutdown asked for by a signal, possibly before there is anything to shut down.
public final class ShutdownRequest: Sendable {
    private struct State {
        var signal: Int32?
        var action: (@Sendable (Int32) -> Void)?
    }
    private let state = Mutex(State())

    public init() {}

    public func request(signal: Int32) {
        let action = self.state.withLock { state -> (@Sendable (Int32) -> Void)? in
            guard state.signal == nil else { return nil }
            state.signal = signal
            return state.action
        }
        action?(signal)
    }

    /// Runs `action` on the first request, or at once if one already came.
    public func whenRequested(_ action: @escaping @Sendable (Int32) -> Void) {
        let signal = self.state.withLock { state -> Int32? in
            state.action = action
            return state.signal
        }
        if let signal { action(signal) }
    }
}

/// The process's environment variables (what Foundation's `ProcessInfo` gives, without Foundation).
public func processEnvironment() -> [String: String] {
    var variables: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let pair = String(cString: pointer)
        if let equals = pair.firstIndex(of: "=") {
            variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        entry += 1
    }
    return variables
}

/// A whole text file (a `--config` properties file), as UTF-8.
public func readTextFile(atPath path: String) throws -> String {
    do {
        return String(decoding: try readWholeFile(atPath: path), as: UTF8.self)
    } catch {
        throw StartupError("\(error)")
    }
}
