import NIOCore
import TernWire
import Testing

extension SyncGroupRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            groupId: "group-a",
            generationId: 5,
            memberId: "member-1",
            assignments: [
                Assignment(memberId: "member-1", assignment: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
                Assignment(memberId: "member-2", assignment: ByteBuffer()),
            ]
        )
    }
}

extension SyncGroupResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 1 ? 7 : 0,
            errorCode: .illegalGeneration,
            assignment: ByteBuffer(bytes: [0, 1, 0, 0])
        )
    }
}

@Suite struct SyncGroupTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(SyncGroupRequest.self)
        try expectRoundTripAtEveryVersion(SyncGroupResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            SyncGroupRequest(
                groupId: "g1",
                generationId: 1,
                memberId: "m-1",
                assignments: [.init(memberId: "m-1", assignment: ConsumerProtocolSamples.assignmentV0)]
            ),
            version: 0,
            golden["sync_group_request_v0"]
        )
        try expectGolden(
            SyncGroupRequest(groupId: "g1", generationId: 2, memberId: "m-2"),
            version: 1,
            golden["sync_group_request_v1"]
        )
        try expectGolden(
            SyncGroupResponse(assignment: ConsumerProtocolSamples.assignmentV0),
            version: 0,
            golden["sync_group_response_v0"]
        )
        try expectGolden(
            SyncGroupResponse(throttleTimeMs: 9, errorCode: .illegalGeneration),
            version: 1,
            golden["sync_group_response_v1"]
        )
    }
}
