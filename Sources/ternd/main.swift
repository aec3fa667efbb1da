import ArgumentParser
import Dispatch
import Logging
import Metrics
import NIOSSL
import Prometheus
import ServiceLifecycle
import TernBroker
import TernOperations
import TernServer
import TernVersion

#if canImport(Glibc)
    import Glibc
#endif

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

        let environment = processEnvironment()
        let format = try Self.parse(LogFormat.self, self.logFormat ?? environment["TERN_LOG_FORMAT"], "--log-format")
        let level = try Self.parse(Logger.Level.self, self.logLevel ?? environment["TERN_LOG_LEVEL"], "--log-level")
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, format: format ?? .logfmt, level: level ?? .info)
        }
        let logger = Logger(label: "ternd")

        var fileProperties: [String: String] = [:]
        if let config {
            fileProperties = try BrokerSettings.parseProperties(readTextFile(atPath: config))
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
        // The admin listener's TLS files are read first: a bad keystore stops ternd before it binds.
        var adminTLS: TLSContextBox?
        if let httpTLS = settings.httpTLS {
            do {
                adminTLS = TLSContextBox(try KafkaServer.makeTLSContext(httpTLS))
            } catch {
                throw StartupError("http.ssl: \(error)")
            }
        }
        let admin: AdminServer
        do {
            admin = try await AdminServer.bind(
                host: settings.httpHost,
                port: settings.httpPort,
                routes: AdminServer.routes(health: health, metrics: exporter.render),
                tls: adminTLS,
                logger: logger
            )
        } catch {
            throw StartupError(
                "cannot bind the admin listener to \(settings.httpHost):\(settings.httpPort): "
                    + "\(describe(error)); choose another port with --http-port"
            )
        }
        logger.info("admin listener up", metadata: ["address": "\(admin.localAddress)"])
        // TLS files are read before anything is bound, so a bad keystore stops ternd at once.
        var tls: TLSContextBox?
        if let tlsSettings = settings.tls {
            do {
                tls = TLSContextBox(try KafkaServer.makeTLSContext(tlsSettings))
            } catch {
                await admin.close()
                throw StartupError("\(error)")
            }
        }
        // SIGHUP reloads the keystore and truststore (a renewed certificate): new connections get
        // them, open ones keep theirs; files that do not load leave the old ones in use.
        // (Without TLS there is nothing to reload: SIGHUP is logged and ignored, never fatal.)
        signal(SIGHUP, SIG_IGN)
        let reloadSource = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        var reloadable: [(box: TLSContextBox, files: TLSSettings, name: String)] = []
        if let tls, let files = settings.tls { reloadable.append((tls, files, "listeners")) }
        if let adminTLS, let files = settings.httpTLS { reloadable.append((adminTLS, files, "admin listener")) }
        reloadSource.setEventHandler { [reloadable] in
            guard !reloadable.isEmpty else {
                logger.info("SIGHUP: no TLS listener, nothing to reload")
                return
            }
            for (box, files, name) in reloadable {
                do {
                    box.replace(with: try KafkaServer.makeTLSContext(files))
                    logger.info("reloaded TLS certificates", metadata: ["signal": "SIGHUP", "of": "\(name)"])
                } catch {
                    logger.error(
                        "cannot reload TLS certificates; still serving the old ones",
                        metadata: ["of": "\(name)", "error": "\(error)"]
                    )
                }
            }
        }
        reloadSource.resume()
        defer { reloadSource.cancel() }
        let portAdvice = settings.broker.staticProperties["listeners"] == nil ? "--port" : "listeners"
        var listeners: [KafkaListenerService.BoundListener] = []
        for var listener in settings.listeners {
            do {
                let socket = try ListenerSocket.bind(host: listener.host, port: listener.port)
                // Port 0: clients must be told the port the kernel picked, not 0.
                if listener.advertisedPort == 0 { listener.advertisedPort = Int32(socket.port) }
                listeners.append(.init(settings: listener, socket: socket))
            } catch {
                for bound in listeners { bound.socket.close() }
                await admin.close()
                throw StartupError("cannot bind the Kafka listener to \(error); choose another port with \(portAdvice)")
            }
        }
        settings.broker.advertisedHost = listeners[0].settings.advertisedHost
        settings.broker.advertisedPort = listeners[0].settings.advertisedPort

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
            listeners: listeners,
            tls: tls,
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
