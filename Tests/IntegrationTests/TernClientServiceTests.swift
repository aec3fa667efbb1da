import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import TernClient
import Testing

/// `Producer` and `Consumer` as swift-service-lifecycle services.
@Suite(.serialized) struct TernClientServiceTests {
    /// Graceful shutdown of a `ServiceGroup` closes both: the producer flushes what it buffered
    /// (a long linger keeps it buffered until then), the consumer's record sequence ends, and
    /// `run()` returns.
    @Test func gracefulShutdownFlushesTheProducerAndEndsTheConsumer() async throws {
        try await withTernd { ternd in
            var producerConfiguration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
            producerConfiguration.linger = .seconds(60)
            let producer = try Producer(configuration: producerConfiguration)
            let seed = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
            for index in 0..<10 {
                try await seed.send(ProducerRecord(topic: "served", partition: 0, value: "seed\(index)"))
            }
            try await seed.close()

            let consumer = try Consumer(
                configuration: ConsumerConfiguration(
                    bootstrapServers: [ternd.bootstrap],
                    mode: .assign([TopicPartition(topic: "served", partition: 0): .earliest])
                )
            )
            let consumed = Mutex(0)
            let reading = Task {
                for try await _ in consumer { consumed.withLock { $0 += 1 } }
            }
            let delivered = Mutex(0)
            try await testGracefulShutdown { trigger in
                let group = ServiceGroup(services: [producer, consumer], logger: Logger(label: "test.services"))
                let running = Task { try await group.run() }
                try await TernGroupConsumerTests.waitUntil("the consumer reads the seed records") {
                    consumed.withLock { $0 } >= 10
                }
                for index in 0..<100 {
                    try await producer.enqueue(ProducerRecord(topic: "served", partition: 0, value: "\(index)")) {
                        if case .success = $0 { delivered.withLock { $0 += 1 } }
                    }
                }
                #expect(delivered.withLock { $0 } == 0, "linger should hold the records until shutdown")
                trigger.triggerGracefulShutdown()
                try await running.value
            }
            try await reading.value
            #expect(delivered.withLock { $0 } == 100)
            let written = try await Self.readAll(ternd, topic: "served")
            #expect(written.count == 110)
            #expect(written.suffix(100).map { $0.valueString ?? "" } == (0..<100).map { "\($0)" })
        }
    }

    static func readAll(_ ternd: TerndProcess, topic: String) async throws -> [ConsumerRecord] {
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
}
