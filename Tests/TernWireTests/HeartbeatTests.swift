import NIOCore
import TernWire
import Testing

extension HeartbeatRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(groupId: "group-a", generationId: 9, memberId: "member-1")
    }
}

extension HeartbeatResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(throttleTimeMs: version >= 1 ? 100 : 0, errorCode: .rebalanceInProgress)
    }
}

@Suite struct HeartbeatTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(HeartbeatRequest.self)
        try expectRoundTripAtEveryVersion(HeartbeatResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            HeartbeatRequest(groupId: "g1", generationId: 1, memberId: "m-1"),
            version: 0,
            golden["heartbeat_request_v0"]
        )
        try expectGolden(
            HeartbeatRequest(groupId: "g1", generationId: 4, memberId: "m-2"),
            version: 1,
            golden["heartbeat_request_v1"]
        )
        try expectGolden(
            HeartbeatResponse(errorCode: .rebalanceInProgress),
            version: 0,
            golden["heartbeat_response_v0"]
        )
        try expectGolden(HeartbeatResponse(throttleTimeMs: 1), version: 1, golden["heartbeat_response_v1"])
    }
}
