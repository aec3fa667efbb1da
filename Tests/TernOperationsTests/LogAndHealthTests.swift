import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import TernOperations

@Suite struct StructuredLogHandlerTests {
    @Test func logfmtQuotesOnlyWhatNeedsIt() {
        let line = StructuredLogHandler.render(
            format: .logfmt,
            time: "2026-11-29T10:00:00.000Z",
            level: .warning,
            label: "ternd",
            message: "closing connection",
            metadata: ["remote": "127.0.0.1:5", "reason": "say \"hi\"\n", "empty": "", "api": "Produce"]
        )
        #expect(
            line
                == "time=2026-11-29T10:00:00.000Z level=warning logger=ternd msg=\"closing connection\" api=Produce empty=\"\" reason=\"say \\\"hi\\\"\\n\" remote=127.0.0.1:5\n"
        )
    }

    @Test func jsonLinesParseBack() throws {
        let line = StructuredLogHandler.render(
            format: .json,
            time: "2026-11-29T10:00:00.000Z",
            level: .error,
            label: "ternd",
            message: "tab\there \u{1}",
            metadata: ["list": .array(["a", "b"]), "quote": "\"x\"", "nested": .dictionary(["k": "v"])]
        )
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["msg"] == "tab\there \u{1}")
        #expect(object?["level"] == "error")
        #expect(object?["quote"] == "\"x\"")
        #expect(object?["list"] == "[a,b]")
        #expect(object?["nested"] == "{k=v}")
    }

    @Test func handlerHonoursLevelAndMergesMetadata() {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "test") { label in
            StructuredLogHandler(label: label, format: .logfmt, level: .info) { line in
                lines.withLock { $0.append(line) }
            }
        }
        logger[metadataKey: "connection"] = "7"
        logger.debug("dropped")
        logger.info("kept", metadata: ["api": "Fetch"])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(written.first?.contains("msg=kept api=Fetch connection=7") == true)
    }

    @Test func timestampsAreRFC3339WithMilliseconds() throws {
        let pattern = try Regex(#"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"#)
        #expect(StructuredLogHandler.timestamp().wholeMatch(of: pattern) != nil)
    }
}

@Suite struct HealthStateTests {
    @Test func readinessFollowsTheLifecycle() {
        let health = HealthState()
        #expect(health.liveness.status == 200)
        #expect(health.readiness.status == 503)
        #expect(health.startup.status == 503)
        health.starting("recovering \"orders-0\"")
        #expect(health.readiness.body == #"{"status":"starting","reason":"recovering \"orders-0\""}"#)
        health.ready()
        #expect(health.readiness == .init(status: 200, body: #"{"status":"ready"}"#))
        #expect(health.startup.status == 200)
        // A late progress report cannot undo readiness.
        health.starting("loading")
        #expect(health.readiness.status == 200)
        health.draining("shutting down")
        #expect(health.readiness == .init(status: 503, body: #"{"status":"draining","reason":"shutting down"}"#))
        #expect(health.startup.status == 200)
        #expect(health.liveness.status == 200)
        health.ready()
        #expect(health.readiness.status == 503)
    }

    /// The degradation check (ternd: failed partition logs) turns readiness to 503 while it finds
    /// something, and back; liveness and startup stay 200.
    @Test func aDegradationMakesReadinessFailWhileItLasts() {
        let health = HealthState()
        let failure = Mutex<String?>(nil)
        health.setDegradationCheck { failure.withLock { $0 } }
        health.ready()
        #expect(health.readiness.status == 200)
        failure.withLock { $0 = "storage failed for a-0" }
        #expect(
            health.readiness == .init(status: 503, body: #"{"status":"degraded","reason":"storage failed for a-0"}"#)
        )
        #expect(health.liveness.status == 200)
        #expect(health.startup.status == 200)
        failure.withLock { $0 = nil }
        #expect(health.readiness.status == 200)
        health.draining("shutting down")
        failure.withLock { $0 = "storage failed for a-0" }
        #expect(health.readiness.body.contains("draining"))
    }

    @Test func drainingBeforeReadyFailsStartupToo() {
        let health = HealthState()
        health.draining("shutting down")
        #expect(health.startup.status == 503)
        #expect(health.readiness.status == 503)
    }
}

@Suite struct AdminServerTests {
    /// The listener over real loopback sockets: routes, 404, 405, HEAD, keep-alive.
    @Test func servesRoutesOverHTTP1() async throws {
        let health = HealthState()
        let server = try await AdminServer.bind(
            host: "127.0.0.1",
            port: 0,
            routes: AdminServer.routes(health: health, metrics: { "tern_up 1\n" }),
            logger: Logger(label: "test")
        )
        let port = server.localAddress.port!
        let responses = try await exchange(
            port: port,
            "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "HEAD /health/live HTTP/1.1\r\nHost: x\r\n\r\n" + "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        #expect(responses.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(responses.contains(#"{"status":"starting","reason":"starting"}"#))
        #expect(responses.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(responses.contains("\r\n\r\ntern_up 1\n"))
        #expect(responses.contains("HTTP/1.1 405 Method Not Allowed"))
        #expect(responses.contains("HTTP/1.1 404 Not Found"))
        // HEAD: headers with the length, no body (the next response follows right away).
        #expect(responses.contains("Content-Length: 19\r\nCache-Control: no-store\r\n\r\nHTTP/1.1 405"))
        health.ready()
        let ready = try await exchange(port: port, "GET /health/ready HTTP/1.0\r\n\r\n")
        #expect(ready.hasPrefix("HTTP/1.0 200 OK\r\n"))
        await server.close()
        await server.waitUntilClosed()
    }

    private func exchange(port: Int, _ request: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var bytes = ByteBuffer()
            for try await var chunk in inbound { bytes.writeBuffer(&chunk) }
            return String(buffer: bytes)
        }
    }
}
