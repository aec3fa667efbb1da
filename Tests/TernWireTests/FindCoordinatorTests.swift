import NIOCore
import TernWire
import Testing

extension FindCoordinatorRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(key: "txn-7", keyType: version >= 1 ? 1 : 0)
    }
}

extension FindCoordinatorResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 1 ? 30 : 0,
            errorCode: .coordinatorNotAvailable,
            errorMessage: version >= 1 ? "not yet" : nil,
            nodeId: 2,
            host: "broker-2",
            port: 9093
        )
    }
}

@Suite struct FindCoordinatorTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(FindCoordinatorRequest.self)
        try expectRoundTripAtEveryVersion(FindCoordinatorResponse.self)
        try expectRoundTrip(FindCoordinatorResponse(nodeId: 1, host: "h", port: 1), version: 1)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(FindCoordinatorRequest(key: "g1"), version: 0, golden["find_coordinator_request_v0"])
        try expectGolden(
            FindCoordinatorRequest(key: "txn-1", keyType: 1),
            version: 1,
            golden["find_coordinator_request_v1"]
        )
        try expectGolden(
            FindCoordinatorResponse(nodeId: 1, host: "localhost", port: 9092),
            version: 0,
            golden["find_coordinator_response_v0"]
        )
        try expectGolden(
            FindCoordinatorResponse(
                throttleTimeMs: 5,
                errorCode: .coordinatorNotAvailable,
                errorMessage: "loading",
                nodeId: -1,
                host: "",
                port: -1
            ),
            version: 1,
            golden["find_coordinator_response_v1"]
        )
        try expectGolden(
            FindCoordinatorResponse(nodeId: 3, host: "b3", port: 9093),
            version: 1,
            golden["find_coordinator_response_v1_null_message"]
        )
    }

    /// A v0 request has no key type: it always asks for a group coordinator.
    @Test func v0RequestMeansGroup() throws {
        let decoded = try FindCoordinatorRequest.decode(buffer(hex: "00026731"), version: 0)
        #expect(decoded == FindCoordinatorRequest(key: "g1", keyType: 0))
        #expect(hex(FindCoordinatorRequest(key: "g1", keyType: 1).encoded(version: 0)) == "00026731")
    }
}
