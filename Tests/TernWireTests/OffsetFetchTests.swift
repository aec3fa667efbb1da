import NIOCore
import TernWire
import Testing

extension OffsetFetchRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            groupId: "group-a",
            topics: [
                Topic(name: "orders", partitionIndexes: [0, 1, 2]),
                Topic(name: "none", partitionIndexes: []),
            ]
        )
    }
}

extension OffsetFetchResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 3 ? 25 : 0,
            topics: [
                Topic(
                    name: "orders",
                    partitions: [
                        Partition(partitionIndex: 0, committedOffset: 99, metadata: "meta"),
                        Partition(
                            partitionIndex: 1,
                            committedOffset: -1,
                            metadata: nil,
                            errorCode: .unknownTopicOrPartition
                        ),
                    ]
                )
            ],
            errorCode: version >= 2 ? .coordinatorLoadInProgress : .none
        )
    }
}

@Suite struct OffsetFetchTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(OffsetFetchRequest.self)
        try expectRoundTripAtEveryVersion(OffsetFetchResponse.self)
        try expectRoundTrip(OffsetFetchRequest(groupId: "g", topics: nil), version: 2)
        try expectRoundTrip(OffsetFetchRequest(groupId: "g", topics: nil), version: 3)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            OffsetFetchRequest(groupId: "g1", topics: [.init(name: "t", partitionIndexes: [0, 1])]),
            version: 1,
            golden["offset_fetch_request_v1"]
        )
        try expectGolden(
            OffsetFetchRequest(groupId: "g1", topics: [.init(name: "t", partitionIndexes: [2])]),
            version: 3,
            golden["offset_fetch_request_v3"]
        )
        try expectGolden(
            OffsetFetchRequest(groupId: "g1", topics: nil),
            version: 3,
            golden["offset_fetch_request_v3_all"]
        )
        try expectGolden(
            OffsetFetchResponse(
                topics: [
                    .init(
                        name: "t",
                        partitions: [
                            .init(partitionIndex: 0, committedOffset: 42, metadata: ""),
                            .init(partitionIndex: 1, committedOffset: -1, metadata: nil),
                        ]
                    )
                ]
            ),
            version: 1,
            golden["offset_fetch_response_v1"]
        )
        try expectGolden(
            OffsetFetchResponse(
                throttleTimeMs: 6,
                topics: [.init(name: "t", partitions: [.init(partitionIndex: 2, committedOffset: 5, metadata: "m")])],
                errorCode: .coordinatorLoadInProgress
            ),
            version: 3,
            golden["offset_fetch_response_v3"]
        )
    }

    /// From v2 a null topic list means "all committed partitions" and differs from an empty one
    /// ("none"); v1 has no null, so -1 there is malformed.
    @Test func nullTopicsMeanAllFromV2() throws {
        let all = OffsetFetchRequest(groupId: "g", topics: nil)
        let none = OffsetFetchRequest(groupId: "g", topics: [])
        #expect(hex(all.encoded(version: 2)) == "0001" + "67" + "ffffffff")
        #expect(hex(none.encoded(version: 2)) == "0001" + "67" + "00000000")
        #expect(try OffsetFetchRequest.decode(all.encoded(version: 2), version: 2).topics == nil)
        #expect(try OffsetFetchRequest.decode(none.encoded(version: 2), version: 2).topics == [])

        let error = #expect(throws: WireError.self) {
            try OffsetFetchRequest.decode(buffer(hex: "000167ffffffff"), version: 1)
        }
        #expect(error?.code == .invalidLength)
    }

    /// The top-level error code only exists from v2; v1 reads it as none and does not write it.
    @Test func topLevelErrorFromV2() throws {
        let response = OffsetFetchResponse(errorCode: .notCoordinator)
        #expect(hex(response.encoded(version: 1)) == "00000000")
        #expect(hex(response.encoded(version: 2)) == "00000000" + "0010")
        #expect(try OffsetFetchResponse.decode(response.encoded(version: 2), version: 2).errorCode == .notCoordinator)
    }
}
