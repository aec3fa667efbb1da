import NIOCore
import TernWire
import Testing

extension ListGroupsRequest: SampledMessage {
    static func sample(version: Int16) -> Self { Self() }
}

extension ListGroupsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 1 ? 50 : 0,
            errorCode: .coordinatorLoadInProgress,
            groups: [
                Group(groupId: "group-a", protocolType: "consumer"),
                Group(groupId: "offsets-only", protocolType: ""),
            ]
        )
    }
}

@Suite struct ListGroupsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(ListGroupsRequest.self)
        try expectRoundTripAtEveryVersion(ListGroupsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(ListGroupsRequest(), version: 0, golden["list_groups_request_v0"])
        try expectGolden(ListGroupsRequest(), version: 2, golden["list_groups_request_v2"])
        try expectGolden(
            ListGroupsResponse(groups: [
                .init(groupId: "g1", protocolType: "consumer"), .init(groupId: "offsets-only", protocolType: ""),
            ]),
            version: 0,
            golden["list_groups_response_v0"]
        )
        try expectGolden(
            ListGroupsResponse(throttleTimeMs: 11, errorCode: .coordinatorLoadInProgress),
            version: 2,
            golden["list_groups_response_v2"]
        )
    }
}
