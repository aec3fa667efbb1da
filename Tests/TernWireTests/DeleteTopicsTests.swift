import NIOCore
import TernWire
import Testing

extension DeleteTopicsRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(topicNames: ["orders", "payments", ""], timeoutMs: 30_000)
    }
}

extension DeleteTopicsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 1 ? 50 : 0,
            responses: [
                Topic(name: "orders", errorCode: .none),
                Topic(name: "payments", errorCode: .unknownTopicOrPartition),
            ]
        )
    }
}

@Suite struct DeleteTopicsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(DeleteTopicsRequest.self)
        try expectRoundTripAtEveryVersion(DeleteTopicsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(
            DeleteTopicsRequest(topicNames: ["orders", "manual"], timeoutMs: 30000),
            version: 0,
            golden["delete_topics_request_v0"]
        )
        try expectGolden(
            DeleteTopicsRequest(topicNames: ["orders"], timeoutMs: 15000),
            version: 1,
            golden["delete_topics_request_v1"]
        )
        try expectGolden(
            DeleteTopicsResponse(responses: [
                .init(name: "orders"), .init(name: "manual", errorCode: .unknownTopicOrPartition),
            ]),
            version: 0,
            golden["delete_topics_response_v0"]
        )
        try expectGolden(
            DeleteTopicsResponse(throttleTimeMs: 2, responses: [.init(name: "orders")]),
            version: 1,
            golden["delete_topics_response_v1"]
        )
    }

    /// The request is the same in v0 and v1; only the response gains the leading throttle time.
    @Test func onlyTheResponseChangesInVersionOne() throws {
        let request = DeleteTopicsRequest.sample(version: 1)
        #expect(request.encoded(version: 0) == request.encoded(version: 1))
        let response = DeleteTopicsResponse(throttleTimeMs: 7, responses: [])
        #expect(hex(response.encoded(version: 0)) == "00000000")
        #expect(hex(response.encoded(version: 1)) == "00000007" + "00000000")
    }
}
