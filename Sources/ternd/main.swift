import ArgumentParser
import Dispatch
import Foundation
import Logging
import TernBroker
import TernServer

@main
struct Ternd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ternd",
        abstract: "Tern broker: a Kafka-compatible partitioned log."
    )

    @Option(help: "Directory holding the partition logs.")
    var dataDir: String = "./tern-data"

    @Option(help: "Address the Kafka listener binds to.")
    var host: String = "127.0.0.1"

    @Option(help: "Port of the Kafka listener.")
    var port: Int = 9092

    @Option(help: "Largest request frame accepted, in bytes (Kafka's socket.request.max.bytes).")
    var socketRequestMaxBytes: Int = 104_857_600

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "ternd")
        logger.logLevel = .info

        try FileManager.default.createDirectory(atPath: self.dataDir, withIntermediateDirectories: true)
        let server = try await KafkaServer.bind(
            configuration: .init(host: self.host, port: self.port, maximumRequestBytes: self.socketRequestMaxBytes),
            broker: Broker(logger: logger),
            logger: logger
        )
        logger.info("listening", metadata: ["address": "\(server.localAddress)", "data-dir": "\(self.dataDir)"])

        // SIGINT/SIGTERM stop the listener; run() then returns once open connections end.
        let signalSources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                logger.info("shutting down", metadata: ["signal": "\(signalNumber)"])
                Task { try? await server.close() }
            }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }
        try await server.run()
    }
}
