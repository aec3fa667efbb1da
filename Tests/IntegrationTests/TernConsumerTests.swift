import Foundation
import NIOCore
import TernClient
import Testing

/// Tern's consumer in assign mode against a real `ternd`.
@Suite(.serialized) struct TernConsumerTests {
    private func produce(_ ternd: TerndProcess, topic: String, partitions: Int32 = 1, count: Int) async throws {
        let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
        try await admin.createTopic(topic, partitions: partitions)
        await admin.close()
        let producer = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
        for index in 0..<count {
            try await producer.enqueue(
                ProducerRecord(
                    topic: topic,
                    partition: Int32(index) % partitions,
                    key: "k\(index)",
                    value: "v\(index)",
                    headers: [RecordHeader(key: "h", value: ByteBuffer(string: "\(index)"))],
                    timestamp: 1_000_000 + Int64(index)
                )
            )
        }
        try await producer.close()
    }

    private func consumeAll(_ consumer: Consumer) async throws -> [ConsumerRecord] {
        var records: [ConsumerRecord] = []
        for try await record in consumer { records.append(record) }
        return records
    }

    @Test func readsEveryPartitionToItsEndFromEarliest() async throws {
        try await withTernd { ternd in
            try await produce(ternd, topic: "assigned", partitions: 3, count: 3000)
            var configuration = ConsumerConfiguration(
                bootstrapServers: [ternd.bootstrap],
                mode: .assign(
                    Dictionary(
                        uniqueKeysWithValues: (0..<3).map {
                            (TopicPartition(topic: "assigned", partition: $0), OffsetSpec.earliest)
                        }
                    )
                )
            )
            configuration.stopAtEnd = true
            configuration.maxPrefetchBytesPerPartition = 16 * 1024
            configuration.maxPartitionFetchBytes = 8 * 1024
            let consumer = try Consumer(configuration: configuration)
            let records = try await consumeAll(consumer)
            #expect(records.count == 3000)
            for partition in Int32(0)..<3 {
                let ofPartition = records.filter { $0.partition == partition }
                #expect(ofPartition.map(\.offset) == Array(0..<1000))
                for record in ofPartition {
                    let index = Int(record.offset) * 3 + Int(partition)
                    #expect(record.keyString == "k\(index)" && record.valueString == "v\(index)")
                    #expect(record.headers.first.map { String(buffer: $0.value!) } == "\(index)")
                    #expect(record.timestamp == 1_000_000 + Int64(index))
                }
            }
            #expect(consumer.position(TopicPartition(topic: "assigned", partition: 1)) == 1000)
            try await consumer.close()
        }
    }

    @Test func startsAtOffsetTailTimestampAndLatest() async throws {
        try await withTernd { ternd in
            try await produce(ternd, topic: "starts", count: 100)
            let partition = TopicPartition(topic: "starts", partition: 0)
            for (spec, first) in [
                (OffsetSpec.offset(42), Int64(42)), (.tail(10), 90), (.timestamp(1_000_050), 50), (.latest, 100),
            ] {
                var configuration = ConsumerConfiguration(
                    bootstrapServers: [ternd.bootstrap],
                    mode: .assign([partition: spec])
                )
                configuration.stopAtEnd = true
                let consumer = try Consumer(configuration: configuration)
                let records = try await consumeAll(consumer)
                #expect(records.first?.offset ?? 100 == first, "\(spec)")
                #expect(records.count == Int(100 - first), "\(spec)")
                try await consumer.close()
            }
        }
    }

    @Test func seekPauseResumeAndStoredOffsets() async throws {
        try await withTernd { ternd in
            try await produce(ternd, topic: "seeking", count: 50)
            let partition = TopicPartition(topic: "seeking", partition: 0)
            var configuration = ConsumerConfiguration(
                bootstrapServers: [ternd.bootstrap],
                mode: .assign([partition: .earliest])
            )
            configuration.groupId = "seekers"
            configuration.enableAutoCommit = false
            let consumer = try Consumer(configuration: configuration)
            var iterator = consumer.makeAsyncIterator()
            for expected in Int64(0)..<10 { #expect(try await iterator.next()?.offset == expected) }
            try await consumer.commit()
            try await consumer.seek(partition, to: .offset(40))
            #expect(try await iterator.next()?.offset == 40)
            try await consumer.seek(partition, to: .offset(5))
            #expect(try await iterator.next()?.offset == 5)
            #expect(try await consumer.committed([partition]) == [partition: 10])
            consumer.pause([partition])
            #expect(consumer.assignment() == [partition])
            consumer.resume([partition])
            #expect(try await iterator.next()?.offset == 6)
            try await consumer.close()

            // A new consumer of the same group starts where the commit left off.
            var stored = ConsumerConfiguration(bootstrapServers: [ternd.bootstrap], mode: .assign([partition: .stored]))
            stored.groupId = "seekers"
            stored.stopAtEnd = true
            let second = try Consumer(configuration: stored)
            let rest = try await consumeAll(second)
            #expect(rest.first?.offset == 10 && rest.count == 40)
            try await second.close()
        }
    }

    @Test func endsWithAnErrorForAnUnknownTopic() async throws {
        try await withTernd { ternd in
            var configuration = ConsumerConfiguration(
                bootstrapServers: [ternd.bootstrap],
                mode: .assign([TopicPartition(topic: "nowhere", partition: 0): .earliest])
            )
            configuration.client.requestTimeout = .seconds(2)
            configuration.stopAtEnd = true
            let consumer = try Consumer(configuration: configuration)
            await #expect(throws: TernClientError.self) { _ = try await consumeAll(consumer) }
            try await consumer.close()
        }
    }
}
