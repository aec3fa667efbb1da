import NIOCore
import TernWire
import Testing

extension InitProducerIdRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(transactionalId: "tx-1", transactionTimeoutMs: 60_000)
    }
}

extension InitProducerIdResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(throttleTimeMs: 60, errorCode: .coordinatorLoadInProgress, producerId: 1000, producerEpoch: 3)
    }
}

@Suite struct InitProducerIdTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(InitProducerIdRequest.self)
        try expectRoundTripAtEveryVersion(InitProducerIdResponse.self)
        // The idempotent-only form, with a null transactional id.
        try expectRoundTrip(InitProducerIdRequest(transactionTimeoutMs: 1), version: 0)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        let idempotent = InitProducerIdRequest(transactionTimeoutMs: 60000)
        #expect(!idempotent.isTransactional)
        try expectGolden(idempotent, version: 0, golden["init_producer_id_request_v0"])
        let transactional = InitProducerIdRequest(transactionalId: "tx-1", transactionTimeoutMs: 30000)
        #expect(transactional.isTransactional)
        try expectGolden(transactional, version: 0, golden["init_producer_id_request_v0_transactional"])
        try expectGolden(
            InitProducerIdResponse(producerId: 1000, producerEpoch: 0),
            version: 0,
            golden["init_producer_id_response_v0"]
        )
    }

    @Test func refusesVersionOne() {
        let error = #expect(throws: WireError.self) {
            try InitProducerIdRequest.decode(InitProducerIdRequest.sample(version: 0).encoded(version: 0), version: 1)
        }
        #expect(error?.code == .unsupportedVersion)
    }
}
