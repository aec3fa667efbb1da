import TernClient
import Testing

@Suite struct PartitionerTests {
    /// Vectors from librdkafka's murmur2 unit test, re-checked against the Java algorithm
    /// (kafka-compat.md §7).
    @Test(arguments: [
        ("kafka", UInt32(0xd067_cf64)), ("giberish123456789", 0x8f55_2b0c), ("1234", 0x9fc9_7b14),
        ("234", 0xe7c0_09ca), ("34", 0x8739_30da), ("4", 0x5a4b_5ca1),
        ("PreAmbleWillBeRemoved,ThePrePartThatIs", 0x7842_4f1c), ("", 0x106e_08d9), ("key0", 0x1afa_3622),
        ("key1", 0x01b3_8bc4), ("user-42", 0x5700_682c),
    ])
    func murmur2MatchesJava(key: String, expected: UInt32) {
        #expect(Murmur2.hash(Array(key.utf8)) == expected)
    }

    @Test(arguments: [
        ("kafka", [Int32(1), 4, 4]), ("", [0, 3, 9]), ("key0", [1, 4, 10]), ("key1", [2, 2, 8]),
        ("user-42", [1, 4, 4]),
    ])
    func partitionsMatchJava(key: String, expected: [Int32]) {
        let partitions = [Int32(3), 6, 12].map { Murmur2.partition(forKey: Array(key.utf8), partitionCount: $0) }
        #expect(partitions == expected)
    }

    /// Bytes ≥ 0x80 must be treated as unsigned, as Java masks them with 0xff.
    @Test func highBytesAreUnsigned() {
        let key: [UInt8] = [0xff, 0x80, 0x7f]
        #expect(Murmur2.hash(key) != Murmur2.hash([0x7f, 0x80, 0xff]))
        #expect(Murmur2.partition(forKey: key, partitionCount: 7) >= 0)
    }
}

/// librdkafka's partitioners (`rdkafka_msg.c`, 2.0.2), which `tern -P` uses as kcat does.
@Suite struct LibrdkafkaPartitionerTests {
    @Test(arguments: [
        ("", UInt32(0)), ("123456789", 0xcbf4_3926), ("kafka", 0x5bbc_7517),
        ("The quick brown fox jumps over the lazy dog", 0x414f_a339),
    ])
    func crc32IsZlibs(key: String, expected: UInt32) {
        #expect(CRC32.checksum(Array(key.utf8)) == expected)
    }

    /// librdkafka's `unittest_fnv1a` vectors (Go's hash/fnv, made non-negative as Sarama does).
    @Test(arguments: [
        ("kafka", UInt32(0x0d33_c4e1)), ("giberish123456789", 0x77a5_8295), ("1234", 0x023b_dd03),
        ("234", 0x2dea_3cd2), ("34", 0x740f_a83e), ("4", 0x310c_a263),
        ("PreAmbleWillBeRemoved,ThePrePartThatIs", 0x65cb_d69c), ("reAmbleWillBeRemoved,ThePrePartThatIs", 0x6e49_c79a),
        ("eAmbleWillBeRemoved,ThePrePartThatIs", 0x69ee_d356), ("AmbleWillBeRemoved,ThePrePartThatIs", 0x6abc_c023),
        ("", 0x7ee3_623b),
    ])
    func fnv1aMatchesLibrdkafka(key: String, expected: UInt32) {
        #expect(FNV1a.hash(Array(key.utf8)) == expected)
    }

    /// A hash whose signed value is negative is negated (rd_fnv1a's `if (h < 0) h = -h`).
    @Test func fnv1aIsNonNegative() {
        let keys = (0..<200).map { Array("key-\($0)".utf8) }
        #expect(keys.allSatisfy { FNV1a.hash($0) <= UInt32(Int32.max) + 1 })
    }

    func partitions(_ partitioner: Partitioner, _ key: String?, counts: [Int32] = [3, 6, 12]) -> [Int32]? {
        guard case .hashed(let hash) = partitioner.route(forKey: key.map { Array($0.utf8) }) else { return nil }
        return counts.map { partitioner.partition(forHash: hash, partitionCount: $0) }
    }

    @Test func keyedRecordsLandWhereLibrdkafkaPutsThem() {
        // kafka-compat.md §7: crc32("kafka") = 0x5bbc7517 → 2 / 5 / 11; murmur2 → 1 / 4 / 4.
        #expect(partitions(.consistentRandom, "kafka") == [2, 5, 11])
        #expect(partitions(.consistent, "kafka") == [2, 5, 11])
        #expect(partitions(.murmur2, "kafka") == [1, 4, 4])
        #expect(partitions(.murmur2Random, "kafka") == [1, 4, 4])
        #expect(partitions(.javaDefault, "kafka") == [1, 4, 4])
        // 0x0d33c4e1 = 221496545: unsigned modulo.
        #expect(partitions(.fnv1a, "kafka") == [221_496_545 % 3, 221_496_545 % 6, 221_496_545 % 12])
        #expect(partitions(.fnv1aRandom, "kafka") == partitions(.fnv1a, "kafka"))
        // crc32 above 2^31 is taken unsigned, not masked: 0xcbf43926 = 3421780262, % 6 = 2.
        #expect(partitions(.consistent, "123456789", counts: [6]) == [2])
    }

    @Test func emptyAndNullKeysFollowLibrdkafka() {
        let empty = ""
        // consistent: crc32 of nothing is 0 → partition 0, for empty and NULL keys.
        #expect(partitions(.consistent, empty) == [0, 0, 0])
        #expect(partitions(.consistent, nil) == [0, 0, 0])
        // murmur2 / fnv1a hash an empty key, and a NULL key like an empty one.
        #expect(partitions(.murmur2, empty) == [0, 3, 9])
        #expect(partitions(.murmur2, nil) == [0, 3, 9])
        #expect(partitions(.fnv1a, nil) == partitions(.fnv1a, empty))
        // The _random variants: NULL keys sticky; empty keys hashed, except consistent_random.
        #expect(partitions(.murmur2Random, empty) == [0, 3, 9])
        #expect(partitions(.fnv1aRandom, empty) == partitions(.fnv1a, empty))
        for p in [Partitioner.murmur2Random, .fnv1aRandom, .consistentRandom, .random] {
            #expect(p.route(forKey: nil as [UInt8]?) == .sticky)
            #expect(p.route(forKey: nil as [UInt8]?, stickyLinger: false) == .random)
        }
        #expect(Partitioner.consistentRandom.route(forKey: [UInt8]()) == .sticky)
        #expect(Partitioner.consistentRandom.route(forKey: [UInt8](), stickyLinger: false) == .random)
        #expect(Partitioner.random.route(forKey: Array("k".utf8)) == .random)
        #expect(Partitioner.random.route(forKey: [UInt8]()) == .random)
        // The Java default: NULL keys sticky whatever the linger, empty keys hashed.
        #expect(Partitioner.javaDefault.route(forKey: nil as [UInt8]?, stickyLinger: false) == .sticky)
        #expect(partitions(.javaDefault, empty) == [0, 3, 9])
    }

    @Test func librdkafkaNames() {
        #expect(Partitioner(librdkafkaName: "consistent_random") == .consistentRandom)
        #expect(Partitioner(librdkafkaName: "murmur2_random") == .murmur2Random)
        #expect(Partitioner(librdkafkaName: "java") == nil)
        #expect(Partitioner(librdkafkaName: "nope") == nil)
        #expect(Partitioner.allCases.compactMap { Partitioner(librdkafkaName: $0.rawValue) }.count == 7)
    }
}
