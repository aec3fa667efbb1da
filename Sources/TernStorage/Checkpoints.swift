import NIOCore

/// A topic name and partition index.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// The partition's directory name, `<topic>-<partition>` as Kafka names it.
    public var directoryName: String { "\(self.topic)-\(self.partition)" }

    public var description: String { self.directoryName }

    /// Parses a directory name `<topic>-<partition>`; nil when it does not end in `-<digits>`.
    init?(directoryName: String) {
        guard let dash = directoryName.lastIndex(of: "-") else { return nil }
        let topic = directoryName[..<dash]
        let digits = directoryName[directoryName.index(after: dash)...]
        guard !topic.isEmpty, !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }),
            let partition = Int32(digits)
        else { return nil }
        self.init(topic: String(topic), partition: partition)
    }
}

/// Kafka's checkpoint text layout, shared by the offset checkpoints and `leader-epoch-checkpoint`:
/// a version line (`0`), a line with the number of entries, then one line per entry, each line
/// ending with `\n`. Written with `FileSystem.writeFileAtomically`, so a crash leaves the old or
/// the new file.
enum CheckpointText {
    static let version = 0

    static func serialize(_ entryLines: [String]) -> ByteBuffer {
        var text = "\(Self.version)\n\(entryLines.count)\n"
        for line in entryLines { text += line + "\n" }
        return ByteBuffer(string: text)
    }

    /// The entry lines, after checking the header.
    ///
    /// - Throws: `.corruptFile` for a wrong version or a count that does not match the lines.
    static func entryLines(_ bytes: ByteBuffer) throws(StorageError) -> ArraySlice<Substring> {
        let text = String(buffer: bytes)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.count >= 2, lines[0] == "\(Self.version)", let count = Int(lines[1]), count == lines.count - 2
        else {
            throw StorageError(.corruptFile, "checkpoint header is not version \(Self.version) with a matching count")
        }
        return lines.dropFirst(2)
    }
}

/// Kafka's offset checkpoint format, used for `recovery-point-offset-checkpoint` and
/// `log-start-offset-checkpoint` in the data directory (`CheckpointText` lines):
///
///     0                      version
///     2                      number of entries
///     orders 0 1234          topic, partition, offset — one line per partition
///     orders 1 987
///
/// Fields are separated by one space (topic names cannot contain spaces).
enum OffsetCheckpointFile {
    static func serialize(_ offsets: [TopicPartition: Int64]) -> ByteBuffer {
        // Sorted for stable files (diffable, testable).
        CheckpointText.serialize(
            offsets.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }).map {
                "\($0.key.topic) \($0.key.partition) \($0.value)"
            }
        )
    }

    /// - Throws: `.corruptFile` for a bad header or a malformed line.
    static func parse(_ bytes: ByteBuffer) throws(StorageError) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for line in try CheckpointText.entryLines(bytes) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, let partition = Int32(fields[1]), let offset = Int64(fields[2]), partition >= 0,
                offset >= 0
            else { throw StorageError(.corruptFile, "malformed checkpoint line '\(line)'") }
            offsets[TopicPartition(topic: String(fields[0]), partition: partition)] = offset
        }
        return offsets
    }
}

/// Kafka's `leader-epoch-checkpoint`, one per partition directory (`CheckpointText` lines):
///
///     0                      version
///     2                      number of entries
///     0 0                    leader epoch, the first offset written in it
///     3 1500
enum LeaderEpochCheckpointFile {
    static let name = "leader-epoch-checkpoint"

    static func serialize(_ cache: LeaderEpochCache) -> ByteBuffer {
        CheckpointText.serialize(cache.entries.map { "\($0.epoch) \($0.startOffset)" })
    }

    /// - Throws: `.corruptFile` for a bad header, a malformed line, a negative value or entries
    ///   that do not strictly increase.
    static func parse(_ bytes: ByteBuffer) throws(StorageError) -> LeaderEpochCache {
        var entries: [LeaderEpochCache.Entry] = []
        for line in try CheckpointText.entryLines(bytes) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let epoch = Int32(fields[0]), let startOffset = Int64(fields[1]), epoch >= 0,
                startOffset >= 0
            else { throw StorageError(.corruptFile, "malformed leader epoch checkpoint line '\(line)'") }
            entries.append(.init(epoch: epoch, startOffset: startOffset))
        }
        guard LeaderEpochCache.isMonotonic(entries) else {
            throw StorageError(.corruptFile, "leader epoch checkpoint entries do not strictly increase")
        }
        return LeaderEpochCache(entries: entries)
    }
}

/// A topic's persisted metadata, `topics/<topic>.properties` in the data directory:
///
///     # Tern topic metadata
///     version=1
///     partition.count=3
///     config.retention.ms=86400000      one line per topic config override
///
/// `key=value` lines split at the first `=`, `#` starts a comment line. Only the overrides are
/// stored, so broker defaults keep applying to keys the topic did not set. Written atomically; the
/// file's presence is what makes a topic exist (partition directories without it are leftovers of
/// an interrupted create or delete and are removed at startup).
struct TopicMetadataFile: Hashable, Sendable {
    static let version = 1
    static let configPrefix = "config."

    var partitionCount: Int32
    var configOverrides: [String: String]
    /// nil only in files written before topics had ids.
    var topicId: TopicId? = nil

    func serialized() -> ByteBuffer {
        var text = "# Tern topic metadata\nversion=\(Self.version)\npartition.count=\(self.partitionCount)\n"
        if let topicId = self.topicId { text += "topic.id=\(topicId)\n" }
        for (key, value) in self.configOverrides.sorted(by: { $0.key < $1.key }) {
            text += "\(Self.configPrefix)\(key)=\(value)\n"
        }
        return ByteBuffer(string: text)
    }

    static func parse(_ bytes: ByteBuffer) throws(StorageError) -> TopicMetadataFile {
        var version: Int?
        var partitionCount: Int32?
        var overrides: [String: String] = [:]
        var topicId: TopicId? = nil
        for line in String(buffer: bytes).split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else {
                throw StorageError(.corruptFile, "topic metadata line without '=': '\(line)'")
            }
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...])
            switch key {
            case "version": version = Int(value)
            case "partition.count": partitionCount = Int32(value)
            case "topic.id":
                guard let id = TopicId(hex: value) else {
                    throw StorageError(.corruptFile, "topic metadata has an unreadable topic.id '\(value)'")
                }
                topicId = id
            default:
                guard key.hasPrefix(Self.configPrefix) else {
                    throw StorageError(.corruptFile, "unknown topic metadata key '\(key)'")
                }
                overrides[String(key.dropFirst(Self.configPrefix.count))] = value
            }
        }
        guard version == Self.version else { throw StorageError(.corruptFile, "topic metadata version is not 1") }
        guard let partitionCount, partitionCount >= 1 else {
            throw StorageError(.corruptFile, "topic metadata without a valid partition.count")
        }
        return TopicMetadataFile(partitionCount: partitionCount, configOverrides: overrides, topicId: topicId)
    }
}

/// A topic's id (KIP-516): 128 random bits, written as 32 hex digits in the topic metadata file.
public struct TopicId: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A random id; never all zeros (Kafka's "no id").
    public static func random() -> TopicId {
        var generator = SystemRandomNumberGenerator()
        while true {
            let id = TopicId(high: generator.next(), low: generator.next())
            if id.high != 0 || id.low != 0 { return id }
        }
    }

    init?(hex: String) {
        guard hex.utf8.count == 32, let high = UInt64(hex.prefix(16), radix: 16),
            let low = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    public var description: String {
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(self.high) + hex(self.low)
    }
}
