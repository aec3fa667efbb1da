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
