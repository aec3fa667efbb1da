import NIOCore
import TernWire
import Testing

extension JoinGroupRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            groupId: "group-a",
            sessionTimeoutMs: 45_000,
            rebalanceTimeoutMs: version >= 1 ? 300_000 : -1,
            memberId: "member-1",
            protocolType: "consumer",
            protocols: [
                GroupProtocol(name: "range", metadata: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
                GroupProtocol(name: "roundrobin", metadata: ByteBuffer()),
            ]
        )
    }
}

extension JoinGroupResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 2 ? 12 : 0,
            errorCode: .rebalanceInProgress,
            generationId: 3,
            protocolName: "range",
            leader: "member-1",
            memberId: "member-2",
            members: [
                Member(memberId: "member-1", metadata: ByteBuffer(bytes: [1, 2, 3])),
                Member(memberId: "member-2", metadata: ByteBuffer()),
            ]
        )
    }
}

@Suite struct JoinGroupTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(JoinGroupRequest.self)
        try expectRoundTripAtEveryVersion(JoinGroupResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(
            JoinGroupRequest(
                groupId: "g1",
                sessionTimeoutMs: 10_000,
                protocolType: "consumer",
                protocols: [.init(name: "range", metadata: ConsumerProtocolSamples.subscriptionV0)]
            ),
            version: 0,
            golden["join_group_request_v0"]
        )
        try expectGolden(
            JoinGroupRequest(
                groupId: "g1",
                sessionTimeoutMs: 10_000,
                rebalanceTimeoutMs: 300_000,
                memberId: "m-1",
                protocolType: "consumer",
                protocols: [
                    .init(name: "range", metadata: ConsumerProtocolSamples.subscriptionV3),
                    .init(name: "roundrobin", metadata: ByteBuffer()),
                ]
            ),
            version: 2,
            golden["join_group_request_v2"]
        )
        try expectGolden(
            JoinGroupResponse(
                generationId: 1,
                protocolName: "range",
                leader: "m-1",
                memberId: "m-1",
                members: [.init(memberId: "m-1", metadata: ConsumerProtocolSamples.subscriptionV0)]
            ),
            version: 0,
            golden["join_group_response_v0"]
        )
        try expectGolden(
            JoinGroupResponse(throttleTimeMs: 3, errorCode: .rebalanceInProgress, memberId: "m-2"),
            version: 2,
            golden["join_group_response_v2"]
        )
    }

    /// v0 has no rebalance timeout: it reads back as the schema default -1 and is not written.
    @Test func v0HasNoRebalanceTimeout() throws {
        var request = JoinGroupRequest.sample(version: 2)
        let v0 = try JoinGroupRequest.decode(request.encoded(version: 0), version: 0)
        #expect(v0.rebalanceTimeoutMs == -1)
        #expect(request.encoded(version: 1).readableBytes == request.encoded(version: 0).readableBytes + 4)
        request.rebalanceTimeoutMs = -1
        #expect(v0 == request)
    }

    /// The protocol metadata is opaque bytes to the broker, but for protocol type "consumer" it
    /// parses as a subscription.
    @Test func protocolMetadataIsASubscription() throws {
        let request = try JoinGroupRequest.decode(
            buffer(hex: GoldenGroupApis.bodies["join_group_request_v2"]!),
            version: 2
        )
        let subscription = try ConsumerProtocolSubscription.decode(from: request.protocols[0].metadata)
        #expect(subscription.topics == ["a", "b"])
        #expect(subscription.generationId == 7)
    }
}
