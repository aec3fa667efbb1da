import NIOCore
import TernWire
import Testing

extension MetadataRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        // Null (all topics) at odd versions, a list at even ones, so both encodings are covered.
        Self(
            topics: version % 2 == 1 ? nil : [Topic(name: "orders"), Topic(name: "")],
            allowAutoTopicCreation: version >= 4 ? false : true
        )
    }
}

extension MetadataResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 3 ? 100 : 0,
            brokers: [
                Broker(nodeId: 1, host: "broker-1", port: 9092, rack: "rack-a"),
                Broker(nodeId: 2, host: "broker-2", port: 9093, rack: nil),
            ],
            clusterId: version >= 2 ? "tern-cluster" : nil,
            controllerId: 2,
            topics: [
                Topic(
                    errorCode: .none,
                    name: "__consumer_offsets",
                    isInternal: true,
                    partitions: [
                        Partition(partitionIndex: 0, leaderId: 1, replicaNodes: [1, 2], isrNodes: [1]),
                        Partition(
                            errorCode: .leaderNotAvailable,
                            partitionIndex: 1,
                            leaderId: -1,
                            replicaNodes: [2],
                            isrNodes: []
                        ),
                    ]
                ),
                Topic(errorCode: .unknownTopicOrPartition, name: "missing", partitions: []),
            ]
        )
    }
}

@Suite struct MetadataTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(MetadataRequest.self)
        try expectRoundTripAtEveryVersion(MetadataResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(MetadataRequest.allTopics, version: 1, golden["metadata_request_v1_all_topics"])
        try expectGolden(MetadataRequest(topics: []), version: 1, golden["metadata_request_v1_no_topics"])
        try expectGolden(
            MetadataRequest(topics: [.init(name: "orders"), .init(name: "payments")], allowAutoTopicCreation: false),
            version: 4,
            golden["metadata_request_v4"]
        )
        try expectGolden(
            MetadataResponse(
                brokers: [.init(nodeId: 1, host: "localhost", port: 9092)],
                controllerId: 1,
                topics: [
                    .init(
                        name: "orders",
                        partitions: [.init(partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1])]
                    )
                ]
            ),
            version: 1,
            golden["metadata_response_v1"]
        )
        try expectGolden(
            MetadataResponse(
                throttleTimeMs: 5,
                brokers: [
                    .init(nodeId: 1, host: "broker-1", port: 9092, rack: "rack-a"),
                    .init(nodeId: 2, host: "broker-2", port: 9093),
                ],
                clusterId: "tern-cluster",
                controllerId: 2,
                topics: [
                    .init(
                        name: "__consumer_offsets",
                        isInternal: true,
                        partitions: [
                            .init(partitionIndex: 0, leaderId: 1, replicaNodes: [1, 2], isrNodes: [1]),
                            .init(
                                errorCode: .leaderNotAvailable,
                                partitionIndex: 1,
                                leaderId: -1,
                                replicaNodes: [2],
                                isrNodes: []
                            ),
                        ]
                    ),
                    .init(errorCode: .unknownTopicOrPartition, name: "missing", partitions: []),
                ]
            ),
            version: 4,
            golden["metadata_response_v4"]
        )
    }

    /// From v1 a null topics array means "all topics" and an empty one means "no topics"; the two
    /// must not collapse into one value.
    @Test func nullAndEmptyTopicsStayDistinct() throws {
        for version in MetadataRequest.versions {
            let all = try MetadataRequest.decode(MetadataRequest.allTopics.encoded(version: version), version: version)
            #expect(all.topics == nil)
            #expect(all.topicNames == nil)
            let none = try MetadataRequest.decode(
                MetadataRequest(topics: []).encoded(version: version),
                version: version
            )
            #expect(none.topics == [])
            #expect(none.topicNames == [])
        }
    }

    /// Before v4 there is no flag on the wire: older clients always allow auto-creation, so the
    /// decoded value is the schema default (true). The older versions also lack cluster id and
    /// throttle time, which read back as their defaults.
    @Test func fieldsAbsentFromOlderVersionsReadAsDefaults() throws {
        let request = MetadataRequest(topics: [.init(name: "t")], allowAutoTopicCreation: false)
        #expect(try MetadataRequest.decode(request.encoded(version: 3), version: 3).allowAutoTopicCreation)
        #expect(request.encoded(version: 3).readableBytes + 1 == request.encoded(version: 4).readableBytes)

        let response = MetadataResponse.sample(version: 4)
        let v1 = try MetadataResponse.decode(response.encoded(version: 1), version: 1)
        #expect(v1.throttleTimeMs == 0)
        #expect(v1.clusterId == nil)
        #expect(v1.controllerId == 2)
        #expect(v1.brokers[0].rack == "rack-a")
    }

    @Test func refusesVersionZero() {
        let error = #expect(throws: WireError.self) {
            try MetadataRequest.decode(buffer(hex: "00000000"), version: 0)
        }
        #expect(error?.code == .unsupportedVersion)
    }
}
