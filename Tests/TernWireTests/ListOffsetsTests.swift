import NIOCore
import TernWire
import Testing

extension ListOffsetsRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            replicaId: 4,
            isolationLevel: version >= 2 ? .readCommitted : .readUncommitted,
            topics: [
                Topic(
                    name: "orders",
                    partitions: [
                        Partition(partitionIndex: 0, timestamp: ListOffsetsRequest.latestTimestamp),
                        Partition(partitionIndex: 1, timestamp: ListOffsetsRequest.earliestTimestamp),
                        Partition(partitionIndex: 2, timestamp: 1_700_000_000_000),
                    ]
                )
            ]
        )
    }
}

extension ListOffsetsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 2 ? 30 : 0,
            topics: [
                Topic(
                    name: "orders",
                    partitions: [
                        Partition(partitionIndex: 0, errorCode: .none, timestamp: 1_700_000_000_000, offset: 17),
                        Partition(partitionIndex: 1, errorCode: .unknownTopicOrPartition, timestamp: 3, offset: 4),
                    ]
                ),
                Topic(name: "other", partitions: []),
            ]
        )
    }
}

@Suite struct ListOffsetsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(ListOffsetsRequest.self)
        try expectRoundTripAtEveryVersion(ListOffsetsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(
            ListOffsetsRequest(
                topics: [.init(name: "orders", partitions: [.init(partitionIndex: 0, timestamp: -1)])]
            ),
            version: 1,
            golden["list_offsets_request_v1"]
        )
        try expectGolden(
            ListOffsetsRequest(
                isolationLevel: .readCommitted,
                topics: [
                    .init(
                        name: "orders",
                        partitions: [
                            .init(partitionIndex: 0, timestamp: ListOffsetsRequest.earliestTimestamp),
                            .init(partitionIndex: 1, timestamp: 1_700_000_000_000),
                        ]
                    )
                ]
            ),
            version: 2,
            golden["list_offsets_request_v2"]
        )
        try expectGolden(
            ListOffsetsResponse(
                topics: [.init(name: "orders", partitions: [.init(partitionIndex: 0, timestamp: -1, offset: 42)])]
            ),
            version: 1,
            golden["list_offsets_response_v1"]
        )
        try expectGolden(
            ListOffsetsResponse(
                throttleTimeMs: 3,
                topics: [
                    .init(
                        name: "orders",
                        partitions: [
                            .init(partitionIndex: 0, timestamp: 1_700_000_000_000, offset: 17),
                            .init(partitionIndex: 1, errorCode: .unknownTopicOrPartition),
                        ]
                    )
                ]
            ),
            version: 2,
            golden["list_offsets_response_v2"]
        )
    }

    /// v1 has neither the isolation level nor the throttle time; both read back as defaults.
    @Test func versionOneLacksIsolationLevelAndThrottle() throws {
        let request = ListOffsetsRequest(isolationLevel: .readCommitted, topics: [])
        #expect(hex(request.encoded(version: 1)) == "ffffffff" + "00000000")
        #expect(hex(request.encoded(version: 2)) == "ffffffff" + "01" + "00000000")
        #expect(
            try ListOffsetsRequest.decode(request.encoded(version: 1), version: 1).isolationLevel == .readUncommitted
        )

        let response = ListOffsetsResponse(throttleTimeMs: 9, topics: [])
        #expect(try ListOffsetsResponse.decode(response.encoded(version: 1), version: 1).throttleTimeMs == 0)
    }

    @Test func refusesVersionZero() {
        let error = #expect(throws: WireError.self) {
            try ListOffsetsResponse.decode(ListOffsetsResponse(topics: []).encoded(version: 1), version: 0)
        }
        #expect(error?.code == .unsupportedVersion)
    }
}
