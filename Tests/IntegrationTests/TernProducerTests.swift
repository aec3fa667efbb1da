import Foundation
import NIOCore
import TernClient
import Testing

/// Tern's own producer and admin client against a real `ternd`.
@Suite(.serialized) struct TernProducerTests {
    @Test func adminCreatesListsDescribesAndDeletesTopics() async throws {
        try await withTernd { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic("admin-made", partitions: 3, configs: ["retention.ms": "3600000"])
            await #expect(throws: TernClientError.self) { try await admin.createTopic("admin-made", partitions: 3) }
            let metadata = try await admin.metadata()
            let topic = try #require(metadata.topic("admin-made"))
            #expect(topic.partitions.map(\.partition) == [0, 1, 2])
            #expect(metadata.brokers.count == 1)
            let configs = try await admin.describeConfigs(topic: "admin-made")
            #expect(configs.first { $0.name == "retention.ms" }?.value == "3600000")
            let ends = try await admin.listOffsets(try await admin.partitions(of: "admin-made"), spec: .latest)
            #expect(ends.values.allSatisfy { $0 == 0 } && ends.count == 3)
            try await admin.deleteTopics(["admin-made"])
            #expect(try await admin.metadata().topic("admin-made") == nil)
            await admin.close()
        }
    }

    @Test func sendReturnsOffsetsInOrderAndKcatReadsThem() async throws {
        try await withTernd { ternd in
            var configuration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
            configuration.linger = .milliseconds(1)
            let producer = try Producer(configuration: configuration)
            var offsets: [Int64] = []
            for index in 0..<20 {
                let written = try await producer.send(
                    ProducerRecord(topic: "sent", partition: 0, key: "k\(index)", value: "value \(index)")
                )
                #expect(written.partition == 0)
                offsets.append(written.offset)
            }
            #expect(offsets == Array(0..<20))
            for index in 20..<1000 {
                try await producer.enqueue(
                    ProducerRecord(topic: "sent", partition: 0, key: "k\(index)", value: "value \(index)")
                )
            }
            try await producer.flush()
            try await producer.close()
            let consumed = try await runCommand(
                "/usr/bin/kcat",
                ["-b", ternd.bootstrap, "-C", "-t", "sent", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n"]
            )
            #expect(consumed.output == (0..<1000).map { "k\($0)=value \($0)\n" }.joined())
        }
    }
}
