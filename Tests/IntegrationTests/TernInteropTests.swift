import Foundation
import NIOCore
import Synchronization
import TernClient
import Testing

/// Tern's client against the peers users mix it with: kcat and confluent-kafka (librdkafka) reading
/// what it wrote and writing what it reads, for every codec; and its producer's retries.
@Suite(.serialized) struct TernInteropTests {
    static let codecs: [CompressionCodec] = [.none, .gzip, .snappy, .lz4, .zstd]

    /// The records interop.py builds: binary values and headers.
    static func record(_ index: Int) -> (key: [UInt8], value: [UInt8], headers: [(String, [UInt8])]) {
        (
            Array("key-\(index)".utf8),
            (0..<(index % 300)).map { UInt8((index + $0) % 256) },
            [("seq", Array("\(index)".utf8)), ("bin", [0, 255, UInt8(index % 256)])]
        )
    }

    private func producer(_ ternd: TerndProcess, codec: CompressionCodec) throws -> Producer {
        var configuration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
        configuration.compression = codec
        configuration.batchSize = 16 * 1024
        return try Producer(configuration: configuration)
    }

    private func readAll(_ ternd: TerndProcess, topic: String) async throws -> [ConsumerRecord] {
        var configuration = ConsumerConfiguration(
            bootstrapServers: [ternd.bootstrap],
            mode: .assign([TopicPartition(topic: topic, partition: 0): .earliest])
        )
        configuration.stopAtEnd = true
        let consumer = try Consumer(configuration: configuration)
        var records: [ConsumerRecord] = []
        for try await record in consumer { records.append(record) }
        try await consumer.close()
        return records
    }

    @Test(arguments: codecs)
    func kcatReadsWhatTernWrites(codec: CompressionCodec) async throws {
        try await withTernd { ternd in
            let topic = "tern-to-kcat-\(codec)"
            let producer = try producer(ternd, codec: codec)
            for index in 0..<500 {
                try await producer.enqueue(
                    ProducerRecord(
                        topic: topic,
                        partition: 0,
                        key: "k\(index)",
                        value: "value \(index) " + String(repeating: "z", count: index % 40),
                        headers: [RecordHeader(key: "n", value: ByteBuffer(string: "\(index)"))]
                    )
                )
            }
            try await producer.close()
            let consumed = try await runCommand(
                "/usr/bin/kcat",
                ["-b", ternd.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k|%s|%h\n"]
            )
            #expect(consumed.status == 0, "\(consumed.stderr)")
            let expected = (0..<500).map { "k\($0)|value \($0) \(String(repeating: "z", count: $0 % 40))|n=\($0)\n" }
            #expect(consumed.output == expected.joined())
            #expect(Set(try await storedCodecs(port: ternd.port, topic: topic)) == [codec])
        }
    }

    @Test(arguments: codecs)
    func ternReadsWhatKcatWrites(codec: CompressionCodec) async throws {
        try await withTernd { ternd in
            let topic = "kcat-to-tern-\(codec)"
            let lines = (0..<500).map { "key\($0):value \($0) \(String(repeating: "q", count: $0 % 40))" }
            let produced = try await runCommand(
                "/usr/bin/kcat",
                ["-b", ternd.bootstrap, "-P", "-t", topic, "-p", "0", "-K:", "-H", "origin=kcat", "-z", "\(codec)"],
                input: Data((lines.joined(separator: "\n") + "\n").utf8)
            )
            #expect(produced.status == 0, "\(produced.stderr)")
            let records = try await readAll(ternd, topic: topic)
            #expect(records.map(\.offset) == Array(0..<500))
            #expect(records.map { "\($0.keyString ?? "-"):\($0.valueString ?? "-")" } == lines)
            #expect(
                records.allSatisfy {
                    $0.headers.map(\.key) == ["origin"] && $0.headers.first?.value == ByteBuffer(string: "kcat")
                }
            )
        }
    }

    @Test(arguments: codecs)
    func confluentKafkaAndTernReadEachOther(codec: CompressionCodec) async throws {
        try await withTernd { ternd in
            // Tern writes, librdkafka reads and checks every byte.
            let producer = try producer(ternd, codec: codec)
            for index in 0..<2000 {
                let record = Self.record(index)
                try await producer.enqueue(
                    ProducerRecord(
                        topic: "tern-to-confluent",
                        partition: 0,
                        key: record.key,
                        value: record.value,
                        headers: record.headers.map { RecordHeader(key: $0.0, value: ByteBuffer(bytes: $0.1)) }
                    )
                )
            }
            try await producer.close()
            _ = try await runPython("interop.py", ["consume", ternd.bootstrap, "tern-to-confluent", "2000"])

            // librdkafka writes, Tern reads.
            _ = try await runPython(
                "interop.py",
                ["produce", ternd.bootstrap, "confluent-to-tern", "2000", "\(codec)"]
            )
            let records = try await readAll(ternd, topic: "confluent-to-tern")
            #expect(records.count == 2000)
            for (index, record) in records.enumerated() {
                let expected = Self.record(index)
                #expect(record.offset == Int64(index))
                #expect(record.key.map { Array(buffer: $0) } == expected.key)
                #expect(record.value.map { Array(buffer: $0) } == expected.value)
                #expect(record.headers.map { $0.key } == expected.headers.map(\.0))
                #expect(record.headers.map { $0.value.map { Array(buffer: $0) } } == expected.headers.map(\.1))
            }
        }
    }

    /// The broker restarts while records are being produced: the producer retries until it is back,
    /// and every record is there once, in order.
    @Test func producerRetriesAcrossABrokerRestartWithoutLossOrReordering() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let port = try await freePort()
        var ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: port)
        var configuration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
        configuration.linger = .milliseconds(2)
        configuration.batchSize = 4096
        configuration.deliveryTimeout = .seconds(60)
        configuration.client.reconnectBackoffMax = .milliseconds(200)
        let producer = try Producer(configuration: configuration)
        let acknowledged = Mutex<[Int64]>([])
        let count = 20_000
        let sending = Task {
            for index in 0..<count {
                try await producer.enqueue(ProducerRecord(topic: "restarts", partition: 0, key: nil, value: "\(index)"))
                {
                    if case .success(let written) = $0 { acknowledged.withLock { $0.append(written.offset) } }
                }
                if index % 200 == 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let beforeRestart = acknowledged.withLock { $0.count }
        try await ternd.stop()
        try await Task.sleep(for: .milliseconds(500))
        ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: port)
        try await sending.value
        try await producer.close()
        #expect(acknowledged.withLock { $0.count } == count)
        #expect(beforeRestart < count / 2, "the restart should fall in the middle of the run")
        let records = try await readAll(ternd, topic: "restarts")
        #expect(records.map { $0.valueString ?? "" } == (0..<count).map { "\($0)" })
        try await ternd.stop()
    }

    /// The broker writes a batch but its answer is lost with the connection: the idempotent
    /// producer resends it and the broker recognises the duplicate.
    @Test func idempotentProducerWritesNoDuplicateWhenAResponseIsLost() async throws {
        let proxyPort = try await freePort()
        try await withTernd(arguments: ["--advertised-port", "\(proxyPort)"]) { ternd in
            let proxyLogFile = ternd.dataDirectory.appendingPathComponent("proxy.log")
            _ = FileManager.default.createFile(atPath: proxyLogFile.path, contents: nil)
            let proxy = Process()
            proxy.executableURL = URL(fileURLWithPath: Paths.python)
            proxy.arguments = [
                Paths.pythonScripts.appendingPathComponent("drop_produce_response.py").path, "\(proxyPort)",
                "\(ternd.port)",
            ]
            proxy.standardOutput = try FileHandle(forWritingTo: proxyLogFile)
            try proxy.run()
            defer { kill(proxy.processIdentifier, SIGKILL) }
            try await waitUntilAccepting(port: proxyPort)

            var configuration = ProducerConfiguration(bootstrapServers: ["127.0.0.1:\(proxyPort)"])
            configuration.linger = .milliseconds(1)
            let producer = try Producer(configuration: configuration)
            var offsets: [Int64] = []
            for index in 0..<10 {
                offsets.append(
                    try await producer.send(ProducerRecord(topic: "lost", partition: 0, key: nil, value: "\(index)"))
                        .offset
                )
            }
            try await producer.close()
            #expect(offsets == Array(0..<10))
            let records = try await readAll(ternd, topic: "lost")
            #expect(records.map { $0.valueString ?? "" } == (0..<10).map { "\($0)" })
            let proxyLog = try String(contentsOf: proxyLogFile, encoding: .utf8)
            #expect(proxyLog.contains("dropped produce response"))
        }
    }
}
