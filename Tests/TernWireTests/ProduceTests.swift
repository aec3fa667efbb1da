import NIOCore
import TernWire
import Testing

/// Stand-in record bytes: the wire codec treats them as opaque.
let sampleRecords = buffer(hex: "000000000000000a0000003c")

extension ProduceRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            transactionalId: version % 2 == 0 ? "tx-\(version)" : nil,
            acks: -1,
            timeoutMs: 30_000,
            topicData: [
                Topic(
                    name: "orders",
                    partitionData: [
                        Partition(index: 0, records: sampleRecords),
                        Partition(index: 1, records: nil),
                        Partition(index: 2, records: ByteBuffer()),
                    ]
                ),
                Topic(name: "empty", partitionData: []),
            ]
        )
    }
}

extension ProduceResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            responses: [
                Topic(
                    name: "orders",
                    partitionResponses: [
                        Partition(
                            index: 0,
                            errorCode: .none,
                            baseOffset: 42,
                            logAppendTimeMs: 1_700_000_000_000,
                            logStartOffset: version >= 5 ? 7 : -1
                        ),
                        Partition(
                            index: 1,
                            errorCode: .notLeaderOrFollower,
                            baseOffset: -1,
                            logAppendTimeMs: 5,
                            logStartOffset: version >= 5 ? 0 : -1
                        ),
                    ]
                )
            ],
            throttleTimeMs: 10
        )
    }
}

@Suite struct ProduceTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(ProduceRequest.self)
        try expectRoundTripAtEveryVersion(ProduceResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(
            ProduceRequest(
                acks: -1,
                timeoutMs: 30000,
                topicData: [.init(name: "orders", partitionData: [.init(index: 0, records: sampleRecords)])]
            ),
            version: 3,
            golden["produce_request_v3"]
        )
        try expectGolden(
            ProduceRequest(
                transactionalId: "tx-1",
                acks: 1,
                timeoutMs: 1500,
                topicData: [
                    .init(
                        name: "orders",
                        partitionData: [.init(index: 0, records: sampleRecords), .init(index: 2, records: nil)]
                    )
                ]
            ),
            version: 7,
            golden["produce_request_v7"]
        )
        try expectGolden(
            ProduceResponse(
                responses: [.init(name: "orders", partitionResponses: [.init(index: 0, baseOffset: 42)])]
            ),
            version: 3,
            golden["produce_response_v3"]
        )
        try expectGolden(
            ProduceResponse(
                responses: [
                    .init(
                        name: "orders",
                        partitionResponses: [
                            .init(index: 0, baseOffset: 42, logAppendTimeMs: 1_700_000_000_000, logStartOffset: 7),
                            .init(index: 2, errorCode: .notLeaderOrFollower, baseOffset: -1),
                        ]
                    )
                ],
                throttleTimeMs: 10
            ),
            version: 7,
            golden["produce_response_v7"]
        )
    }

    /// Produce v0–v2 may be advertised (KAFKA-18659) but are never decoded: they carry legacy
    /// message sets and no transactional id.
    @Test func refusesVersionsBelowThree() {
        let body = ProduceRequest.sample(version: 3).encoded(version: 3)
        for version: Int16 in 0...2 {
            let error = #expect(throws: WireError.self) { try ProduceRequest.decode(body, version: version) }
            #expect(error?.code == .unsupportedVersion)
        }
    }

    /// Null records (-1 length) and empty records (0 length) are different on the wire and decode
    /// to nil and to an empty buffer; the records slice comes back byte for byte.
    @Test func recordsKeepNullEmptyAndBytes() throws {
        let request = ProduceRequest.sample(version: 7)
        let decoded = try ProduceRequest.decode(request.encoded(version: 7), version: 7)
        let partitions = decoded.topicData[0].partitionData
        #expect(partitions[0].records == sampleRecords)
        #expect(partitions[1].records == nil)
        #expect(partitions[2].records == ByteBuffer())
        #expect(ProduceRequest(acks: 0, timeoutMs: 1, topicData: []).expectsResponse == false)
        #expect(request.expectsResponse)
    }

    /// The throttle time is the last field, after the topic array; log start offset only from v5.
    @Test func throttleTimeComesLast() throws {
        let response = ProduceResponse(responses: [], throttleTimeMs: 0x0102_0304)
        #expect(hex(response.encoded(version: 3)) == "00000000" + "01020304")
        let partition = ProduceResponse(
            responses: [.init(name: "t", partitionResponses: [.init(index: 0, baseOffset: 1, logStartOffset: 9)])]
        )
        #expect(partition.encoded(version: 5).readableBytes == partition.encoded(version: 4).readableBytes + 8)
        #expect(
            try ProduceResponse.decode(partition.encoded(version: 4), version: 4).responses[0]
                .partitionResponses[0].logStartOffset == -1
        )
    }
}
