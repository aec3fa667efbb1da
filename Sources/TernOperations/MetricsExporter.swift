import Prometheus
import Synchronization
import TernBroker
import TernStorage

/// What `/metrics` serves: the swift-metrics series counted on the request path (rendered by
/// swift-prometheus from its registry), followed by the families read at scrape time from the
/// broker's state and from /proc.
public final class MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let broker = Mutex<Broker?>(nil)

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// A factory for `MetricsSystem.bootstrap`, with latency buckets fit for Kafka requests and
    /// fsyncs (100 µs to 10 s) instead of the default 5 ms to 10 s.
    public func makeFactory() -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: self.registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        return factory
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// From now on scrapes include the broker's partitions and groups.
    public func attach(_ broker: Broker) {
        self.broker.withLock { $0 = broker }
    }

    public func render() -> String {
        var writer = PrometheusTextWriter()
        if let broker = self.broker.withLock({ $0 }) {
            Self.write(partitions: broker.partitionStatistics(), groups: broker.groupStatistics(), into: &writer)
        }
        Self.write(process: .current(), into: &writer)
        return self.registry.emitToString() + writer.text
    }

    static func write(
        partitions: [PartitionStatistics],
        groups: [GroupStatistics],
        into writer: inout PrometheusTextWriter
    ) {
        let partitions = partitions.sorted {
            ($0.topicPartition.topic, $0.topicPartition.partition) < (
                $1.topicPartition.topic, $1.topicPartition.partition
            )
        }
        let families: [(String, String, (PartitionStatistics) -> Int64)] = [
            ("tern_partition_log_start_offset", "First offset still in the partition's log.", \.logStartOffset),
            (
                "tern_partition_log_end_offset", "Offset the next appended record gets (the high watermark).",
                \.logEndOffset
            ),
            ("tern_partition_size_bytes", "Bytes in the partition's segment files.", \.sizeBytes),
            ("tern_partition_segments", "Segments in the partition's log.", { Int64($0.segmentCount) }),
        ]
        let counters: [(String, String, (PartitionStatistics) -> Int64)] = [
            ("tern_partition_produced_records_total", "Records appended to the partition.", \.producedRecords),
            ("tern_partition_produced_bytes_total", "Bytes of record batches appended.", \.producedBytes),
            ("tern_partition_fetched_records_total", "Records sent to consumers in Fetch responses.", \.fetchedRecords),
            ("tern_partition_fetched_bytes_total", "Bytes of record batches sent in Fetch responses.", \.fetchedBytes),
        ]
        for (name, help, value) in counters {
            writer.family(name, type: .counter, help: help)
            for partition in partitions {
                writer.sample(
                    name,
                    ["topic": partition.topicPartition.topic, "partition": String(partition.topicPartition.partition)],
                    value(partition)
                )
            }
        }
        for (name, help, value) in families {
            writer.family(name, type: .gauge, help: help)
            for partition in partitions {
                writer.sample(
                    name,
                    ["topic": partition.topicPartition.topic, "partition": String(partition.topicPartition.partition)],
                    value(partition)
                )
            }
        }
        writer.family(
            "tern_partition_cleaner_dirty_ratio",
            type: .gauge,
            help: "Dirty bytes / cleanable bytes of a compacted partition, as the log cleaner sees it."
        )
        for partition in partitions {
            guard let ratio = partition.cleanerDirtyRatio else { continue }
            writer.sample(
                "tern_partition_cleaner_dirty_ratio",
                ["topic": partition.topicPartition.topic, "partition": String(partition.topicPartition.partition)],
                ratio
            )
        }

        let groups = groups.sorted { $0.groupId < $1.groupId }
        writer.family("tern_groups", type: .gauge, help: "Consumer groups the coordinator knows, by state.")
        for state in ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"] {
            writer.sample("tern_groups", ["state": state], Int64(groups.count { $0.state == state }))
        }
        writer.family("tern_group_members", type: .gauge, help: "Members of the consumer group.")
        for group in groups {
            writer.sample("tern_group_members", ["group": group.groupId], Int64(group.memberCount))
        }
        writer.family("tern_group_generation", type: .gauge, help: "The group's generation (completed rebalances).")
        for group in groups {
            writer.sample("tern_group_generation", ["group": group.groupId], Int64(group.generation))
        }

        var logEndOffsets: [TopicPartition: Int64] = [:]
        for partition in partitions { logEndOffsets[partition.topicPartition] = partition.logEndOffset }
        writer.family("tern_group_committed_offset", type: .gauge, help: "The group's committed offset.")
        for group in groups {
            for committed in group.committedOffsets {
                writer.sample(
                    "tern_group_committed_offset",
                    ["group": group.groupId, "topic": committed.topic, "partition": String(committed.partition)],
                    committed.offset
                )
            }
        }
        writer.family(
            "tern_group_lag",
            type: .gauge,
            help: "Records between the group's committed offset and the log end offset."
        )
        for group in groups {
            for committed in group.committedOffsets {
                guard let end = logEndOffsets[TopicPartition(topic: committed.topic, partition: committed.partition)]
                else { continue }
                writer.sample(
                    "tern_group_lag",
                    ["group": group.groupId, "topic": committed.topic, "partition": String(committed.partition)],
                    max(0, end - committed.offset)
                )
            }
        }
    }

    static func write(process: ProcessStatistics, into writer: inout PrometheusTextWriter) {
        writer.family("process_resident_memory_bytes", type: .gauge, help: "Resident memory size in bytes.")
        writer.sample("process_resident_memory_bytes", process.residentMemoryBytes)
        writer.family("process_virtual_memory_bytes", type: .gauge, help: "Virtual memory size in bytes.")
        writer.sample("process_virtual_memory_bytes", process.virtualMemoryBytes)
        writer.family("process_open_fds", type: .gauge, help: "Open file descriptors.")
        writer.sample("process_open_fds", process.openFileDescriptors)
        writer.family("process_max_fds", type: .gauge, help: "Maximum number of open file descriptors.")
        writer.sample("process_max_fds", process.maximumFileDescriptors)
        writer.family("process_cpu_seconds_total", type: .counter, help: "User and system CPU time in seconds.")
        writer.sample("process_cpu_seconds_total", process.cpuSeconds)
        writer.family("process_start_time_seconds", type: .gauge, help: "Start time since the Unix epoch in seconds.")
        writer.sample("process_start_time_seconds", process.startTimeSeconds)
        writer.family("process_threads", type: .gauge, help: "Operating-system threads of the process.")
        writer.sample("process_threads", process.threads)
    }
}
