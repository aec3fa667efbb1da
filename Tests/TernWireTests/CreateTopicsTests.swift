import NIOCore
import TernWire
import Testing

extension CreateTopicsRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            topics: [
                Topic(
                    name: "orders",
                    numPartitions: 3,
                    replicationFactor: 1,
                    configs: [
                        Config(name: "cleanup.policy", value: "compact"), Config(name: "retention.ms", value: nil),
                    ]
                ),
                Topic(
                    name: "manual",
                    numPartitions: -1,
                    replicationFactor: -1,
                    assignments: [
                        Assignment(partitionIndex: 0, brokerIds: [1, 2]), Assignment(partitionIndex: 1, brokerIds: []),
                    ]
                ),
            ],
            timeoutMs: 15_000,
            validateOnly: version >= 1
        )
    }
}

extension CreateTopicsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 2 ? 40 : 0,
            topics: [
                Topic(
                    name: "orders",
                    errorCode: .topicAlreadyExists,
                    errorMessage: version >= 1 ? "Topic 'orders' already exists." : nil
                ),
                Topic(name: "manual", errorCode: .none, errorMessage: nil),
            ]
        )
    }
}

@Suite struct CreateTopicsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(CreateTopicsRequest.self)
        try expectRoundTripAtEveryVersion(CreateTopicsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(
            CreateTopicsRequest(
                topics: [
                    .init(
                        name: "orders",
                        numPartitions: 3,
                        replicationFactor: 1,
                        configs: [.init(name: "cleanup.policy", value: "compact")]
                    )
                ],
                timeoutMs: 30000
            ),
            version: 0,
            golden["create_topics_request_v0"]
        )
        try expectGolden(
            CreateTopicsRequest(
                topics: [
                    .init(
                        name: "manual",
                        numPartitions: -1,
                        replicationFactor: -1,
                        assignments: [
                            .init(partitionIndex: 0, brokerIds: [1, 2]), .init(partitionIndex: 1, brokerIds: [2, 1]),
                        ],
                        configs: [.init(name: "retention.ms", value: nil)]
                    )
                ],
                validateOnly: true
            ),
            version: 3,
            golden["create_topics_request_v3"]
        )
        try expectGolden(
            CreateTopicsResponse(topics: [.init(name: "orders")]),
            version: 0,
            golden["create_topics_response_v0"]
        )
        try expectGolden(
            CreateTopicsResponse(
                topics: [
                    .init(
                        name: "orders",
                        errorCode: .topicAlreadyExists,
                        errorMessage: "Topic 'orders' already exists."
                    ),
                    .init(name: "manual"),
                ]
            ),
            version: 3,
            golden["create_topics_response_v3"]
        )
    }

    /// v0 has no `validateOnly`, no error messages and no throttle time: a v0 reader must never
    /// see them and gets the defaults.
    @Test func versionZeroDropsLaterFields() throws {
        let request = CreateTopicsRequest(topics: [], timeoutMs: 1, validateOnly: true)
        #expect(hex(request.encoded(version: 0)) == "00000000" + "00000001")
        #expect(try CreateTopicsRequest.decode(request.encoded(version: 0), version: 0).validateOnly == false)

        let response = CreateTopicsResponse(
            throttleTimeMs: 5,
            topics: [.init(name: "t", errorCode: .invalidPartitions, errorMessage: "bad")]
        )
        #expect(hex(response.encoded(version: 0)) == "00000001" + "000174" + "0025")
        #expect(hex(response.encoded(version: 1)) == "00000001" + "000174" + "0025" + "0003626164")
        #expect(hex(response.encoded(version: 2)) == "00000005" + "00000001" + "000174" + "0025" + "0003626164")
        let v0 = try CreateTopicsResponse.decode(response.encoded(version: 0), version: 0)
        #expect(v0 == CreateTopicsResponse(topics: [.init(name: "t", errorCode: .invalidPartitions)]))
    }
}
