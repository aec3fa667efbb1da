import NIOCore
import TernWire
import Testing

extension FetchRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            replicaId: 3,
            maxWaitMs: 500,
            minBytes: 1,
            maxBytes: 52_428_800,
            isolationLevel: .readCommitted,
            sessionId: version >= 7 ? 77 : 0,
            sessionEpoch: version >= 7 ? 4 : -1,
            topics: [
                Topic(
                    topic: "orders",
                    partitions: [
                        Partition(
                            partition: 0,
                            currentLeaderEpoch: version >= 9 ? 2 : -1,
                            fetchOffset: 10,
                            logStartOffset: version >= 5 ? 5 : -1,
                            partitionMaxBytes: 1_048_576
                        ),
                        Partition(
                            partition: 1,
                            currentLeaderEpoch: version >= 9 ? 3 : -1,
                            fetchOffset: 0,
                            logStartOffset: version >= 5 ? 0 : -1,
                            partitionMaxBytes: 65_536
                        ),
                    ]
                )
            ],
            forgottenTopicsData: version >= 7 ? [ForgottenTopic(topic: "old", partitions: [1, 2])] : [],
            rackId: version >= 11 ? "rack-a" : ""
        )
    }
}

extension FetchResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: 20,
            errorCode: version >= 7 ? .fetchSessionIdNotFound : .none,
            sessionId: version >= 7 ? 77 : 0,
            responses: [
                Topic(
                    topic: "orders",
                    partitions: [
                        Partition(
                            partitionIndex: 0,
                            errorCode: .none,
                            highWatermark: 100,
                            lastStableOffset: 90,
                            logStartOffset: version >= 5 ? 3 : -1,
                            abortedTransactions: [
                                AbortedTransaction(producerId: 5, firstOffset: 20),
                                AbortedTransaction(producerId: 6, firstOffset: 40),
                            ],
                            preferredReadReplica: version >= 11 ? 2 : -1,
                            records: sampleRecords
                        ),
                        Partition(
                            partitionIndex: 1,
                            errorCode: .offsetOutOfRange,
                            highWatermark: 7,
                            lastStableOffset: 7,
                            logStartOffset: version >= 5 ? 7 : -1,
                            abortedTransactions: nil,
                            preferredReadReplica: version >= 11 ? 1 : -1,
                            records: nil
                        ),
                        Partition(
                            partitionIndex: 2,
                            highWatermark: 0,
                            lastStableOffset: 0,
                            abortedTransactions: [],
                            records: ByteBuffer()
                        ),
                    ]
                )
            ]
        )
    }
}

@Suite struct FetchTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(FetchRequest.self)
        try expectRoundTripAtEveryVersion(FetchResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(
            FetchRequest(
                maxWaitMs: 500,
                minBytes: 1,
                maxBytes: 52_428_800,
                isolationLevel: .readCommitted,
                topics: [
                    .init(
                        topic: "orders",
                        partitions: [.init(partition: 0, fetchOffset: 10, partitionMaxBytes: 1_048_576)]
                    )
                ]
            ),
            version: 4,
            golden["fetch_request_v4"]
        )
        try expectGolden(
            FetchRequest(
                maxWaitMs: 500,
                minBytes: 1,
                maxBytes: 52_428_800,
                sessionId: 7,
                sessionEpoch: 3,
                topics: [
                    .init(
                        topic: "orders",
                        partitions: [
                            .init(partition: 0, currentLeaderEpoch: 2, fetchOffset: 10, partitionMaxBytes: 1_048_576)
                        ]
                    )
                ],
                forgottenTopicsData: [.init(topic: "old", partitions: [1, 2])],
                rackId: "rack-a"
            ),
            version: 11,
            golden["fetch_request_v11"]
        )
        try expectGolden(
            FetchResponse(
                responses: [
                    .init(
                        topic: "orders",
                        partitions: [
                            .init(partitionIndex: 0, highWatermark: 100, lastStableOffset: 100, records: sampleRecords)
                        ]
                    )
                ]
            ),
            version: 4,
            golden["fetch_response_v4"]
        )
        try expectGolden(
            FetchResponse(
                throttleTimeMs: 1,
                sessionId: 7,
                responses: [
                    .init(
                        topic: "orders",
                        partitions: [
                            .init(
                                partitionIndex: 0,
                                highWatermark: 100,
                                lastStableOffset: 90,
                                logStartOffset: 0,
                                abortedTransactions: [.init(producerId: 5, firstOffset: 20)],
                                records: sampleRecords
                            ),
                            .error(.offsetOutOfRange, partitionIndex: 1),
                        ]
                    )
                ]
            ),
            version: 11,
            golden["fetch_response_v11"]
        )
    }

    /// Aborted transactions are a nullable array: null (not read committed) and empty (read
    /// committed, none aborted) are distinct on the wire and survive decoding.
    @Test func abortedTransactionsKeepNullAndEmpty() throws {
        let response = FetchResponse.sample(version: 11)
        let decoded = try FetchResponse.decode(response.encoded(version: 11), version: 11)
        let partitions = decoded.responses[0].partitions
        #expect(partitions[1].abortedTransactions == nil)
        #expect(partitions[2].abortedTransactions == [])
        #expect(partitions[0].records == sampleRecords)
        #expect(partitions[1].records == nil)
        #expect(partitions[2].records == ByteBuffer())
    }

    /// Fetch sessions (v7) add two ints after the isolation level and the forgotten-topics array;
    /// below v7 they read back as "no session" (id 0, epoch -1).
    @Test func sessionFieldsOnlyFromVersionSeven() throws {
        let request = FetchRequest(maxWaitMs: 1, minBytes: 1, sessionId: 9, sessionEpoch: 2, topics: [])
        #expect(request.encoded(version: 7).readableBytes == request.encoded(version: 6).readableBytes + 12)
        let v6 = try FetchRequest.decode(request.encoded(version: 6), version: 6)
        #expect(v6.sessionId == 0)
        #expect(v6.sessionEpoch == -1)
        #expect(v6.replicaId == -1)
        #expect(v6.maxBytes == Int32.max)

        let response = FetchResponse(errorCode: .fetchSessionIdNotFound, sessionId: 9, responses: [])
        #expect(hex(response.encoded(version: 7)) == "00000000" + "0046" + "00000009" + "00000000")
        #expect(hex(response.encoded(version: 6)) == "00000000" + "00000000")
    }

    @Test func refusesVersionsBelowFour() {
        let error = #expect(throws: WireError.self) {
            try FetchRequest.decode(FetchRequest.sample(version: 4).encoded(version: 4), version: 3)
        }
        #expect(error?.code == .unsupportedVersion)
    }

    @Test func isolationLevelNames() {
        #expect(IsolationLevel.readCommitted.description == "READ_COMMITTED")
        #expect(IsolationLevel(rawValue: 0) == .readUncommitted)
        #expect(IsolationLevel(rawValue: 5).description == "IsolationLevel(5)")
    }
}
