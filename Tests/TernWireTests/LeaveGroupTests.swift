import NIOCore
import TernWire
import Testing

extension LeaveGroupRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(groupId: "group-a", memberId: "member-1")
    }
}

extension LeaveGroupResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(throttleTimeMs: version >= 1 ? 20 : 0, errorCode: .unknownMemberId)
    }
}

@Suite struct LeaveGroupTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(LeaveGroupRequest.self)
        try expectRoundTripAtEveryVersion(LeaveGroupResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            LeaveGroupRequest(groupId: "g1", memberId: "m-1"),
            version: 0,
            golden["leave_group_request_v0"]
        )
        try expectGolden(
            LeaveGroupRequest(groupId: "g2", memberId: "m-2"),
            version: 1,
            golden["leave_group_request_v1"]
        )
        try expectGolden(LeaveGroupResponse(errorCode: .unknownMemberId), version: 0, golden["leave_group_response_v0"])
        try expectGolden(LeaveGroupResponse(throttleTimeMs: 2), version: 1, golden["leave_group_response_v1"])
    }
}
