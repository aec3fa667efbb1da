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
