import CoreMetrics
import Metrics

/// Metric names of the storage layer; docs/operations.md lists every metric.
public enum StorageMetricNames {
    public static let producedRecords = "tern_partition_produced_records_total"
    public static let producedBytes = "tern_partition_produced_bytes_total"
    public static let fetchedRecords = "tern_partition_fetched_records_total"
    public static let fetchedBytes = "tern_partition_fetched_bytes_total"
    public static let fsyncs = "tern_log_fsyncs_total"
    public static let fsyncDuration = "tern_log_fsync_duration_seconds"
}

/// One partition's traffic counters, made once when the partition opens so that an append or a
/// fetch updates them without a lookup (each update is one atomic add in the Prometheus backend).
/// Through swift-metrics: without a bootstrapped backend they cost nothing.
public final class PartitionMetrics: Sendable {
    public let producedRecords: Counter
    public let producedBytes: Counter
    public let fetchedRecords: Counter
    public let fetchedBytes: Counter

    init(_ topicPartition: TopicPartition) {
        let dimensions = [("topic", topicPartition.topic), ("partition", String(topicPartition.partition))]
        self.producedRecords = Counter(label: StorageMetricNames.producedRecords, dimensions: dimensions)
        self.producedBytes = Counter(label: StorageMetricNames.producedBytes, dimensions: dimensions)
        self.fetchedRecords = Counter(label: StorageMetricNames.fetchedRecords, dimensions: dimensions)
        self.fetchedBytes = Counter(label: StorageMetricNames.fetchedBytes, dimensions: dimensions)
    }

    func recordAppend(records: Int64, bytes: Int64) {
        self.producedRecords.increment(by: records)
        self.producedBytes.increment(by: bytes)
    }

    /// Counts `records` records in `bytes` bytes sent to a consumer (whole batches).
    public func recordFetch(records: Int, bytes: Int) {
        guard bytes > 0 else { return }
        self.fetchedRecords.increment(by: Int64(records))
        self.fetchedBytes.increment(by: Int64(bytes))
    }

    /// Unregisters the series (the partition's topic was deleted), so scrapes stop showing it.
    func destroy() {
        self.producedRecords.destroy()
        self.producedBytes.destroy()
        self.fetchedRecords.destroy()
        self.fetchedBytes.destroy()
    }
}

/// Fsync count and latency across all partitions of a data directory.
final class FsyncMetrics: Sendable {
    let count = Counter(label: StorageMetricNames.fsyncs)
    let duration = Metrics.Timer(label: StorageMetricNames.fsyncDuration)

    /// Runs one fsync and records it.
    func measure(_ fsync: () throws(StorageError) -> Void) throws(StorageError) {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            self.count.increment()
            self.duration.recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            )
        }
        try fsync()
    }
}

/// A snapshot of one partition for the metrics exporter, taken under its lock in one go.
public struct PartitionStatistics: Sendable, Hashable {
    public var topicPartition: TopicPartition
    public var logStartOffset: Int64
    public var logEndOffset: Int64
    public var sizeBytes: Int64
    public var segmentCount: Int

    public init(
        topicPartition: TopicPartition,
        logStartOffset: Int64,
        logEndOffset: Int64,
        sizeBytes: Int64,
        segmentCount: Int
    ) {
        self.topicPartition = topicPartition
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
        self.sizeBytes = sizeBytes
        self.segmentCount = segmentCount
    }
}
