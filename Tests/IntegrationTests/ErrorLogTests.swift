import Foundation
import Logging
import Synchronization
import TernClient
import TernTestKit
import Testing

/// Requests answered with an error code are logged with what a user needs to act: the error's
/// name, the API, the client id, its address and the topic; repeats within 10 s are not.
@Suite struct ErrorLogTests {
    let kcat = "/usr/bin/kcat"
    let kcatEnvironment = ["HOME": "/nonexistent-tern-test-home", "KCAT_CONFIG": ""]

    @Test func anUnknownTopicIsLoggedOnceWithItsContextAndTheBrokerKeepsServing() async throws {
        let lines = CapturedLines()
        let logger = Logger(label: "tern.test-broker", factory: { _ in CapturingLogHandler(lines: lines) })
        try await withTestBroker(properties: ["auto.create.topics.enable": "false"], logger: logger) { broker in
            try await broker.createTopic("present")
            // kcat (librdkafka, client id "rdkafka") asks for the metadata of a topic that does not
            // exist: the broker answers UNKNOWN_TOPIC_OR_PARTITION for it. Three times.
            for _ in 0..<3 {
                let kcat = try await runCommand(
                    self.kcat,
                    ["-b", broker.bootstrapServer, "-L", "-t", "missing"],
                    environment: self.kcatEnvironment,
                    timeout: .seconds(30)
                )
                #expect(
                    kcat.output.contains("missing") && kcat.output.contains("Broker: Unknown topic"),
                    "\(kcat.output)"
                )
            }
            let logged = lines.all.filter { $0.contains("error=UNKNOWN_TOPIC_OR_PARTITION") }
            #expect(logged.count == 1, "\(lines.all)")
            let line = try #require(logged.first)
            #expect(line.hasPrefix("info request answered with an error"), "\(line)")
            for field in ["api=Metadata", "clientId=rdkafka", "resource=missing"] {
                #expect(line.contains(field), "\(line)")
            }
            #expect(line.range(of: #"remote=127\.0\.0\.1:\d+"#, options: .regularExpression) != nil, "\(line)")
            // A request without errors logs nothing, and the broker still serves.
            let before = lines.all.count
            #expect(try await broker.produce(topic: "present", value: "ok").offset == 0)
            #expect(lines.all.count == before, "\(lines.all)")
        }
    }
}

final class CapturedLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { self.lines.withLock { $0.append(line) } }
    var all: [String] { self.lines.withLock { $0 } }
}

/// `level message key=value…` (keys sorted), per event.
struct CapturingLogHandler: LogHandler {
    let lines: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        self.lines.append(([event.level.rawValue, event.message.description] + fields).joined(separator: " "))
    }
}
