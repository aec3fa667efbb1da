import TernBroker
import TernStorage
import Testing

@testable import TernOperations

@Suite struct PrometheusTextTests {
    @Test func familiesHaveHelpAndTypeThenSamples() {
        var writer = PrometheusTextWriter()
        writer.family("tern_partition_log_end_offset", type: .gauge, help: "Next offset.")
        writer.sample("tern_partition_log_end_offset", ["topic": "a", "partition": "0"], Int64(42))
        writer.sample("tern_partition_log_end_offset", ["topic": "b", "partition": "3"], Int64(0))
        writer.family("process_cpu_seconds_total", type: .counter, help: "CPU.")
        writer.sample("process_cpu_seconds_total", 1.25)
        #expect(
            writer.text == """
                # HELP tern_partition_log_end_offset Next offset.
                # TYPE tern_partition_log_end_offset gauge
                tern_partition_log_end_offset{topic="a",partition="0"} 42
                tern_partition_log_end_offset{topic="b",partition="3"} 0
                # HELP process_cpu_seconds_total CPU.
                # TYPE process_cpu_seconds_total counter
                process_cpu_seconds_total 1.25

                """
        )
    }

    @Test func labelValuesAndHelpAreEscaped() {
        var writer = PrometheusTextWriter()
        writer.family("tern_group_lag", type: .gauge, help: "back\\slash and\nnewline")
        writer.sample("tern_group_lag", ["group": "a\"b\\c\nd"], Int64(1))
        #expect(
            writer.text == """
                # HELP tern_group_lag back\\\\slash and\\nnewline
                # TYPE tern_group_lag gauge
                tern_group_lag{group="a\\"b\\\\c\\nd"} 1

                """
        )
    }

    @Test(arguments: [
        (0.0, "0"), (-3, "-3"), (1e15, "1000000000000000"), (0.5, "0.5"), (Double.infinity, "+Inf"),
        (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (1e300, "1e+300"),
    ])
    func valuesAreFormattedAsPrometheusReadsThem(value: Double, text: String) {
        #expect(PrometheusTextWriter.format(value) == text)
    }

    @Test func metricNamesAreChecked() {
        #expect(PrometheusTextWriter.isValidName("tern_requests_total"))
        #expect(PrometheusTextWriter.isValidName("a:b_c9"))
        #expect(!PrometheusTextWriter.isValidName("9lives"))
        #expect(!PrometheusTextWriter.isValidName("tern-requests"))
        #expect(!PrometheusTextWriter.isValidName(""))
    }

    /// Lag is the log end offset minus the committed offset, never negative; partitions and
    /// groups come out sorted, and every state has a count.
    @Test func exporterRendersPartitionsGroupsAndLag() {
        var busy = PartitionStatistics(
            topicPartition: TopicPartition(topic: "orders", partition: 1),
            logStartOffset: 5,
            logEndOffset: 100,
            sizeBytes: 4096,
            segmentCount: 2
        )
        busy.producedRecords = 95
        busy.producedBytes = 4000
        busy.fetchedRecords = 30
        busy.fetchedBytes = 1200
        let partitions = [
            busy,
            PartitionStatistics(
                topicPartition: TopicPartition(topic: "orders", partition: 0),
                logStartOffset: 0,
                logEndOffset: 7,
                sizeBytes: 512,
                segmentCount: 1
            ),
        ]
        let groups = [
            GroupStatistics(
                groupId: "billing",
                state: "Stable",
                memberCount: 2,
                generation: 3,
                committedOffsets: [
                    .init(topic: "orders", partition: 0, offset: 9),
                    .init(topic: "orders", partition: 1, offset: 40),
                    .init(topic: "gone", partition: 0, offset: 1),
                ]
            )
        ]
        var writer = PrometheusTextWriter()
        MetricsExporter.write(partitions: partitions, groups: groups, into: &writer)
        let lines = writer.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.contains("tern_partition_log_end_offset{topic=\"orders\",partition=\"0\"} 7"))
        #expect(lines.contains("tern_partition_log_start_offset{topic=\"orders\",partition=\"1\"} 5"))
        #expect(lines.contains("tern_partition_size_bytes{topic=\"orders\",partition=\"1\"} 4096"))
        #expect(lines.contains("tern_partition_segments{topic=\"orders\",partition=\"1\"} 2"))
        #expect(lines.contains("tern_partition_produced_records_total{topic=\"orders\",partition=\"1\"} 95"))
        #expect(lines.contains("tern_partition_produced_bytes_total{topic=\"orders\",partition=\"1\"} 4000"))
        #expect(lines.contains("tern_partition_fetched_records_total{topic=\"orders\",partition=\"1\"} 30"))
        #expect(lines.contains("tern_partition_fetched_bytes_total{topic=\"orders\",partition=\"0\"} 0"))
        let endOffsets = lines.filter { $0.hasPrefix("tern_partition_log_end_offset") }
        #expect(endOffsets.first?.contains("partition=\"0\"") == true)
        #expect(lines.contains("tern_groups{state=\"Stable\"} 1"))
        #expect(lines.contains("tern_groups{state=\"Empty\"} 0"))
        #expect(lines.contains("tern_group_members{group=\"billing\"} 2"))
        #expect(lines.contains("tern_group_generation{group=\"billing\"} 3"))
        #expect(lines.contains("tern_group_lag{group=\"billing\",topic=\"orders\",partition=\"0\"} 0"))
        #expect(lines.contains("tern_group_lag{group=\"billing\",topic=\"orders\",partition=\"1\"} 60"))
        #expect(lines.contains("tern_group_committed_offset{group=\"billing\",topic=\"gone\",partition=\"0\"} 1"))
        #expect(!lines.contains { $0.hasPrefix("tern_group_lag{group=\"billing\",topic=\"gone\"") })
        // Each family's TYPE line appears once, before its samples.
        let typeLines = writer.text.split(separator: "\n").filter { $0.hasPrefix("# TYPE") }
        #expect(Set(typeLines).count == typeLines.count)
    }

    @Test func processStatisticsAreReadFromProc() {
        let statistics = ProcessStatistics.current()
        #expect(statistics.residentMemoryBytes > 1_000_000)
        #expect(statistics.virtualMemoryBytes >= statistics.residentMemoryBytes)
        #expect(statistics.openFileDescriptors >= 3)
        #expect(statistics.maximumFileDescriptors >= statistics.openFileDescriptors)
        #expect(statistics.threads >= 1)
        #expect(statistics.startTimeSeconds > 1_600_000_000)
    }
}
