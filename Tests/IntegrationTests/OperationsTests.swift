import Foundation
import NIOCore
import NIOPosix
import TernWire
import Testing

/// The admin listener, metrics, probes, logs and graceful shutdown of a real `ternd`.
@Suite struct OperationsTests {
    private func kcat(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        let result = try await runCommand("/usr/bin/kcat", arguments, input: input.map { Data($0.utf8) })
        #expect(result.status == 0, "kcat \(arguments) failed: \(result.stderr)")
        return result
    }

    /// Produce and consume move the per-partition counters, offsets and request counts; a commit
    /// shows up as the group's committed offset and lag.
    @Test func metricsMoveAsRecordsAreProducedAndConsumed() async throws {
        try await withTernd { ternd in
            let before = try await scrape(ternd)
            #expect(before["tern_requests_total{api=\"Produce\"}"] == 0)
            #expect((before["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect((before["process_open_fds"] ?? 0) > 3)

            let lines = (0..<25).map { "record \($0)" }
            _ = try await kcat(["-b", ternd.bootstrap, "-P", "-t", "ops"], input: lines.joined(separator: "\n") + "\n")
            let produced = try await scrape(ternd)
            let series = "{topic=\"ops\",partition=\"0\"}"
            #expect(produced["tern_partition_produced_records_total\(series)"] == 25)
            #expect((produced["tern_partition_produced_bytes_total\(series)"] ?? 0) > 25 * 8)
            #expect(produced["tern_partition_log_end_offset\(series)"] == 25)
            #expect(produced["tern_partition_log_start_offset\(series)"] == 0)
            #expect(produced["tern_partition_segments\(series)"] == 1)
            #expect((produced["tern_partition_size_bytes\(series)"] ?? 0) > 25 * 8)
            #expect((produced["tern_requests_total{api=\"Produce\"}"] ?? 0) >= 1)
            #expect((produced["tern_request_duration_seconds_count{api=\"Produce\"}"] ?? 0) >= 1)
            #expect(produced["tern_partition_fetched_records_total\(series)"] == 0)
            // kcat produces with acks=all: each produce waited for an fsync.
            #expect((produced["tern_log_fsyncs_total"] ?? 0) > (before["tern_log_fsyncs_total"] ?? 0))

            let consumed = try await kcat(["-b", ternd.bootstrap, "-C", "-t", "ops", "-o", "beginning", "-e", "-q"])
            #expect(consumed.output.split(separator: "\n").count == 25)
            let fetched = try await scrape(ternd)
            #expect(fetched["tern_partition_fetched_records_total\(series)"] == 25)
            #expect(
                fetched["tern_partition_fetched_bytes_total\(series)"]
                    == produced["tern_partition_produced_bytes_total\(series)"]
            )
            #expect((fetched["tern_requests_total{api=\"Fetch\"}"] ?? 0) >= 1)
            #expect((fetched["tern_connections_accepted_total"] ?? 0) >= 2)

            _ = try await runPython("ops.py", ["commit", ternd.bootstrap, "lagging", "ops", "0", "10"])
            let committed = try await scrape(ternd)
            let groupSeries = "{group=\"lagging\",topic=\"ops\",partition=\"0\"}"
            #expect(committed["tern_group_committed_offset\(groupSeries)"] == 10)
            #expect(committed["tern_group_lag\(groupSeries)"] == 15)
            #expect(committed["tern_groups{state=\"Empty\"}"] == 1)
            #expect(committed["tern_group_members{group=\"lagging\"}"] == 0)

            // An error in a response is counted by API and code.
            let listed = try await withRawConnection(port: ternd.port) { connection in
                try await connection.send(
                    ListOffsetsRequest(
                        replicaId: -1,
                        topics: [.init(name: "ops", partitions: [.init(partitionIndex: 7, timestamp: -1)])]
                    ),
                    version: 1
                )
            }
            #expect(listed.topics.first?.partitions.first?.errorCode == .unknownTopicOrPartition)
            let errors = try await scrape(ternd)
            #expect(errors["tern_request_errors_total{api=\"ListOffsets\",error=\"UNKNOWN_TOPIC_OR_PARTITION\"}"] == 1)
        }
    }

    @Test func probesAnswerAndUnknownPathsAre404() async throws {
        try await withTernd { ternd in
            for path in ["/health/live", "/health/ready", "/health/startup"] {
                let response = try await httpGet(port: ternd.httpPort, path: path)
                #expect(response.status == 200, "\(path): \(response.body)")
                #expect(response.body.hasPrefix("{\"status\":"), "\(path): \(response.body)")
            }
            #expect(try await httpGet(port: ternd.httpPort, path: "/nothing").status == 404)
            let metrics = try await httpGet(port: ternd.httpPort, path: "/metrics")
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(try await httpGet(port: ternd.httpPort, path: "/metrics", method: "POST").status == 405)
        }
    }

    /// After a crash every partition is recovered before the broker takes clients. Meanwhile
    /// readiness and startup answer 503 with a JSON reason and liveness answers 200; once
    /// recovery is done readiness is 200 and the data is all there. The recovery is real (the
    /// data directory was left by SIGKILL); TERN_TEST_PARTITION_LOAD_DELAY_MS only stretches it.
    @Test func readinessIs503DuringRecoveryAnd200After() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let first = try await TerndProcess.start(
            dataDirectory: dataDirectory,
            environment: ["TERN_NUM_PARTITIONS": "4"]
        )
        let lines = (0..<100).map { "r\($0)" }
        _ = try await kcat(["-b", first.bootstrap, "-P", "-t", "recover"], input: lines.joined(separator: "\n") + "\n")
        try await first.kill()

        let second = try await TerndProcess.start(
            dataDirectory: dataDirectory,
            // Long enough for the probes below to see the recovery on a loaded machine.
            environment: ["TERN_TEST_PARTITION_LOAD_DELAY_MS": "2000"],
            waitUntilAccepting: false
        )
        var sawRecovering = false
        var sawReady = false
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, !sawReady {
            // Startup first: once it says 200 the broker was ready, so a later readiness answer
            // that still says "starting" would be a bug, not a race.
            guard let startup = try? await httpGet(port: second.httpPort, path: "/health/startup"),
                let ready = try? await httpGet(port: second.httpPort, path: "/health/ready")
            else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            if ready.status == 503 {
                let reason = try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: String]
                #expect(reason?["status"] == "starting", "\(ready.body)")
                if reason?["reason"]?.contains("recovering partition logs") == true {
                    sawRecovering = true
                    #expect(startup.status == 503, "\(startup.body)")
                    #expect(try await httpGet(port: second.httpPort, path: "/health/live").status == 200)
                }
            } else {
                #expect(ready.status == 200, "\(ready.body)")
                sawReady = true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sawRecovering, "readiness never reported the recovery; log:\n\(second.log)")
        #expect(sawReady, "readiness never turned 200; log:\n\(second.log)")
        #expect(try await httpGet(port: second.httpPort, path: "/health/startup").status == 200)
        try await second.waitUntilAccepting()
        let consumed = try await kcat(["-b", second.bootstrap, "-C", "-t", "recover", "-o", "beginning", "-e", "-q"])
        #expect(Set(consumed.output.split(separator: "\n").map(String.init)) == Set(lines))
        try await second.stop()
    }

    /// SIGTERM while a producer is sending acks=all: every record the broker acknowledged is there
    /// after a restart, and the broker exits cleanly.
    @Test func sigtermDuringProduceLoadLosesNoAcknowledgedRecord() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let ternd = try await TerndProcess.start(dataDirectory: dataDirectory)
        _ = try await kcat(["-b", ternd.bootstrap, "-P", "-t", "load"], input: "warmup\n")
        async let load = runPython("ops.py", ["load", ternd.bootstrap, "load", "6"])
        // Let the producer get going, then stop the broker under it.
        var produced = 0.0
        let deadline = ContinuousClock.now + .seconds(20)
        while produced < 2000, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            produced =
                try await scrape(ternd)["tern_partition_produced_records_total{topic=\"load\",partition=\"0\"}"] ?? 0
        }
        #expect(produced >= 2000, "the load did not get going")
        try await ternd.stop()
        let result = try await load
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let acked = report?["acked"] as? [String] ?? []
        #expect(acked.count >= 1000, "acknowledged: \(acked.count), report: \(result.output.prefix(300))")

        let restarted = try await TerndProcess.start(dataDirectory: dataDirectory)
        let consumed = try await kcat(["-b", restarted.bootstrap, "-C", "-t", "load", "-o", "beginning", "-e", "-q"])
        let stored = Set(consumed.output.split(separator: "\n").map(String.init))
        let missing = acked.filter { !stored.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) acknowledged records missing, e.g. \(missing.prefix(5))")
        try await restarted.stop()
    }

    @Test func jsonLogFormatWritesOneJSONObjectPerLine() async throws {
        let ternd = try await TerndProcess.start(arguments: ["--log-format", "json"])
        _ = try await kcat(["-b", ternd.bootstrap, "-P", "-t", "logged"], input: "x\n")
        try await ternd.stop()
        let lines = ternd.log.split(separator: "\n")
        #expect(lines.count >= 4)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["level"] != nil && object?["msg"] != nil && object?["time"] != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains("\"msg\":\"listening\"") })
    }

    @Test func logfmtLinesAreKeyValuePairs() async throws {
        let ternd = try await TerndProcess.start(arguments: ["--log-format", "logfmt", "--log-level", "debug"])
        try await ternd.stop()
        // Logs go to stderr; stdout has only the line a test in another language reads.
        #expect(ternd.stdout == "listening on \(ternd.bootstrap)\n")
        let lines = ternd.log.split(separator: "\n")
        #expect(lines.count >= 4)
        // key=bare or key="quoted with \" escapes", separated by single spaces.
        let pair = #"[^\s=]+=(?:"(?:[^"\\]|\\.)*"|[^\s"]+)"#
        let linePattern = try Regex(
            "^time=\\S+ level=(trace|debug|info|notice|warning|error|critical) logger=\\S+ msg=\\S.*$"
        )
        let wholeLine = try Regex("^\(pair)(?: \(pair))*$")
        for line in lines {
            #expect(line.wholeMatch(of: linePattern) != nil, "\(line)")
            #expect(line.wholeMatch(of: wholeLine) != nil, "\(line)")
        }
    }

    @Test func badLogFormatIsRefused() async throws {
        let result = try await runCommand(Paths.ternd, ["--log-format", "xml", "--port", "0"], timeout: .seconds(20))
        #expect(result.status != 0)
        #expect(result.stderr.contains("--log-format xml"), "\(result.stderr)")
    }
}

/// One scrape of `/metrics`, as series (name with its labels, exactly as printed) → value.
func scrape(_ ternd: TerndProcess) async throws -> [String: Double] {
    let response = try await httpGet(port: ternd.httpPort, path: "/metrics")
    guard response.status == 200 else { throw TestFailure("/metrics answered \(response.status)") }
    var values: [String: Double] = [:]
    for line in response.body.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " ") else { throw TestFailure("bad metrics line: \(line)") }
        let value = line[line.index(after: space)...]
        guard let number = Double(value) ?? (value == "+Inf" ? .infinity : nil) else {
            throw TestFailure("bad metrics value: \(line)")
        }
        values[String(line[..<space])] = number
    }
    return values
}

struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// A GET (or `method`) over a fresh loopback connection, read until the server closes it.
func httpGet(port: Int, path: String, method: String = "GET") async throws -> HTTPResponse {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connectTimeout(.seconds(2))
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let raw = try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(
            ByteBuffer(string: "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        )
        var bytes = ByteBuffer()
        for try await var chunk in inbound { bytes.writeBuffer(&chunk) }
        return String(buffer: bytes)
    }
    guard let split = raw.range(of: "\r\n\r\n") else { throw TestFailure("no HTTP header end in \(raw)") }
    let headLines = raw[..<split.lowerBound].split(separator: "\r\n")
    let statusParts = headLines.first?.split(separator: " ") ?? []
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestFailure("bad status line: \(raw)") }
    var headers: [String: String] = [:]
    for line in headLines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPResponse(status: status, headers: headers, body: String(raw[split.upperBound...]))
}
