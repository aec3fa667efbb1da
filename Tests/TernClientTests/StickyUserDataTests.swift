import NIOCore
import TernWire
import Testing

@testable import TernClient

/// The sticky assignor's user data against bytes from kafka-python 3.0.12, printed by
/// tools/gen_sticky_userdata_fixtures.py (previous assignment topic-b [2, 0], topic-a [1];
/// generation 7).
@Suite struct StickyUserDataTests {
    static func bytes(_ hex: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            buffer.writeInteger(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return buffer
    }

    /// The bare v1 struct, the layout Java's StickyAssignor and librdkafka write.
    static let v1Body = bytes(
        "000000020007746f7069632d620000000200000002000000000007746f7069632d61000000010000000100000007"
    )
    static let v1SortedBody = bytes(
        "000000020007746f7069632d6100000001000000010007746f7069632d6200000002000000020000000000000007"
    )
    static let v0Body = bytes("000000010007746f7069632d610000000100000001")
    /// What kafka-python 3.x really puts in JoinGroup: its user data has an extra int16 version
    /// prefix (0x0001) that neither Java nor librdkafka writes or reads.
    static let kafkaPythonJoinGroupMetadata = bytes(
        "0000000000020007746f7069632d610007746f7069632d62000000300001000000020007746f7069632d62000000020000"
            + "0002000000000007746f7069632d61000000010000000100000007"
    )

    @Test func decodesV1() {
        let decoded = StickyAssignorUserData.decode(Self.v1Body)
        #expect(
            decoded
                == StickyAssignorUserData(
                    partitions: [tp("topic-b", 2), tp("topic-b", 0), tp("topic-a", 1)],
                    generation: 7
                )
        )
    }

    @Test func encodesTheSameBytes() {
        let data = StickyAssignorUserData(
            partitions: [tp("topic-b", 2), tp("topic-b", 0), tp("topic-a", 1)],
            generation: 7
        )
        #expect(data.encoded() == Self.v1SortedBody)
        #expect(
            StickyAssignorUserData.decode(data.encoded())
                == StickyAssignorUserData(
                    partitions: [tp("topic-a", 1), tp("topic-b", 2), tp("topic-b", 0)],
                    generation: 7
                )
        )
    }

    @Test func decodesV0WithoutGeneration() {
        #expect(
            StickyAssignorUserData.decode(Self.v0Body)
                == StickyAssignorUserData(partitions: [tp("topic-a", 1)], generation: nil)
        )
    }

    /// Java's StickyAssignor cannot parse kafka-python 3.x's prefixed user data and treats the member
    /// as owning nothing; Tern does the same, so the split does not depend on who leads.
    @Test func kafkaPythonPrefixedUserDataIsIgnoredAsJavaDoes() throws {
        let subscription = try ConsumerProtocolSubscription.decode(from: Self.kafkaPythonJoinGroupMetadata)
        #expect(subscription.topics == ["topic-a", "topic-b"])
        let userData = try #require(subscription.userData)
        #expect(StickyAssignorUserData.decode(userData) == nil)

        let result = PartitionAssignor.sticky.assign(
            members: [
                AssignorMember(memberId: "python", subscription: subscription),
                stickyMember(
                    "tern",
                    ["topic-a", "topic-b"],
                    owned: [tp("topic-b", 2), tp("topic-b", 0)],
                    generation: 7
                ),
            ],
            partitionCounts: ["topic-a": 2, "topic-b": 3]
        )
        #expect(Set(result["tern"]!).isSuperset(of: [tp("topic-b", 2), tp("topic-b", 0)]))
        #expect(result["python"]!.count == 2)
    }

    @Test(arguments: ["", "00", "0000", "ffffffff", "00000001ffff", "0000000100017400000005"])
    func malformedUserDataIsIgnored(hex: String) {
        #expect(StickyAssignorUserData.decode(Self.bytes(hex)) == nil)
    }

    @Test func memberWithUnreadableUserDataOwnsNothing() {
        let member = AssignorMember(
            memberId: "m",
            subscription: ConsumerProtocolSubscription(topics: ["t"], userData: Self.bytes("00000001ffff"))
        )
        let data = StickyAssignor.memberData(member)
        #expect(data.partitions == [])
        #expect(data.generation == -1)
    }

    /// Java HashMap order: buckets ascending (hash ^ hash >>> 16, masked), then insertion order;
    /// 13 keys grow the table to 32 buckets.
    @Test func javaHashMapOrder() {
        #expect(JavaOrder.hash("consumer1") == -421_004_549)
        #expect(JavaOrder.hash(tp("topic", 0)) == 110_547_184)
        // "Aa" and "BB" collide in Java, so insertion order decides.
        #expect(JavaHashOrder.order(of: ["BB", "Aa"]) == ["BB", "Aa"])
        #expect(JavaHashOrder.order(of: ["Aa", "BB"]) == ["Aa", "BB"])
        #expect(
            JavaHashOrder.order(of: ["consumer1", "consumer2", "consumer3"]) == ["consumer3", "consumer2", "consumer1"]
        )
        let keys = (0..<13).map { "k\($0)" }
        #expect(Set(JavaHashOrder.order(of: keys)) == Set(keys))
    }
}
