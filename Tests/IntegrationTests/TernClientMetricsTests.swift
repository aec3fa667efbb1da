import Metrics
import MetricsTestKit
import TernClient
import Testing

/// The client's swift-metrics counters, recorded by `MetricsTestKit`.
///
/// `MetricsSystem.bootstrap` may run once per process and no other test in this process
/// bootstraps a factory, so this suite does it (lazily, once). Counters other suites create
/// afterwards land in the same `TestMetrics`, which is harmless; the checks here use a client id
/// of their own.
@Suite struct TernClientMetricsTests {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    @Test func producedRecordsAndFetchedBytesAreCounted() async throws {
        let metrics = Self.metrics
        let dimensions = [("client_id", "metrics-test")]
        try await withTernd { ternd in
            var client = ClientConfiguration(bootstrapServers: [ternd.bootstrap])
            client.clientId = "metrics-test"
            let producer = try Producer(configuration: ProducerConfiguration(client: client))
            for index in 0..<50 {
                try await producer.enqueue(ProducerRecord(topic: "metered", partition: 0, value: "value \(index)"))
            }
            try await producer.flush()
            try await producer.close()
            #expect(try metrics.expectCounter("tern_client_produced_records_total", dimensions).totalValue == 50)

            var configuration = ConsumerConfiguration(
                client: client,
                mode: .assign([TopicPartition(topic: "metered", partition: 0): .earliest])
            )
            configuration.stopAtEnd = true
            let consumer = try Consumer(configuration: configuration)
            var count = 0
            for try await _ in consumer { count += 1 }
            try await consumer.close()
            #expect(count == 50)
            #expect(try metrics.expectCounter("tern_client_consumed_records_total", dimensions).totalValue == 50)
            // At least the 50 values' bytes came over the wire (plus batch and record overhead).
            let fetched = try metrics.expectCounter("tern_client_fetched_bytes_total", dimensions).totalValue
            #expect(fetched > 50 * "value 00".utf8.count)
        }
    }
}
