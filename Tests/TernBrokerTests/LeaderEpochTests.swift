import NIOCore
import TernBroker
import TernRecords
import TernStorage
import TernWire
import Testing

/// Leader epochs through the broker: OffsetForLeaderEpoch, and the epoch checks and answers of
/// Fetch, ListOffsets and Metadata.
@Suite struct LeaderEpochTests {
    /// A broker whose topic `e` holds offsets 0–2 in epoch 0 and 3–4 in epoch 2, and whose current
    /// epoch is 5 (no data yet).
    static func brokerWithEpochs() async throws -> (Broker, PartitionLog) {
        let logs = try await LogManager.open(
            dataDirectory: "/data",
            defaultConfig: BrokerConfiguration().defaultLogConfig,
            fileSystem: InMemoryFileSystem(),
            logger: quietLogger
        )
        let broker = try Broker(configuration: BrokerConfiguration(), logs: logs, logger: quietLogger)
        try logs.createTopic("e", partitionCount: 1, configOverrides: [:])
        let log = try #require(logs.partition(topic: "e", index: 0))
        for (epoch, values) in [(Int32(0), ["a", "b", "c"]), (2, ["d", "e"])] {
            try await log.becomeLeader(epoch: epoch)
            for value in values {
                var builder = RecordBatchBuilder()
                builder.append(
                    key: nil,
                    value: ByteBuffer(string: value),
                    timestampMs: 1_700_000_000_000 + log.logEndOffset
                )
                let produced = try await roundTrip(
                    broker,
                    ProduceRequest(
                        acks: 1,
                        timeoutMs: 1000,
                        topicData: [.init(name: "e", partitionData: [.init(index: 0, records: try builder.build())])]
                    ),
                    version: 9
                )
                #expect(produced?.responses.first?.partitionResponses.first?.errorCode == KafkaErrorCode.none)
            }
        }
        try await log.becomeLeader(epoch: 5)
        return (broker, log)
    }

    static func offsetForLeaderEpoch(
        _ broker: Broker,
        version: Int16,
        _ partitions: [OffsetForLeaderEpochRequest.OffsetForLeaderPartition],
        topic: String = "e"
    ) async throws -> [OffsetForLeaderEpochResponse.EpochEndOffset] {
        let request = OffsetForLeaderEpochRequest(replicaId: -1, topics: [.init(topic: topic, partitions: partitions)])
        let response = try await roundTrip(broker, request, version: version)
        return try #require(response?.topics.first?.partitions)
    }

    /// (requested epoch, answered epoch, end offset): Kafka's `endOffsetFor` over 0@0, 2@3, 5@5.
    static let lookups: [(Int32, Int32, Int64)] = [(0, 0, 3), (1, 0, 3), (2, 2, 5), (4, 2, 5), (5, 5, 5), (6, -1, -1)]

    @Test(arguments: Int16(0)...4)
    func offsetForLeaderEpochAnswersTheEndOfEachEpoch(version: Int16) async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let answers = try await Self.offsetForLeaderEpoch(
            broker,
            version: version,
            Self.lookups.map { .init(partition: 0, currentLeaderEpoch: -1, leaderEpoch: $0.0) }
        )
        #expect(answers.count == Self.lookups.count)
        for (answer, lookup) in zip(answers, Self.lookups) {
            #expect(answer.errorCode == KafkaErrorCode.none)
            #expect(answer.endOffset == lookup.2, "epoch \(lookup.0)")
            // v0 has no epoch in its answer.
            #expect(answer.leaderEpoch == (version >= 1 ? lookup.1 : -1), "epoch \(lookup.0)")
        }
    }

    @Test(arguments: Int16(2)...4)
    func offsetForLeaderEpochChecksTheCurrentLeaderEpoch(version: Int16) async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let answers = try await Self.offsetForLeaderEpoch(
            broker,
            version: version,
            [
                .init(partition: 0, currentLeaderEpoch: 4, leaderEpoch: 2),
                .init(partition: 0, currentLeaderEpoch: 6, leaderEpoch: 2),
                .init(partition: 0, currentLeaderEpoch: 5, leaderEpoch: 2),
                .init(partition: 7, currentLeaderEpoch: 5, leaderEpoch: 2),
            ]
        )
        #expect(answers.map(\.errorCode) == [.fencedLeaderEpoch, .unknownLeaderEpoch, .none, .unknownTopicOrPartition])
        #expect(answers.map(\.endOffset) == [-1, -1, 5, -1])
        // The broker keeps serving after the refusals.
        let unknownTopic = try await Self.offsetForLeaderEpoch(
            broker,
            version: version,
            [.init(partition: 0, leaderEpoch: 0)],
            topic: "missing"
        )
        #expect(unknownTopic.map(\.errorCode) == [.unknownTopicOrPartition])
    }

    static func fetch(
        _ broker: Broker,
        version: Int16,
        offset: Int64,
        currentLeaderEpoch: Int32 = -1,
        lastFetchedEpoch: Int32 = -1
    ) async throws -> FetchResponse.PartitionData {
        let request = FetchRequest(
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            topics: [
                .init(
                    topic: "e",
                    partitions: [
                        .init(
                            partition: 0,
                            currentLeaderEpoch: currentLeaderEpoch,
                            fetchOffset: offset,
                            lastFetchedEpoch: lastFetchedEpoch,
                            partitionMaxBytes: 1 << 20
                        )
                    ]
                )
            ]
        )
        return try #require(try await roundTrip(broker, request, version: version)?.responses.first?.partitions.first)
    }

    @Test(arguments: [Int16(9), 12])
    func fetchChecksTheCurrentLeaderEpochAndReturnsStampedBatches(version: Int16) async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let fenced = try await Self.fetch(broker, version: version, offset: 0, currentLeaderEpoch: 4)
        #expect(fenced.errorCode == .fencedLeaderEpoch)
        #expect(fenced.records?.readableBytes == 0)
        let unknown = try await Self.fetch(broker, version: version, offset: 0, currentLeaderEpoch: 6)
        #expect(unknown.errorCode == .unknownLeaderEpoch)
        for current in [Int32(5), -1] {
            let served = try await Self.fetch(broker, version: version, offset: 0, currentLeaderEpoch: current)
            #expect(served.errorCode == KafkaErrorCode.none)
            let batches = try RecordBatch.split(try #require(served.records)).batches
            #expect(batches.map(\.partitionLeaderEpoch) == [0, 0, 0, 2, 2])
        }
    }

    /// (fetch offset, last fetched epoch) → the diverging epoch and end offset, nil when none.
    static let divergences: [(Int64, Int32, (Int32, Int64)?)] = [
        (3, 0, nil),  // epoch 0 ends at 3: a fetcher at 3 is consistent
        (4, 0, (0, 3)),  // it fetched past the end of epoch 0 here
        (4, 1, (0, 3)),  // epoch 1 never existed here: the last epoch before it and its end
        (5, 2, nil),
        (5, 5, nil),
    ]

    @Test(arguments: 0..<5)
    func fetchReportsADivergingEpoch(row: Int) async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let (offset, lastFetchedEpoch, expected) = Self.divergences[row]
        let answer = try await Self.fetch(broker, version: 12, offset: offset, lastFetchedEpoch: lastFetchedEpoch)
        #expect(answer.errorCode == KafkaErrorCode.none)
        if let (epoch, endOffset) = expected {
            #expect(answer.divergingEpoch == .init(epoch: epoch, endOffset: endOffset))
            #expect(answer.records?.readableBytes == 0)
        } else {
            #expect(answer.divergingEpoch == .init())
            // Read as usual: the batches from the offset, none at the log end.
            #expect((answer.records?.readableBytes ?? 0 > 0) == (offset < 5))
        }
    }

    @Test func fetchWithAnUnknownLastFetchedEpochIsOutOfRange() async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let answer = try await Self.fetch(broker, version: 12, offset: 5, lastFetchedEpoch: 7)
        #expect(answer.errorCode == .offsetOutOfRange)
        #expect(answer.divergingEpoch == .init())
        // Before v12 there is no last fetched epoch to check.
        let old = try await Self.fetch(broker, version: 11, offset: 5, lastFetchedEpoch: 7)
        #expect(old.errorCode == KafkaErrorCode.none)
    }

    static func listOffsets(
        _ broker: Broker,
        version: Int16,
        timestamp: Int64,
        currentLeaderEpoch: Int32 = -1
    ) async throws -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        let request = ListOffsetsRequest(
            replicaId: -1,
            topics: [
                .init(
                    name: "e",
                    partitions: [.init(partitionIndex: 0, currentLeaderEpoch: currentLeaderEpoch, timestamp: timestamp)]
                )
            ]
        )
        return try #require(try await roundTrip(broker, request, version: version)?.topics.first?.partitions.first)
    }

    @Test(arguments: Int16(4)...10)
    func listOffsetsChecksTheCurrentLeaderEpochAndAnswersTheOffsetsEpoch(version: Int16) async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let earliest = try await Self.listOffsets(broker, version: version, timestamp: -2)
        #expect(earliest.offset == 0 && earliest.leaderEpoch == 0)
        let latest = try await Self.listOffsets(broker, version: version, timestamp: -1, currentLeaderEpoch: 5)
        #expect(latest.offset == 5 && latest.leaderEpoch == 5)
        // Record 3 ("d") has timestamp base + 3 and was written in epoch 2.
        let byTime = try await Self.listOffsets(broker, version: version, timestamp: 1_700_000_000_003)
        #expect(byTime.offset == 3 && byTime.leaderEpoch == 2)
        let none = try await Self.listOffsets(broker, version: version, timestamp: 1_900_000_000_000)
        #expect(none.offset == -1 && none.leaderEpoch == -1)
        let fenced = try await Self.listOffsets(broker, version: version, timestamp: -1, currentLeaderEpoch: 4)
        #expect(fenced.errorCode == .fencedLeaderEpoch)
        let unknown = try await Self.listOffsets(broker, version: version, timestamp: -1, currentLeaderEpoch: 6)
        #expect(unknown.errorCode == .unknownLeaderEpoch)
    }

    @Test func metadataReportsTheLeaderEpoch() async throws {
        let (broker, _) = try await Self.brokerWithEpochs()
        let response = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "e")]), version: 12)
        #expect(response?.topics.first?.partitions.first?.leaderEpoch == 5)
    }
}
