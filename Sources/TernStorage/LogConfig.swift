/// A partition log's settings, named after Kafka's topic configs and defaulting to Kafka's values.
///
/// Build one from broker defaults plus a topic's overrides with `init(properties:defaults:)`; the
/// overrides are what gets persisted with the topic, so a change of broker defaults applies to every
/// topic that did not override the key (as in Kafka).
public struct LogConfig: Sendable, Hashable {
    /// `message.timestamp.type`.
    public enum MessageTimestampType: String, Sendable, Hashable, CaseIterable {
        case createTime = "CreateTime"
        case logAppendTime = "LogAppendTime"
    }

    /// `cleanup.policy`: Kafka's comma-separated list of `delete` and `compact`. Retention deletes
    /// segments only when the set contains `.delete`; the log cleaner compacts partitions whose set
    /// contains `.compact`.
    public struct CleanupPolicy: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let delete = CleanupPolicy(rawValue: 1)
        public static let compact = CleanupPolicy(rawValue: 2)

        /// Kafka's spelling, e.g. `delete` or `compact,delete`.
        public var kafkaValue: String {
            var names: [String] = []
            if self.contains(.compact) { names.append("compact") }
            if self.contains(.delete) { names.append("delete") }
            return names.joined(separator: ",")
        }
    }

    /// `segment.bytes`: roll the active segment before it would exceed this size. Positions in the
    /// offset index are 32-bit, so the maximum is `Int32.max`.
    public var segmentBytes: Int = 1 << 30
    /// `segment.ms`: roll the active segment once it is this old (measured from its creation).
    public var segmentMs: Int64 = 7 * 24 * 60 * 60 * 1000
    /// `index.interval.bytes`: bytes appended between two index entries.
    public var indexIntervalBytes: Int = 4096
    /// `segment.index.bytes`: the capacity of a segment's offset index (8 bytes per entry); a full
    /// index rolls the segment.
    public var segmentIndexBytes: Int = 10 * 1024 * 1024
    /// `retention.ms`: delete segments whose newest record is older than this; -1 keeps forever.
    public var retentionMs: Int64 = 7 * 24 * 60 * 60 * 1000
    /// `retention.bytes`: delete the oldest segments while the partition is larger; -1 = no limit.
    public var retentionBytes: Int64 = -1
    /// `max.message.bytes`: the largest batch (including its 12-byte log overhead) accepted.
    public var maxMessageBytes: Int = 1_048_588
    /// `flush.messages`: fsync after this many appended records; `Int64.max` leaves it to the OS.
    public var flushMessages: Int64 = .max
    /// `flush.ms`: fsync data older than this; `Int64.max` leaves it to the OS.
    public var flushMs: Int64 = .max
    /// `message.timestamp.type`.
    public var messageTimestampType: MessageTimestampType = .createTime
    /// `cleanup.policy`.
    public var cleanupPolicy: CleanupPolicy = .delete
    /// `delete.retention.ms`: how long a tombstone stays after the cleaner first kept it (its
    /// batch's delete horizon), so consumers reading from the start see the deletion.
    public var deleteRetentionMs: Int64 = 86_400_000
    /// `min.compaction.lag.ms`: records younger than this (by their segment's newest timestamp) are
    /// not cleaned.
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`: a dirty segment older than this is cleaned whatever the dirty ratio.
    public var maxCompactionLagMs: Int64 = .max
    /// `min.cleanable.dirty.ratio`: clean a partition once dirty bytes / cleanable bytes reach this.
    public var minCleanableDirtyRatio: Double = 0.5

    /// Kafka's defaults.
    public init() {}

    /// Kafka topic config keys this type understands.
    public static let supportedKeys: Set<String> = [
        "segment.bytes", "segment.ms", "index.interval.bytes", "segment.index.bytes", "retention.ms",
        "retention.bytes", "max.message.bytes", "flush.messages", "flush.ms", "message.timestamp.type",
        "cleanup.policy", "delete.retention.ms", "min.compaction.lag.ms", "max.compaction.lag.ms",
        "min.cleanable.dirty.ratio",
    ]

    /// Kafka topic config keys that are accepted (so admin tools that set them keep working) and
    /// kept in the topic's overrides, but have no effect on a single-node broker.
    public static let ignoredKafkaKeys: Set<String> = [
        "compression.type", "min.insync.replicas", "unclean.leader.election.enable", "preallocate",
        "file.delete.delay.ms", "segment.jitter.ms", "message.downconversion.enable", "message.format.version",
        "message.timestamp.difference.max.ms", "message.timestamp.before.max.ms",
        "message.timestamp.after.max.ms", "leader.replication.throttled.replicas",
        "follower.replication.throttled.replicas", "local.retention.ms", "local.retention.bytes",
        "remote.storage.enable",
    ]

    /// How Kafka types a config's value (DescribeConfigs v3+ reports it; list-typed keys take
    /// IncrementalAlterConfigs' APPEND and SUBTRACT).
    public enum ValueType: Sendable, Hashable {
        case boolean, string, int, long, double, list
    }

    /// Type and a one-line description of every supported and ignored key (Kafka's types).
    public static let keyCatalogue: [String: (type: ValueType, documentation: String)] = [
        "segment.bytes": (.int, "Size at which the active segment rolls."),
        "segment.ms": (.long, "Age at which the active segment rolls."),
        "index.interval.bytes": (.int, "Bytes appended between two offset index entries."),
        "segment.index.bytes": (.int, "Capacity of a segment's offset index; a full index rolls the segment."),
        "retention.ms": (.long, "Delete segments whose newest record is older than this; -1 keeps forever."),
        "retention.bytes": (.long, "Delete the oldest segments while the partition is larger; -1 = no limit."),
        "max.message.bytes": (.int, "Largest record batch accepted."),
        "flush.messages": (.long, "Fsync after this many appended records."),
        "flush.ms": (.long, "Fsync data older than this."),
        "message.timestamp.type": (.string, "CreateTime or LogAppendTime."),
        "cleanup.policy": (.list, "delete and/or compact."),
        "compression.type": (.string, "Accepted, no effect in Tern."),
        "min.insync.replicas": (.int, "Accepted, no effect on a single node."),
        "unclean.leader.election.enable": (.boolean, "Accepted, no effect on a single node."),
        "preallocate": (.boolean, "Accepted, no effect in Tern."),
        "delete.retention.ms": (.long, "How long the cleaner keeps a tombstone after it first kept it."),
        "min.compaction.lag.ms": (.long, "Records younger than this are not compacted."),
        "max.compaction.lag.ms": (.long, "A dirty segment older than this is compacted whatever the dirty ratio."),
        "min.cleanable.dirty.ratio": (.double, "Dirty share of a compacted log at which the cleaner cleans it."),
        "file.delete.delay.ms": (.long, "Accepted, no effect in Tern."),
        "segment.jitter.ms": (.long, "Accepted, no effect in Tern."),
        "message.downconversion.enable": (.boolean, "Accepted, no effect in Tern."),
        "message.format.version": (.string, "Accepted, no effect in Tern."),
        "message.timestamp.difference.max.ms": (.long, "Accepted, no effect in Tern."),
        "message.timestamp.before.max.ms": (.long, "Accepted, no effect in Tern."),
        "message.timestamp.after.max.ms": (.long, "Accepted, no effect in Tern."),
        "leader.replication.throttled.replicas": (.list, "Accepted, no effect on a single node."),
        "follower.replication.throttled.replicas": (.list, "Accepted, no effect on a single node."),
        "local.retention.ms": (.long, "Accepted, no effect without tiered storage."),
        "local.retention.bytes": (.long, "Accepted, no effect without tiered storage."),
        "remote.storage.enable": (.boolean, "Accepted, no effect without tiered storage."),
    ]

    /// `defaults` with the Kafka topic configs in `properties` applied.
    ///
    /// - Throws: `.invalidConfig` for a key Kafka does not define (or Tern cannot honour) and for a
    ///   value outside the range Kafka accepts.
    public init(properties: [String: String], defaults: LogConfig) throws(StorageError) {
        self = defaults
        // Sorted so the first reported error does not depend on dictionary order.
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            try self.apply(key: key, value: value)
        }
    }

    private mutating func apply(key: String, value: String) throws(StorageError) {
        switch key {
        case "segment.bytes": self.segmentBytes = try Self.int(key, value, in: 14...Int(Int32.max))
        case "segment.ms": self.segmentMs = try Self.int64(key, value, in: 1...Int64.max)
        case "index.interval.bytes": self.indexIntervalBytes = try Self.int(key, value, in: 0...Int(Int32.max))
        case "segment.index.bytes": self.segmentIndexBytes = try Self.int(key, value, in: 4...Int(Int32.max))
        case "retention.ms": self.retentionMs = try Self.int64(key, value, in: -1...Int64.max)
        case "retention.bytes": self.retentionBytes = try Self.int64(key, value, in: Int64.min...Int64.max)
        case "max.message.bytes": self.maxMessageBytes = try Self.int(key, value, in: 0...Int(Int32.max))
        case "flush.messages": self.flushMessages = try Self.int64(key, value, in: 1...Int64.max)
        case "flush.ms": self.flushMs = try Self.int64(key, value, in: 0...Int64.max)
        case "message.timestamp.type":
            guard let type = MessageTimestampType(rawValue: value) else {
                throw StorageError(.invalidConfig, "\(key) must be CreateTime or LogAppendTime, not '\(value)'")
            }
            self.messageTimestampType = type
        case "cleanup.policy":
            var policy: CleanupPolicy = []
            for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                switch name.trimmingSpaces() {
                case "delete": policy.insert(.delete)
                case "compact": policy.insert(.compact)
                default: throw StorageError(.invalidConfig, "\(key) must list delete and/or compact, not '\(value)'")
                }
            }
            self.cleanupPolicy = policy
        case "delete.retention.ms": self.deleteRetentionMs = try Self.int64(key, value, in: 0...Int64.max)
        case "min.compaction.lag.ms": self.minCompactionLagMs = try Self.int64(key, value, in: 0...Int64.max)
        case "max.compaction.lag.ms": self.maxCompactionLagMs = try Self.int64(key, value, in: 1...Int64.max)
        case "min.cleanable.dirty.ratio":
            guard let ratio = Double(value.trimmingSpaces()), ratio >= 0, ratio <= 1 else {
                throw StorageError(.invalidConfig, "\(key) must be a number in 0...1, not '\(value)'")
            }
            self.minCleanableDirtyRatio = ratio
        default:
            guard Self.ignoredKafkaKeys.contains(key) else {
                throw StorageError(.invalidConfig, "unknown topic config '\(key)'")
            }
        }
    }

    /// Every supported setting as Kafka spells it (for DescribeConfigs).
    public var kafkaProperties: [String: String] {
        [
            "segment.bytes": String(self.segmentBytes), "segment.ms": String(self.segmentMs),
            "index.interval.bytes": String(self.indexIntervalBytes),
            "segment.index.bytes": String(self.segmentIndexBytes), "retention.ms": String(self.retentionMs),
            "retention.bytes": String(self.retentionBytes), "max.message.bytes": String(self.maxMessageBytes),
            "flush.messages": String(self.flushMessages), "flush.ms": String(self.flushMs),
            "message.timestamp.type": self.messageTimestampType.rawValue,
            "cleanup.policy": self.cleanupPolicy.kafkaValue,
            "delete.retention.ms": String(self.deleteRetentionMs),
            "min.compaction.lag.ms": String(self.minCompactionLagMs),
            "max.compaction.lag.ms": String(self.maxCompactionLagMs),
            "min.cleanable.dirty.ratio": String(self.minCleanableDirtyRatio),
        ]
    }

    private static func int64(_ key: String, _ value: String, in range: ClosedRange<Int64>) throws(StorageError)
        -> Int64
    {
        guard let number = Int64(value.trimmingSpaces()), range.contains(number) else {
            throw StorageError(.invalidConfig, "\(key) must be an integer in \(range), not '\(value)'")
        }
        return number
    }

    private static func int(_ key: String, _ value: String, in range: ClosedRange<Int>) throws(StorageError) -> Int {
        Int(try self.int64(key, value, in: Int64(range.lowerBound)...Int64(range.upperBound)))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces (Kafka trims list and number values).
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}
