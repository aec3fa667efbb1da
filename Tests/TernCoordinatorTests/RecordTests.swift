import NIOCore
import TernCoordinator
import TernWire
import Testing

func hex(_ string: String) -> ByteBuffer {
    let digits = Array(string.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0)
    return ByteBuffer(
        bytes: stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    )
}

/// `__consumer_offsets` encodings against bytes written out by hand from Kafka's schemas
/// (OffsetCommitKey/Value, GroupMetadataKey/Value in apache/kafka's group-coordinator), the
/// partition mapping, and replay.
@Suite struct RecordTests {
    static let offsetKey = hex("0001 0001 67 0001 74 00000002")  // v1, "g", "t", 2
    static let groupKey = hex("0002 0001 67")  // v2, "g"

    @Test func offsetCommitRecordsMatchKafkasLayout() throws {
        let v3 = OffsetCommitValue(offset: 42, metadata: "m", commitTimestampMs: 1_000)
        let record = CoordinatorRecord.offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 2), v3)
        #expect(record.encodeKey() == Self.offsetKey)
        // v3: offset, leader epoch -1, metadata, commit timestamp.
        let v3Bytes = hex("0003 000000000000002a ffffffff 0001 6d 00000000000003e8")
        #expect(record.encodeValue() == v3Bytes)
        #expect(try CoordinatorRecord.decode(key: Self.offsetKey, value: v3Bytes) == record)
        // v1: offset, metadata, commit timestamp, expire timestamp.
        let v1 = OffsetCommitValue(offset: 42, metadata: "m", commitTimestampMs: 1_000, expireTimestampMs: 2_000)
        let v1Bytes = hex("0001 000000000000002a 0001 6d 00000000000003e8 00000000000007d0")
        #expect(v1.encode() == v1Bytes)
        #expect(try OffsetCommitValue.decode(v1Bytes) == v1)
        // Versions Tern reads but does not write: v0 (and v2), and flexible v4 with a compact string.
        let v0 = OffsetCommitValue(offset: 42, metadata: "m", commitTimestampMs: 1_000)
        #expect(try OffsetCommitValue.decode(hex("0000 000000000000002a 0001 6d 00000000000003e8")) == v0)
        #expect(try OffsetCommitValue.decode(hex("0002 000000000000002a 0001 6d 00000000000003e8")) == v0)
        let v4 = OffsetCommitValue(offset: 42, leaderEpoch: 3, metadata: "m", commitTimestampMs: 1_000)
        #expect(try OffsetCommitValue.decode(hex("0004 000000000000002a 00000003 02 6d 00000000000003e8 00")) == v4)
        // The legacy key version 0 has the same layout.
        #expect(
            try CoordinatorRecord.decode(key: hex("0000 0001 67 0001 74 00000002"), value: nil)
                == .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 2), nil)
        )
    }

    @Test func groupMetadataRecordsMatchKafkasLayout() throws {
        let value = GroupMetadataValue(
            protocolType: "consumer",
            generation: 1,
            protocolName: "range",
            leader: "a-1",
            currentStateTimestampMs: 320,
            members: [
                GroupMetadataValue.Member(
                    memberId: "a-1",
                    clientId: "a",
                    clientHost: "/h",
                    rebalanceTimeoutMs: 30_000,
                    sessionTimeoutMs: 10_000,
                    subscription: bytes("s"),
                    assignment: bytes("p")
                )
            ]
        )
        let v3Bytes = hex(
            """
            0003
            0008 636f6e73756d6572  00000001  0005 72616e6765  0003 612d31  0000000000000140
            00000001
              0003 612d31  ffff  0001 61  0002 2f68  00007530  00002710  00000001 73  00000001 70
            """
        )
        let record = CoordinatorRecord.groupMetadata(groupId: "g", value)
        #expect(record.encodeKey() == Self.groupKey)
        #expect(record.encodeValue() == v3Bytes)
        #expect(try CoordinatorRecord.decode(key: Self.groupKey, value: v3Bytes) == record)
        // An empty group: no protocol, no leader (null strings), no members.
        let empty = GroupMetadataValue(
            protocolType: "consumer",
            generation: 2,
            protocolName: nil,
            leader: nil,
            currentStateTimestampMs: 5,
            members: []
        )
        #expect(empty.encode() == hex("0003 0008 636f6e73756d6572 00000002 ffff ffff 0000000000000005 00000000"))
        // v0 has no rebalance timeout (the session timeout stands in), no timestamp, no instance id.
        let v0 = try GroupMetadataValue.decode(
            hex(
                "0000 0008 636f6e73756d6572 00000001 0005 72616e6765 0003 612d31 00000001 0003 612d31 0001 61 0002 2f68 00002710 00000001 73 00000001 70"
            )
        )
        #expect(
            v0
                == GroupMetadataValue(
                    protocolType: "consumer",
                    generation: 1,
                    protocolName: "range",
                    leader: "a-1",
                    currentStateTimestampMs: -1,
                    members: [
                        GroupMetadataValue.Member(
                            memberId: "a-1",
                            clientId: "a",
                            clientHost: "/h",
                            rebalanceTimeoutMs: 10_000,
                            sessionTimeoutMs: 10_000,
                            subscription: bytes("s"),
                            assignment: bytes("p")
                        )
                    ]
                )
        )
        // v4 is flexible: compact strings, arrays and bytes, tagged fields per member and at the end.
        let v4 = try GroupMetadataValue.decode(
            hex(
                "0004 09 636f6e73756d6572 00000001 06 72616e6765 04 612d31 0000000000000140 02 04 612d31 00 02 61 03 2f68 00007530 00002710 02 73 02 70 00 00"
            )
        )
        #expect(v4 == value)
        // A tombstone.
        #expect(try CoordinatorRecord.decode(key: Self.groupKey, value: nil) == .groupMetadata(groupId: "g", nil))
        #expect(CoordinatorRecord.groupMetadata(groupId: "g", nil).encodeValue() == nil)
    }

    @Test(
        arguments: [
            (hex("0003 0001 67"), nil, InternalRecordError.Code.unknownKeyVersion),
            (hex("0001 0001 67"), nil, .malformed),
            (hex("0002 0001 67 00"), nil, .trailingBytes),
            (hex("0002 0005 67"), nil, .malformed),
            (hex("0002 0001 67"), hex("0005 00"), .unknownValueVersion),
            (hex("0001 0001 67 0001 74 00000002"), hex("0003 000000000000002a"), .malformed),
            (
                hex("0001 0001 67 0001 74 00000002"),
                hex("0001 000000000000002a 0001 6d 00000000000003e8 00000000000007d0 ff"), .trailingBytes
            ),
            (hex("0001 0001 67 0001 74 00000002"), hex("0005 000000000000002a"), .unknownValueVersion),
        ] as [(ByteBuffer, ByteBuffer?, InternalRecordError.Code)]
    )
    func badRecordsAreRefused(key: ByteBuffer, value: ByteBuffer?, code: InternalRecordError.Code) {
        #expect(throws: InternalRecordError(code, "")) { try CoordinatorRecord.decode(key: key, value: value) }
    }

    @Test func replayAfterEncodingRebuildsOffsetsAndGroups() throws {
        var c = makeCoordinator()
        var log: [(key: ByteBuffer, value: ByteBuffer?)] = []
        func keep(_ result: CoordinatorResult) {
            for record in result.appends.flatMap(\.records) { log.append((record.encodeKey(), record.encodeValue())) }
        }
        // A consumer group through two generations with commits, a simple committer, and a group
        // that commits and is then deleted.
        keep(c.join("a", ticket: 1, at: 0))
        keep(c.fire(initialDelay, at: delayMs))
        keep(c.sync("a-1", generation: 1, assignments: ["a-1": "all"], ticket: 2, at: 200))
        keep(c.commit(generation: 1, member: "a-1", [("t", 0, 10, "x"), ("t", 1, 11, nil)], at: 300))
        keep(c.join("b", ticket: 3, at: 400))
        keep(c.join("a", memberId: "a-1", ticket: 4, at: 500))
        keep(c.sync("b-2", generation: 2, ticket: 5, at: 600))
        keep(c.sync("a-1", generation: 2, assignments: ["a-1": "t-0", "b-2": "t-1"], ticket: 6, at: 600))
        keep(c.commit(generation: 2, member: "b-2", [("t", 1, 25, "y")], at: 700))
        keep(c.commit(groupId: "simple", [("t", 2, 3, nil)], retentionMs: 60_000, at: 800))
        keep(c.commit(groupId: "gone", [("t", 0, 1, nil)], at: 800))
        keep(c.deleteGroup("gone", ticket: RequestTicket(7), nowMs: 900))
        #expect(log.count == 9)

        var restored = makeCoordinator()
        for entry in log { try restored.replay(key: entry.key, value: entry.value) }
        for groupId in [group, "simple", "gone"] {
            #expect(restored.committedOffsets(ofGroup: groupId) == c.committedOffsets(ofGroup: groupId), "\(groupId)")
        }
        #expect(restored.committedOffsets(ofGroup: group)[TopicPartition("t", 1)]?.offset == 25)
        #expect(restored.committedOffsets(ofGroup: "simple")[TopicPartition("t", 2)]?.expireTimestampMs == 60_800)
        // Members come back as the last record stored them, Stable, at their generation.
        #expect(restored.state(ofGroup: group) == .stable)
        #expect(restored.generation(ofGroup: group) == 2)
        #expect(restored.members(ofGroup: group) == ["a-1", "b-2"])
        #expect(restored.leader(ofGroup: group) == "a-1")
        #expect(restored.state(ofGroup: "gone") == nil)
        #expect(
            restored.listGroups()
                == ListGroupsResponse(groups: [
                    .init(groupId: group, protocolType: "consumer", groupState: "Stable", groupType: "classic"),
                    .init(groupId: "simple", protocolType: "", groupState: "Empty", groupType: "classic"),
                ])
        )
        #expect(
            restored.fetchOffsets(OffsetFetchRequest(groupId: group, topics: nil))
                == c.fetchOffsets(OffsetFetchRequest(groupId: group, topics: nil))
        )
        // Their sessions start once the replay is over.
        #expect(
            restored.restoredSessions(nowMs: 1_000)
                == CoordinatorResult(timers: [
                    .schedule(session("a-1"), atMs: 11_000), .schedule(session("b-2"), atMs: 11_000),
                ])
        )
        // A member of the restored generation goes on heartbeating and gets its assignment again.
        #expect(
            restored.beat("a-1", generation: 2, ticket: 8, at: 1_100)
                == CoordinatorResult(
                    responses: [heartbeatAnswer(8, .none)],
                    timers: [.schedule(session("a-1"), atMs: 11_100)]
                )
        )
        #expect(restored.sync("b-2", generation: 2, ticket: 9, at: 1_200).responses == [synced(9, "t-1")])
        // One that does not come back is removed when its session ends; the group rebalances and the
        // next generation follows the restored one.
        _ = restored.fire(session("a-1"), at: 11_100)
        #expect(restored.members(ofGroup: group) == ["b-2"])
        #expect(restored.state(ofGroup: group) == .preparingRebalance)
        #expect(
            restored.join("b", memberId: "b-2", ticket: 10, at: 11_200).responses == [
                joined(10, generation: 3, leader: "b-2", member: "b-2", members: ["b-2"])
            ]
        )
    }

    @Test func replayingAnOffsetTombstoneDeletesTheOffset() throws {
        var c = makeCoordinator()
        let key = OffsetCommitKey(group: "g", topic: "t", partition: 0)
        c.replay(.offsetCommit(key, OffsetCommitValue(offset: 1, metadata: "", commitTimestampMs: 0)))
        c.replay(
            .offsetCommit(
                OffsetCommitKey(group: "g", topic: "t", partition: 1),
                OffsetCommitValue(offset: 2, metadata: "", commitTimestampMs: 0)
            )
        )
        try c.replay(key: CoordinatorRecord.offsetCommit(key, nil).encodeKey(), value: nil)
        #expect(c.committedOffsets(ofGroup: "g").keys.sorted() == [TopicPartition("t", 1)])
        c.replay(.offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 1), nil))
        #expect(c.state(ofGroup: "g") == nil)
    }

    @Test(
        arguments: [
            ("", 0, 0),
            ("a", 97, 47),
            ("ab", 3_105, 5),  // 97·31 + 98
            ("é", 233, 33),
            ("😀", 1_772_899, 49),  // UTF-16 D83D DE00: 55357·31 + 56832
            ("consumerGroup1", -983_959_256, 6),
            ("my-group", -1_906_497_762, 12),
            // hashCode is Int32.min: Kafka's Utils.abs makes that 0 (Math.abs would stay negative).
            ("polygenelubricants", Int32.min, 0),
        ] as [(String, Int32, Int32)]
    )
    func groupsMapToOffsetsPartitionsAsInKafka(groupId: String, hashCode: Int32, partition: Int32) {
        #expect(javaStringHashCode(groupId) == hashCode)
        #expect(consumerOffsetsPartition(forGroup: groupId, partitionCount: 50) == partition)
    }
}
