import NIOCore
import TernWire
import Testing

extension DeleteGroupsRequest: SampledMessage {
    static func sample(version: Int16) -> Self { Self(groupsNames: ["orders", "", "billing"]) }
}

extension DeleteGroupsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: 12,
            results: [.init(groupId: "orders"), .init(groupId: "busy", errorCode: .nonEmptyGroup)]
        )
    }
}

extension OffsetDeleteRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            groupId: "g",
            topics: [.init(name: "a", partitionIndexes: [0, 5]), .init(name: "b", partitionIndexes: [])]
        )
    }
}

extension OffsetDeleteResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            errorCode: .groupIdNotFound,
            throttleTimeMs: 3,
            topics: [.init(name: "a", partitions: [.init(partitionIndex: 5, errorCode: .groupSubscribedToTopic)])]
        )
    }
}

@Suite struct DeleteGroupsAndOffsetDeleteTests {
    @Test func roundTripAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(DeleteGroupsRequest.self)
        try expectRoundTripAtEveryVersion(DeleteGroupsResponse.self)
        try expectRoundTripAtEveryVersion(OffsetDeleteRequest.self)
        try expectRoundTripAtEveryVersion(OffsetDeleteResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            DeleteGroupsRequest(groupsNames: ["g1", "g2"]),
            version: 0,
            golden["delete_groups_request_v0"]
        )
        try expectGolden(DeleteGroupsRequest(groupsNames: ["g1"]), version: 1, golden["delete_groups_request_v1"])
        try expectGolden(
            DeleteGroupsResponse(results: [.init(groupId: "g1"), .init(groupId: "g2", errorCode: .nonEmptyGroup)]),
            version: 0,
            golden["delete_groups_response_v0"]
        )
        try expectGolden(
            DeleteGroupsResponse(throttleTimeMs: 5, results: [.init(groupId: "g1", errorCode: .groupIdNotFound)]),
            version: 1,
            golden["delete_groups_response_v1"]
        )
        try expectGolden(
            OffsetDeleteRequest(groupId: "g1", topics: [.init(name: "t", partitionIndexes: [0, 2])]),
            version: 0,
            golden["offset_delete_request_v0"]
        )
        try expectGolden(
            OffsetDeleteResponse(
                topics: [
                    .init(
                        name: "t",
                        partitions: [
                            .init(partitionIndex: 0), .init(partitionIndex: 2, errorCode: .groupSubscribedToTopic),
                        ]
                    )
                ]
            ),
            version: 0,
            golden["offset_delete_response_v0"]
        )
    }
}
