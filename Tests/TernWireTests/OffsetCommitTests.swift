import NIOCore
import TernWire
import Testing

extension OffsetCommitRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            groupId: "group-a",
            generationIdOrMemberEpoch: 4,
            memberId: "member-1",
            retentionTimeMs: 604_800_000,
            topics: [
                Topic(
                    name: "orders",
                    partitions: [
                        Partition(partitionIndex: 0, committedOffset: 1_234_567_890_123, committedMetadata: "m"),
                        Partition(partitionIndex: 7, committedOffset: 0, committedMetadata: nil),
                    ]
                ),
                Topic(name: "empty", partitions: []),
            ]
        )
    }
}

extension OffsetCommitResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 3 ? 15 : 0,
            topics: [
                Topic(
                    name: "orders",
                    partitions: [
                        Partition(partitionIndex: 0, errorCode: .offsetMetadataTooLarge),
                        Partition(partitionIndex: 7, errorCode: .unknownTopicOrPartition),
                    ]
                )
            ]
        )
    }
}

@Suite struct OffsetCommitTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(OffsetCommitRequest.self)
        try expectRoundTripAtEveryVersion(OffsetCommitResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            OffsetCommitRequest(
                groupId: "g1",
                generationIdOrMemberEpoch: 1,
                memberId: "m-1",
                topics: [
                    .init(
                        name: "t",
                        partitions: [
                            .init(partitionIndex: 0, committedOffset: 42, committedMetadata: ""),
                            .init(partitionIndex: 1, committedOffset: 7, committedMetadata: nil),
                        ]
                    )
                ]
            ),
            version: 2,
            golden["offset_commit_request_v2"]
        )
        try expectGolden(
            OffsetCommitRequest(
                groupId: "standalone",
                retentionTimeMs: 86_400_000,
                topics: [
                    .init(
                        name: "t",
                        partitions: [.init(partitionIndex: 3, committedOffset: 1000, committedMetadata: "meta")]
                    )
                ]
            ),
            version: 3,
            golden["offset_commit_request_v3"]
        )
        try expectGolden(
            OffsetCommitResponse(
                topics: [
                    .init(
                        name: "t",
                        partitions: [
                            .init(partitionIndex: 0), .init(partitionIndex: 1, errorCode: .offsetMetadataTooLarge),
                        ]
                    )
                ]
            ),
            version: 2,
            golden["offset_commit_response_v2"]
        )
        try expectGolden(
            OffsetCommitResponse(throttleTimeMs: 4, topics: [.init(name: "t", partitions: [.init(partitionIndex: 3)])]),
            version: 3,
            golden["offset_commit_response_v3"]
        )
    }

    /// Null and empty committed metadata are different values on the wire (-1 vs 0 length).
    @Test func nullAndEmptyMetadataDiffer() throws {
        func encoded(_ metadata: String?) -> ByteBuffer {
            OffsetCommitRequest(
                groupId: "g",
                topics: [
                    .init(
                        name: "t",
                        partitions: [.init(partitionIndex: 0, committedOffset: 1, committedMetadata: metadata)]
                    )
                ]
            ).encoded(version: 3)
        }
        #expect(hex(encoded(nil)).hasSuffix("ffff"))
        #expect(hex(encoded("")).hasSuffix("0000"))
        #expect(
            try OffsetCommitRequest.decode(encoded(nil), version: 3).topics[0].partitions[0].committedMetadata == nil
        )
        #expect(try OffsetCommitRequest.decode(encoded(""), version: 3).topics[0].partitions[0].committedMetadata == "")
    }

    @Test func refusesVersionsOutsideTwoToThree() throws {
        let body = OffsetCommitRequest.sample(version: 2).encoded(version: 2)
        for version: Int16 in [0, 1, 4] {
            let error = #expect(throws: WireError.self) { try OffsetCommitRequest.decode(body, version: version) }
            #expect(error?.code == .unsupportedVersion)
        }
    }
}
