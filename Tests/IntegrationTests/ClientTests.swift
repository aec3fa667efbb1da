import Foundation
import TernCompression
import TernRecords
import TernWire
import Testing

/// Real Kafka clients against a real `ternd` on loopback.
@Suite(.serialized) struct KcatTests {
    private func kcat(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        let result = try await runCommand("/usr/bin/kcat", arguments, input: input.map { Data($0.utf8) })
        #expect(result.status == 0, "kcat \(arguments) failed: \(result.stderr)")
        return result
    }

    @Test func listsBrokerAndTopics() async throws {
        try await withTernd(arguments: []) { ternd in
            _ = try await kcat(["-b", ternd.bootstrap, "-P", "-t", "listed"], input: "one\n")
            let listing = try await kcat(["-b", ternd.bootstrap, "-L"]).output
            #expect(listing.contains("1 brokers:"))
            #expect(listing.contains("broker 0 at 127.0.0.1:\(ternd.port) (controller)"))
            #expect(listing.contains("topic \"listed\" with 1 partitions:"))
        }
    }

    /// Keys, headers and every codec through kcat, read back by kcat exactly as written; the batches
    /// on the broker really carry the codec kcat was asked for.
    @Test(arguments: ["none", "gzip", "snappy", "lz4", "zstd"])
    func producesAndConsumesWithCodec(codec: String) async throws {
        try await withTernd { ternd in
            let topic = "kcat-\(codec)"
            let lines = (0..<500).map { "key\($0 % 7):value \($0) \(String(repeating: "z", count: $0 % 40))" }
            _ = try await kcat(
                [
                    "-b", ternd.bootstrap, "-P", "-t", topic, "-K:", "-H", "origin=kcat", "-H", "n=1", "-z", codec,
                    "-X", "linger.ms=20",
                ],
                input: lines.joined(separator: "\n") + "\n"
            )
            let consumed = try await kcat(
                ["-b", ternd.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k:%s|%h\n"]
            ).output
            #expect(consumed == lines.map { "\($0)|origin=kcat,n=1\n" }.joined())

            // librdkafka sends a batch uncompressed when compressing does not make it smaller (a
            // first batch of one short line, say), so `none` may appear beside the codec.
            let codecs = Set(try await storedCodecs(port: ternd.port, topic: topic))
            let expected = codec == "none" ? CompressionCodec.none : CompressionCodec(name: codec)!
            #expect(codecs.contains(expected))
            #expect(codecs.subtracting([.none, expected]).isEmpty)
        }
    }

    @Test func consumerSeesRecordsAfterBrokerRestart() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let first = try await TerndProcess.start(dataDirectory: dataDirectory)
        _ = try await kcat(["-b", first.bootstrap, "-P", "-t", "durable", "-X", "acks=all"], input: "a\nb\nc\n")
        try await first.stop()
        let second = try await TerndProcess.start(dataDirectory: dataDirectory)
        let consumed = try await kcat(["-b", second.bootstrap, "-C", "-t", "durable", "-e", "-q", "-f", "%o:%s\n"])
        #expect(consumed.output == "0:a\n1:b\n2:c\n")
        try await second.stop()
    }
}

@Suite(.serialized) struct PythonClientTests {
    @Test(arguments: ["kafka-python", "confluent"])
    func adminProduceConsume100kRecords(client: String) async throws {
        try await withTernd { ternd in
            let topic = "py-\(client)"
            _ = try await runPython("clients.py", [client, "create", ternd.bootstrap, topic])
            let produced = try await runPython("clients.py", [client, "produce", ternd.bootstrap, topic, "100000"])
            #expect(produced.output.contains("\"produced\": 100000"))
            let consumed = try await runPython("clients.py", [client, "consume", ternd.bootstrap, topic, "100000"])
            #expect(consumed.output.contains("\"consumed\": 100000"))
            _ = try await runPython("clients.py", [client, "delete", ternd.bootstrap, topic])
        }
    }

    /// What one client writes the other reads, across a broker restart.
    @Test func restartBetweenProduceAndConsumeLosesNothing() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let first = try await TerndProcess.start(dataDirectory: dataDirectory)
        _ = try await runPython("clients.py", ["kafka-python", "create", first.bootstrap, "restart"])
        _ = try await runPython("clients.py", ["confluent", "produce", first.bootstrap, "restart", "20000"])
        try await first.stop()
        let second = try await TerndProcess.start(dataDirectory: dataDirectory)
        _ = try await runPython("clients.py", ["kafka-python", "consume", second.bootstrap, "restart", "20000"])
        try await second.stop()
    }
}

/// The codecs of the batches stored in partition 0 of `topic`, in order, without repeats.
func storedCodecs(port: Int, topic: String) async throws -> [CompressionCodec] {
    try await withRawConnection(port: port) { connection in
        let response = try await connection.send(
            FetchRequest(
                maxWaitMs: 0,
                minBytes: 0,
                maxBytes: 64 << 20,
                topics: [
                    .init(topic: topic, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 64 << 20)])
                ]
            ),
            version: 11
        )
        let records = try #require(response.responses.first?.partitions.first?.records)
        var codecs: [CompressionCodec] = []
        for batch in try RecordBatch.split(records).batches {
            let codec = try #require(batch.attributes.codec)
            if codecs.last != codec { codecs.append(codec) }
        }
        return codecs
    }
}

extension CompressionCodec {
    init?(name: String) {
        guard let codec = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = codec
    }
}
