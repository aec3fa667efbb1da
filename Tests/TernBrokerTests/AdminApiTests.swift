import NIOCore
import TernBroker
import TernRecords
import TernWire
import Testing

/// CreatePartitions, DeleteRecords and DescribeCluster at every version of their schemas.
@Suite struct AdminApiTests {
    private func createTopic(_ broker: Broker, _ name: String, partitions: Int32) async throws {
        let response = try await roundTrip(
            broker,
            CreateTopicsRequest(
                topics: [.init(name: name, numPartitions: partitions, replicationFactor: 1)],
                timeoutMs: 1000
            ),
            version: 7
        )
        #expect(response?.topics.first?.errorCode == KafkaErrorCode.none)
    }

    private func partitionCount(_ broker: Broker, _ name: String) async throws -> Int? {
        try await roundTrip(
            broker,
            MetadataRequest(topics: [.init(name: name)], allowAutoTopicCreation: false),
            version: 12
        )?
        .topics.first?.partitions.count
    }

    private func produce(_ broker: Broker, _ topic: String, partition: Int32, _ values: [String]) async throws {
        var builder = RecordBatchBuilder()
        for value in values {
            builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: 1_700_000_000_000)
        }
        let request = ProduceRequest(
            acks: 1,
            timeoutMs: 1000,
            topicData: [.init(name: topic, partitionData: [.init(index: partition, records: try builder.build())])]
        )
        let response = try await roundTrip(broker, request, version: 9)
        #expect(response?.responses.first?.partitionResponses.first?.errorCode == KafkaErrorCode.none)
    }

    private func earliestOffset(_ broker: Broker, _ topic: String, partition: Int32) async throws -> Int64? {
        let request = ListOffsetsRequest(
            replicaId: -1,
            topics: [.init(name: topic, partitions: [.init(partitionIndex: partition, timestamp: -2)])]
        )
        return try await roundTrip(broker, request, version: 7)?.topics.first?.partitions.first?.offset
    }

    // MARK: CreatePartitions

    struct CreatePartitionsCase: Sendable, CustomTestStringConvertible {
        var name: String
        var count: Int32
        var assignments: [[Int32]]?
        var validateOnly = false
        var error: KafkaErrorCode
        /// The partition count afterwards.
        var partitionsAfter: Int?
        var testDescription: String { self.name }
    }

    static let createPartitionsCases: [CreatePartitionsCase] = [
        .init(name: "grow", count: 5, error: .none, partitionsAfter: 5),
        .init(name: "equal count", count: 2, error: .invalidPartitions, partitionsAfter: 2),
        .init(name: "shrink", count: 1, error: .invalidPartitions, partitionsAfter: 2),
        .init(name: "validate only", count: 4, validateOnly: true, error: .none, partitionsAfter: 2),
        .init(
            name: "validate only, shrink",
            count: 1,
            validateOnly: true,
            error: .invalidPartitions,
            partitionsAfter: 2
        ),
        .init(name: "assignment to this node", count: 4, assignments: [[0], [0]], error: .none, partitionsAfter: 4),
        .init(
            name: "assignment to another node",
            count: 4,
            assignments: [[0], [2]],
            error: .invalidReplicaAssignment,
            partitionsAfter: 2
        ),
        .init(
            name: "two replicas",
            count: 3,
            assignments: [[0, 0]],
            error: .invalidReplicaAssignment,
            partitionsAfter: 2
        ),
        // As Kafka: an empty list is not "no assignments" (null is).
        .init(
            name: "empty assignments",
            count: 4,
            assignments: [],
            error: .invalidReplicaAssignment,
            partitionsAfter: 2
        ),
        .init(
            name: "too few assignments",
            count: 4,
            assignments: [[0]],
            error: .invalidReplicaAssignment,
            partitionsAfter: 2
        ),
    ]

    @Test(arguments: createPartitionsCases, CreatePartitionsRequest.versions)
    func createPartitions(_ test: CreatePartitionsCase, version: Int16) async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", partitions: 2)
        let request = CreatePartitionsRequest(
            topics: [
                .init(
                    name: "t",
                    count: test.count,
                    assignments: test.assignments.map { $0.map { .init(brokerIds: $0) } }
                )
            ],
            timeoutMs: 1000,
            validateOnly: test.validateOnly
        )
        let result = try #require(try await roundTrip(broker, request, version: version)?.results.first)
        #expect(result.name == "t")
        #expect(result.errorCode == test.error)
        #expect((result.errorMessage == nil) == (test.error == .none))
        #expect(try await self.partitionCount(broker, "t") == test.partitionsAfter)
    }

    @Test(arguments: CreatePartitionsRequest.versions)
    func createPartitionsRefusals(version: Int16) async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", partitions: 1)
        let request = CreatePartitionsRequest(
            topics: [
                .init(name: "t", count: 3), .init(name: "missing", count: 3), .init(name: "t", count: 4),
                .init(name: "__consumer_offsets", count: 100), .init(name: "__transaction_state", count: 100),
            ],
            timeoutMs: 1000
        )
        let results = try #require(try await roundTrip(broker, request, version: version)?.results)
        #expect(results.map(\.name) == ["t", "missing", "t", "__consumer_offsets", "__transaction_state"])
        #expect(
            results.map(\.errorCode) == [
                .invalidRequest, .unknownTopicOrPartition, .invalidRequest, .invalidRequest, .invalidRequest,
            ]
        )
        #expect(try await self.partitionCount(broker, "t") == 1)
    }

    @Test func newPartitionsTakeRecords() async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", partitions: 1)
        let request = CreatePartitionsRequest(topics: [.init(name: "t", count: 3, assignments: nil)], timeoutMs: 1000)
        #expect(try await roundTrip(broker, request, version: 3)?.results.first?.errorCode == KafkaErrorCode.none)
        try await self.produce(broker, "t", partition: 2, ["a", "b"])
        let fetch = FetchRequest(
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            topics: [.init(topic: "t", partitions: [.init(partition: 2, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        )
        let partition = try #require(try await roundTrip(broker, fetch, version: 11)?.responses.first?.partitions.first)
        #expect(partition.errorCode == KafkaErrorCode.none)
        #expect(partition.highWatermark == 2)
    }

    // MARK: DeleteRecords

    struct DeleteRecordsCase: Sendable, CustomTestStringConvertible {
        var name: String
        var topic = "t"
        var partition: Int32 = 0
        var offset: Int64
        var error: KafkaErrorCode
        var lowWatermark: Int64
        /// The earliest offset ListOffsets answers afterwards.
        var earliestAfter: Int64
        var testDescription: String { self.name }
    }

    static let deleteRecordsCases: [DeleteRecordsCase] = [
        .init(name: "to an offset", offset: 3, error: .none, lowWatermark: 3, earliestAfter: 3),
        .init(name: "to the high watermark", offset: 5, error: .none, lowWatermark: 5, earliestAfter: 5),
        .init(name: "-1 is the high watermark", offset: -1, error: .none, lowWatermark: 5, earliestAfter: 5),
        .init(name: "to the start", offset: 0, error: .none, lowWatermark: 0, earliestAfter: 0),
        .init(name: "past the high watermark", offset: 6, error: .offsetOutOfRange, lowWatermark: -1, earliestAfter: 0),
        .init(name: "negative", offset: -2, error: .offsetOutOfRange, lowWatermark: -1, earliestAfter: 0),
        .init(
            name: "unknown partition",
            partition: 7,
            offset: 1,
            error: .unknownTopicOrPartition,
            lowWatermark: -1,
            earliestAfter: 0
        ),
        .init(
            name: "unknown topic",
            topic: "missing",
            offset: 1,
            error: .unknownTopicOrPartition,
            lowWatermark: -1,
            earliestAfter: 0
        ),
        .init(
            name: "internal topic",
            topic: "__consumer_offsets",
            offset: 0,
            error: .invalidTopicException,
            lowWatermark: -1,
            earliestAfter: 0
        ),
        .init(
            name: "transaction state topic",
            topic: "__transaction_state",
            offset: 0,
            error: .invalidTopicException,
            lowWatermark: -1,
            earliestAfter: 0
        ),
    ]

    @Test(arguments: deleteRecordsCases, DeleteRecordsRequest.versions)
    func deleteRecords(_ test: DeleteRecordsCase, version: Int16) async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", partitions: 1)
        try await self.produce(broker, "t", partition: 0, ["0", "1", "2", "3", "4"])
        let request = DeleteRecordsRequest(
            topics: [.init(name: test.topic, partitions: [.init(partitionIndex: test.partition, offset: test.offset)])],
            timeoutMs: 1000
        )
        let topic = try #require(try await roundTrip(broker, request, version: version)?.topics.first)
        #expect(topic.name == test.topic)
        let partition = try #require(topic.partitions.first)
        #expect(partition.partitionIndex == test.partition)
        #expect(partition.errorCode == test.error)
        #expect(partition.lowWatermark == test.lowWatermark)
        #expect(try await self.earliestOffset(broker, "t", partition: 0) == test.earliestAfter)
    }

    @Test func deleteRecordsNeverMovesTheLogStartBack() async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", partitions: 1)
        try await self.produce(broker, "t", partition: 0, ["0", "1", "2", "3"])
        for (offset, expected) in [(Int64(3), Int64(3)), (1, 3)] {
            let request = DeleteRecordsRequest(
                topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, offset: offset)])],
                timeoutMs: 1000
            )
            let partition = try await roundTrip(broker, request, version: 2)?.topics.first?.partitions.first
            #expect(partition?.errorCode == KafkaErrorCode.none)
            #expect(partition?.lowWatermark == expected)
        }
    }

    // MARK: DescribeCluster

    struct DescribeClusterCase: Sendable, CustomTestStringConvertible {
        var name: String
        var version: Int16
        var endpointType: Int8 = 1
        var includeOperations = false
        var error: KafkaErrorCode
        var operations: Int32 = Int32.min
        var testDescription: String { "\(self.name) v\(self.version)" }
    }

    /// Every cluster operation: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
    /// ALTER_CONFIGS, IDEMPOTENT_WRITE (what Kafka reports without an authorizer).
    static let allClusterOperations: Int32 = 0b1_1111_1010_0000

    static let describeClusterCases: [DescribeClusterCase] =
        DescribeClusterRequest.versions.flatMap { version in
            [
                DescribeClusterCase(name: "brokers", version: version, error: .none),
                DescribeClusterCase(
                    name: "with operations",
                    version: version,
                    includeOperations: true,
                    error: .none,
                    operations: allClusterOperations
                ),
            ]
        } + [
            .init(name: "controllers", version: 1, endpointType: 2, error: .mismatchedEndpointType),
            .init(name: "unknown endpoint type", version: 1, endpointType: 9, error: .unsupportedEndpointType),
        ]

    /// Metadata v8–v10 carry the cluster's authorized operations too (librdkafka's describe_cluster
    /// asks Metadata v10, not DescribeCluster).
    @Test(arguments: [Int16(8), 9, 10])
    func metadataReportsClusterAuthorizedOperations(version: Int16) async throws {
        let broker = try await makeBroker()
        let asked = try await roundTrip(
            broker,
            MetadataRequest(topics: [], includeClusterAuthorizedOperations: true),
            version: version
        )
        #expect(asked?.clusterAuthorizedOperations == Self.allClusterOperations)
        let notAsked = try await roundTrip(broker, MetadataRequest(topics: []), version: version)
        #expect(notAsked?.clusterAuthorizedOperations == Int32.min)
    }

    @Test(arguments: describeClusterCases)
    func describeCluster(_ test: DescribeClusterCase) async throws {
        var configuration = BrokerConfiguration()
        configuration.nodeId = 7
        configuration.clusterId = "admin-test"
        configuration.advertisedHost = "broker.example"
        configuration.advertisedPort = 9999
        let broker = try await makeBroker(configuration: configuration)
        let request = DescribeClusterRequest(
            includeClusterAuthorizedOperations: test.includeOperations,
            endpointType: test.endpointType
        )
        let response = try #require(try await roundTrip(broker, request, version: test.version))
        #expect(response.errorCode == test.error)
        guard test.error == .none else {
            #expect(response.errorMessage != nil)
            #expect(response.brokers.isEmpty)
            return
        }
        #expect(response.errorMessage == nil)
        #expect(response.clusterId == "admin-test")
        #expect(response.controllerId == 7)
        #expect(response.endpointType == 1)
        #expect(
            response.brokers == [.init(brokerId: 7, host: "broker.example", port: 9999, rack: nil)]
        )
        #expect(response.clusterAuthorizedOperations == test.operations)
    }
}
