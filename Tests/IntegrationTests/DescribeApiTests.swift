import Foundation
import NIOCore
import TernRecords
import TernWire
import Testing

/// DescribeLogDirs, DescribeTopicPartitions, DescribeProducers, ListPartitionReassignments,
/// ElectLeaders and DescribeClientQuotas from real clients' admin APIs (python/describe.py).
@Suite struct DescribeApiClientTests {
    @Test(arguments: ["kafka-python", "confluent"])
    func describeApis(client: String) async throws {
        try await withTernd { ternd in
            let result = try await runPython("describe.py", [client, ternd.bootstrap, ternd.dataDirectory.path])
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
            #expect(result.output.contains("\"elect_unknown\""), "\(result.output)")
        }
    }
}

/// The same APIs at every version with the generated codec, where the clients above cover one
/// version each (or none: no client here sends DescribeClientQuotas v0 or ElectLeaders v0), and
/// the bad requests: each gets Kafka's error code and the connection keeps serving.
@Suite struct DescribeApiVersionTests {
    private static let node: Int32 = 0

    private func createTopic(_ connection: RawConnection, _ name: String, partitions: Int32) async throws {
        let created = try await connection.send(
            CreateTopicsRequest(topics: [.init(name: name, numPartitions: partitions, replicationFactor: 1)]),
            version: 4
        )
        #expect(created.topics.map(\.errorCode) == [.none])
    }

    private func produce(
        _ connection: RawConnection,
        _ topic: String,
        partition: Int32,
        values: [String],
        producerId: Int64 = -1,
        baseSequence: Int32 = -1,
        timestampMs: Int64 = 1_700_000_000_000
    ) async throws {
        var builder = RecordBatchBuilder(
            producerId: producerId,
            producerEpoch: producerId >= 0 ? 0 : -1,
            baseSequence: baseSequence
        )
        for value in values { builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: timestampMs) }
        let response = try await connection.send(
            ProduceRequest(
                acks: 1,
                timeoutMs: 5000,
                topicData: [.init(name: topic, partitionData: [.init(index: partition, records: try builder.build())])]
            ),
            version: 9
        )
        #expect(response.responses.flatMap { $0.partitionResponses.map(\.errorCode) } == [.none])
    }

    /// The bytes of the partition's segment files, read from disk.
    private func segmentBytes(_ ternd: TerndProcess, _ topic: String, _ partition: Int32) throws -> Int64 {
        let directory = ternd.dataDirectory.appendingPathComponent("\(topic)-\(partition)")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".log") }
            .reduce(0) { total, name in
                let attributes = try FileManager.default.attributesOfItem(
                    atPath: directory.appendingPathComponent(name).path
                )
                return total + ((attributes[.size] as? NSNumber)?.int64Value ?? -1)
            }
    }

    /// The connection still answers after a refusal.
    private func stillServing(_ connection: RawConnection) async throws {
        let versions = try await connection.send(ApiVersionsRequest(), version: 3)
        #expect(versions.errorCode == .none)
    }

    @Test func describeLogDirsAtEveryVersion() async throws {
        try await withTernd { ternd in
            try await withRawConnection(port: ternd.port) { connection in
                try await createTopic(connection, "sized", partitions: 2)
                try await produce(connection, "sized", partition: 0, values: ["a", "bb", "ccc"])
                for version in DescribeLogDirsRequest.versions {
                    let response = try await connection.send(
                        DescribeLogDirsRequest(topics: [
                            .init(topic: "sized", partitions: [0, 1, 7]), .init(topic: "missing", partitions: [0]),
                        ]),
                        version: version
                    )
                    #expect(response.errorCode == .none)
                    let logDir = try #require(response.results.first)
                    #expect(response.results.count == 1)
                    #expect(logDir.errorCode == .none && logDir.logDir == ternd.dataDirectory.path)
                    // Unknown topics and partitions are left out, as Kafka does.
                    #expect(logDir.topics.map(\.name) == ["sized"], "v\(version)")
                    let partitions = logDir.topics.first?.partitions ?? []
                    #expect(partitions.map(\.partitionIndex) == [0, 1])
                    #expect(partitions.map(\.partitionSize) == [try segmentBytes(ternd, "sized", 0), 0])
                    #expect(partitions.allSatisfy { $0.offsetLag == 0 && !$0.isFutureKey })
                    #expect(partitions.first.map { $0.partitionSize > 0 } == true)
                    if version >= 4 {
                        let volume = try FileManager.default.attributesOfFileSystem(forPath: ternd.dataDirectory.path)
                        #expect(logDir.totalBytes == (volume[.systemSize] as? NSNumber)?.int64Value)
                        #expect(logDir.usableBytes > 0 && logDir.usableBytes <= logDir.totalBytes)
                    } else {
                        #expect(logDir.totalBytes == -1 && logDir.usableBytes == -1)
                    }
                    // Null topics: every partition, the internal offsets topic too.
                    let all = try await connection.send(DescribeLogDirsRequest(topics: nil), version: version)
                    let names = all.results.first?.topics.map(\.name) ?? []
                    #expect(names.contains("sized") && names.contains("__consumer_offsets"))
                    let none = try await connection.send(DescribeLogDirsRequest(topics: []), version: version)
                    #expect(none.results.first?.topics == [])
                }
            }
        }
    }

    @Test func describeTopicPartitionsPaginatesAndRefusesBadCursors() async throws {
        try await withTernd { ternd in
            try await withRawConnection(port: ternd.port) { connection in
                try await createTopic(connection, "pages-a", partitions: 2)
                try await createTopic(connection, "pages-b", partitions: 3)
                let named: [DescribeTopicPartitionsRequest.TopicRequest] = [
                    .init(name: "pages-b"), .init(name: "pages-a"), .init(name: "pages-none"),
                ]
                // Two partitions fill the limit with pages-a: the cursor points at pages-b's start.
                let first = try await connection.send(
                    DescribeTopicPartitionsRequest(topics: named, responsePartitionLimit: 2),
                    version: 0
                )
                #expect(first.topics.map(\.name) == ["pages-a"])
                #expect(first.topics.first?.partitions.map(\.partitionIndex) == [0, 1])
                #expect(first.nextCursor == .init(topicName: "pages-b", partitionIndex: 0))
                let partition = try #require(first.topics.first?.partitions.first)
                #expect(partition.leaderId == Self.node && partition.leaderEpoch == 0)
                #expect(partition.replicaNodes == [Self.node] && partition.isrNodes == [Self.node])
                #expect(partition.eligibleLeaderReplicas == [] && partition.lastKnownElr == [])
                #expect(first.topics.first?.topicAuthorizedOperations == 3576)

                let second = try await connection.send(
                    DescribeTopicPartitionsRequest(
                        topics: named,
                        responsePartitionLimit: 5,
                        cursor: .init(topicName: "pages-b", partitionIndex: 1)
                    ),
                    version: 0
                )
                // From the cursor on: pages-a sorts before it and is not repeated.
                #expect(second.topics.map(\.name) == ["pages-b", "pages-none"])
                #expect(second.topics.first?.partitions.map(\.partitionIndex) == [1, 2])
                #expect(second.topics.last?.errorCode == .unknownTopicOrPartition)
                #expect(second.nextCursor == nil)

                let ids = try await connection.send(
                    MetadataRequest(topics: [.init(name: "pages-a")], allowAutoTopicCreation: false),
                    version: 12
                )
                #expect(ids.topics.first?.topicId == first.topics.first?.topicId)
                #expect(first.topics.first?.topicId != .zero)

                // An empty list is every topic. A limit below 1 counts as 1: following the cursors
                // one partition at a time visits every partition once, in order.
                let everything = try await connection.send(DescribeTopicPartitionsRequest(topics: []), version: 0)
                var cursor: DescribeTopicPartitionsRequest.Cursor? = nil
                var visited: [String] = []
                repeat {
                    let page = try await connection.send(
                        DescribeTopicPartitionsRequest(topics: [], responsePartitionLimit: 0, cursor: cursor),
                        version: 0
                    )
                    #expect(page.topics.flatMap(\.partitions).count <= 1)
                    visited += page.topics.flatMap { topic in
                        topic.partitions.map { "\(topic.name!)-\($0.partitionIndex)" }
                    }
                    cursor = page.nextCursor.map { .init(topicName: $0.topicName, partitionIndex: $0.partitionIndex) }
                } while cursor != nil && visited.count < 1000
                #expect(
                    visited
                        == everything.topics.flatMap { topic in
                            topic.partitions.map { "\(topic.name!)-\($0.partitionIndex)" }
                        }
                )
                #expect(Set(everything.topics.compactMap(\.name)).isSuperset(of: ["pages-a", "pages-b"]))
                #expect(everything.topics.first { $0.name == "__consumer_offsets" }?.isInternal == true)
                #expect(everything.topics.allSatisfy { $0.errorCode == .none })

                // A cursor past the last partition names none, without a next cursor.
                let beyond = try await connection.send(
                    DescribeTopicPartitionsRequest(
                        topics: [.init(name: "pages-b")],
                        cursor: .init(topicName: "pages-b", partitionIndex: .max)
                    ),
                    version: 0
                )
                #expect(beyond.topics.map(\.partitions) == [[]] && beyond.nextCursor == nil)

                for cursor in [
                    DescribeTopicPartitionsRequest.Cursor(topicName: "pages-zzz", partitionIndex: 0),
                    .init(topicName: "pages-a", partitionIndex: -1),
                ] {
                    let refused = try await connection.send(
                        DescribeTopicPartitionsRequest(topics: named, cursor: cursor),
                        version: 0
                    )
                    #expect(refused.topics.map(\.errorCode) == Array(repeating: .invalidRequest, count: 3))
                    try await stillServing(connection)
                }
            }
        }
    }

    @Test func describeProducersReportsIdempotentProducerState() async throws {
        try await withTernd { ternd in
            try await withRawConnection(port: ternd.port) { connection in
                try await createTopic(connection, "idem", partitions: 2)
                let initialized = try await connection.send(InitProducerIdRequest(transactionalId: nil), version: 4)
                let producerId = initialized.producerId
                try await produce(
                    connection,
                    "idem",
                    partition: 0,
                    values: ["a", "b"],
                    producerId: producerId,
                    baseSequence: 0,
                    timestampMs: 1_700_000_000_000
                )
                try await produce(
                    connection,
                    "idem",
                    partition: 0,
                    values: ["c", "d", "e"],
                    producerId: producerId,
                    baseSequence: 2,
                    timestampMs: 1_700_000_000_500
                )
                // Not idempotent: no producer state.
                try await produce(connection, "idem", partition: 1, values: ["plain"])

                let response = try await connection.send(
                    DescribeProducersRequest(topics: [
                        .init(name: "idem", partitionIndexes: [0, 1, 5]), .init(name: "missing", partitionIndexes: [0]),
                    ]),
                    version: 0
                )
                let partitions = response.topics.flatMap { topic in topic.partitions.map { (topic.name, $0) } }
                #expect(
                    partitions.map { "\($0.0)-\($0.1.partitionIndex)" } == ["idem-0", "idem-1", "idem-5", "missing-0"]
                )
                let active = partitions[0].1.activeProducers
                #expect(
                    active == [
                        .init(
                            producerId: producerId,
                            producerEpoch: 0,
                            lastSequence: 4,
                            lastTimestamp: 1_700_000_000_500,
                            coordinatorEpoch: -1,
                            currentTxnStartOffset: -1
                        )
                    ]
                )
                #expect(partitions[1].1.errorCode == .none && partitions[1].1.activeProducers == [])
                for (_, unknown) in partitions[2...] {
                    #expect(unknown.errorCode == .unknownTopicOrPartition && unknown.errorMessage != nil)
                }
                try await stillServing(connection)
            }
        }
    }

    @Test func reassignmentsElectionsAndQuotasHaveNothingToDo() async throws {
        try await withTernd { ternd in
            try await withRawConnection(port: ternd.port) { connection in
                try await createTopic(connection, "led", partitions: 2)

                for topics: [ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics]? in [
                    nil,
                    [.init(name: "led", partitionIndexes: [0, 9]), .init(name: "missing", partitionIndexes: [0])],
                ] {
                    let listed = try await connection.send(
                        ListPartitionReassignmentsRequest(topics: topics),
                        version: 0
                    )
                    #expect(listed.errorCode == .none && listed.errorMessage == nil && listed.topics == [])
                }

                let named: [ElectLeadersRequest.TopicPartitions] = [
                    .init(topic: "led", partitions: [0, 1, 9]), .init(topic: "missing", partitions: [0]),
                ]
                for version in ElectLeadersRequest.versions {
                    for electionType: Int8 in version == 0 ? [0] : [0, 1] {
                        let elected = try await connection.send(
                            ElectLeadersRequest(electionType: electionType, topicPartitions: named),
                            version: version
                        )
                        #expect(elected.errorCode == .none)
                        let codes = elected.replicaElectionResults.flatMap { result in
                            result.partitionResult.map { "\(result.topic)-\($0.partitionId): \($0.errorCode)" }
                        }
                        #expect(
                            codes == [
                                "led-0: ELECTION_NOT_NEEDED(84)", "led-1: ELECTION_NOT_NEEDED(84)",
                                "led-9: UNKNOWN_TOPIC_OR_PARTITION(3)", "missing-0: UNKNOWN_TOPIC_OR_PARTITION(3)",
                            ],
                            "v\(version) type \(electionType)"
                        )
                    }
                    // All partitions: those that need no election are left out, as Kafka does.
                    let all = try await connection.send(ElectLeadersRequest(topicPartitions: nil), version: version)
                    #expect(all.errorCode == .none && all.replicaElectionResults == [])
                    if version >= 1 {
                        let refused = try await connection.send(
                            ElectLeadersRequest(electionType: 5, topicPartitions: named),
                            version: version
                        )
                        #expect(refused.errorCode == .invalidRequest)
                        #expect(
                            refused.replicaElectionResults.flatMap { $0.partitionResult.map(\.errorCode) }
                                == Array(repeating: .invalidRequest, count: 4)
                        )
                        try await stillServing(connection)
                    }
                }

                typealias Component = DescribeClientQuotasRequest.ComponentData
                for version in DescribeClientQuotasRequest.versions {
                    for components in [
                        [],
                        [Component(entityType: "user", matchType: 0, match: "alice")],
                        [
                            Component(entityType: "user", matchType: 1, match: nil),
                            Component(entityType: "client-id", matchType: 2, match: nil),
                        ],
                        [Component(entityType: "ip", matchType: 0, match: "127.0.0.1")],
                    ] {
                        let described = try await connection.send(
                            DescribeClientQuotasRequest(components: components, strict: true),
                            version: version
                        )
                        #expect(described.errorCode == .none && described.entries == [])
                    }
                    for (components, code) in [
                        ([Component(entityType: "user", matchType: 3, match: nil)], KafkaErrorCode.invalidRequest),
                        ([Component(entityType: "", matchType: 2, match: nil)], .invalidRequest),
                        (
                            Array(repeating: Component(entityType: "client-id", matchType: 2, match: nil), count: 2),
                            .invalidRequest
                        ),
                        (
                            [
                                Component(entityType: "ip", matchType: 2, match: nil),
                                Component(entityType: "client-id", matchType: 2, match: nil),
                            ], .invalidRequest
                        ),
                        ([Component(entityType: "tenant", matchType: 2, match: nil)], .unsupportedVersion),
                    ] {
                        let refused = try await connection.send(
                            DescribeClientQuotasRequest(components: components, strict: false),
                            version: version
                        )
                        #expect(refused.errorCode == code, "\(components)")
                        #expect(refused.entries == nil && refused.errorMessage?.isEmpty == false)
                        try await stillServing(connection)
                    }
                }
            }
        }
    }
}
