/// Kafka's murmur2 as in the Java client's `Utils.murmur2`: 32-bit MurmurHash2, seed 0x9747b28c,
/// bytes read little-endian in blocks of four. Keyed records go to
/// `(murmur2(key) & 0x7fffffff) % partitionCount`, so Tern places keys exactly where the Java
/// client (and librdkafka's `murmur2_random`) would.
public enum Murmur2 {
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let multiplier: UInt32 = 0x5bd1_e995
        let length = bytes.count
        var hash: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var iterator = bytes.makeIterator()
        for _ in 0..<(length / 4) {
            var block = UInt32(iterator.next()!)
            block |= UInt32(iterator.next()!) << 8
            block |= UInt32(iterator.next()!) << 16
            block |= UInt32(iterator.next()!) << 24
            block &*= multiplier
            block ^= block >> 24
            block &*= multiplier
            hash &*= multiplier
            hash ^= block
        }
        let tail = Array(IteratorSequence(iterator))
        if tail.count >= 3 { hash ^= UInt32(tail[2]) << 16 }
        if tail.count >= 2 { hash ^= UInt32(tail[1]) << 8 }
        if tail.count >= 1 {
            hash ^= UInt32(tail[0])
            hash &*= multiplier
        }
        hash ^= hash >> 13
        hash &*= multiplier
        hash ^= hash >> 15
        return hash
    }

    /// The partition the Java client's default partitioner picks for a non-null key.
    public static func partition<Bytes: Collection>(forKey key: Bytes, partitionCount: Int32) -> Int32
    where Bytes.Element == UInt8 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        return Int32(bitPattern: Self.hash(key) & 0x7fff_ffff) % partitionCount
    }
}

/// The standard CRC-32 (zlib's, IEEE 802.3: reflected polynomial 0xEDB88320, initial value and
/// final XOR 0xFFFFFFFF), as librdkafka's `rd_crc32`, which its `consistent` partitioners hash
/// keys with. Not the CRC-32C of record batches.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xffff_ffff
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        }
        return crc ^ 0xffff_ffff
    }
}

/// 32-bit FNV-1a as librdkafka's `rd_fnv1a` (compatible with Sarama's `NewHashPartitioner`): the
/// hash is taken as a signed 32-bit integer and made non-negative (`-h`; Int32.min stays as it is).
public enum FNV1a {
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var h: UInt32 = 0x811c_9dc5
        for byte in bytes {
            h ^= UInt32(byte)
            h &*= 0x0100_0193
        }
        let signed = Int32(bitPattern: h)
        return UInt32(bitPattern: signed < 0 ? 0 &- signed : signed)
    }
}

/// How a producer places a record that names no partition.
///
/// `javaDefault` is the Java client's: `(murmur2(key) & 0x7fffffff) % partitions` for a non-null
/// key (an empty key is hashed too), and the sticky partitioner for a null key (one partition
/// until its batch is sent). The others are librdkafka's `partitioner` values, placing records
/// as librdkafka 2.0 does (`rdkafka_msg.c`), so `tern -P` agrees with kcat:
///
/// | value | non-empty key | empty key | null key |
/// |---|---|---|---|
/// | `random` | random | random | sticky |
/// | `consistent` | crc32 % n | 0 | 0 |
/// | `consistent_random` (kcat's default) | crc32 % n | sticky | sticky |
/// | `murmur2` | (murmur2 & 0x7fffffff) % n | murmur2("") | murmur2("") |
/// | `murmur2_random` | (murmur2 & 0x7fffffff) % n | murmur2("") | sticky |
/// | `fnv1a` | fnv1a % n | fnv1a("") | fnv1a("") |
/// | `fnv1a_random` | fnv1a % n | fnv1a("") | sticky |
///
/// "sticky" is librdkafka's sticky partitioning: one randomly chosen partition for
/// `sticky.partitioning.linger.ms` (default twice `linger.ms`), then another; with a linger of 0
/// those records go to a random partition each (and `random`'s keyed records always do).
public enum Partitioner: String, Sendable, Hashable, CaseIterable {
    case javaDefault = "java"
    case random
    case consistent
    case consistentRandom = "consistent_random"
    case murmur2
    case murmur2Random = "murmur2_random"
    case fnv1a
    case fnv1aRandom = "fnv1a_random"

    /// librdkafka's names (`-X partitioner=…`); nil for anything else.
    public init?(librdkafkaName name: String) {
        guard let value = Partitioner(rawValue: name), value != .javaDefault else { return nil }
        self = value
    }

    /// Where a record goes, as far as it can be decided without the partition count.
    public enum Route: Sendable, Hashable {
        /// `partition(forHash:partitionCount:)` of this hash.
        case hashed(UInt32)
        /// The topic's sticky partition (the Java client's or librdkafka's, by partitioner).
        case sticky
        /// A random partition for this record alone.
        case random
    }

    /// The route of a record with `key` (nil: a null key). `stickyLinger` is librdkafka's
    /// `sticky.partitioning.linger.ms` being non-zero; the Java default is always sticky.
    public func route<Bytes: Collection>(forKey key: Bytes?, stickyLinger: Bool = true) -> Route
    where Bytes.Element == UInt8 {
        // rd_kafka_msg_partitioner: sticky for NULL keys (and empty ones with consistent_random),
        // unless the partitioner is one that maps them to a fixed partition.
        switch self {
        case .javaDefault:
            guard let key else { return .sticky }
            return .hashed(Murmur2.hash(key))
        case .consistent: return .hashed(key.map { CRC32.checksum($0) } ?? 0)
        case .murmur2: return .hashed(key.map { Murmur2.hash($0) } ?? Murmur2.hash(EmptyCollection<UInt8>()))
        case .fnv1a: return .hashed(key.map { FNV1a.hash($0) } ?? FNV1a.hash(EmptyCollection<UInt8>()))
        case .random, .consistentRandom, .murmur2Random, .fnv1aRandom:
            guard let key else { return stickyLinger ? .sticky : .random }
            switch self {
            case .random: return .random
            case .consistentRandom:
                if key.isEmpty { return stickyLinger ? .sticky : .random }
                return .hashed(CRC32.checksum(key))
            case .murmur2Random: return .hashed(Murmur2.hash(key))
            default: return .hashed(FNV1a.hash(key))
            }
        }
    }

    /// The partition of a hashed key: murmur2 masked to 31 bits as Java does, crc32 and fnv1a as
    /// unsigned 32-bit values (librdkafka).
    public func partition(forHash hash: UInt32, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        switch self {
        case .javaDefault, .murmur2, .murmur2Random:
            return Int32(bitPattern: hash & 0x7fff_ffff) % partitionCount
        default:
            return Int32(truncatingIfNeeded: hash % UInt32(partitionCount))
        }
    }

    /// Whether a null key's sticky partition is the Java client's (until its batch is sent) rather
    /// than librdkafka's (for a stretch of time).
    var sticksPerBatch: Bool { self == .javaDefault }
}
