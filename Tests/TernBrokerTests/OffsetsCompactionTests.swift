import TernBroker
import TernRecords
import TernStorage
import TernWire
import Testing

/// `__consumer_offsets` is compacted like any compacted topic, and the coordinator's replay at
/// start reads the cleaned log (offset gaps, empty batches) into the same committed offsets.
@Suite struct OffsetsCompactionTests {
    @Test func theCleanedOffsetsLogReplaysToTheLatestCommits() async throws {
        let fileSystem = InMemoryFileSystem()
        var configuration = BrokerConfiguration()
        configuration.defaultLogConfig.segmentBytes = 4096
        var cleaner = LogCleanerConfig()
        cleaner.backoffMs = 10
        func open() async throws -> (LogManager, Broker) {
            let logs = try await LogManager.open(
                dataDirectory: "/data",
                defaultConfig: configuration.defaultLogConfig,
                fileSystem: fileSystem,
                logger: quietLogger,
                cleaner: cleaner
            )
            return (logs, try Broker(configuration: configuration, logs: logs, logger: quietLogger))
        }
        let (logs, broker) = try await open()
        _ = try await roundTrip(
            broker,
            CreateTopicsRequest(topics: [.init(name: "orders", numPartitions: 4, replicationFactor: 1)]),
            version: 3
        )
        let groups = ["g1", "g2", "g3"]
        for round in 1...60 {
            for group in groups {
                let commit = OffsetCommitRequest(
                    groupId: group,
                    generationIdOrMemberEpoch: -1,
                    topics: [
                        .init(
                            name: "orders",
                            partitions: (Int32(0)..<4).map {
                                .init(partitionIndex: $0, committedOffset: Int64(round * 10) + Int64($0))
                            }
                        )
                    ]
                )
                let answer = try await roundTrip(broker, commit, version: 8)
                #expect(answer?.topics.first?.partitions.allSatisfy { $0.errorCode == KafkaErrorCode.none } == true)
            }
        }
        let offsetsLog = try #require(logs.partition(topic: "__consumer_offsets", index: 0))
        let written = offsetsLog.logEndOffset
        #expect(written >= 720)
        // The cleaner thread compacts everything below the active segment.
        let deadline = ContinuousClock.now + .seconds(30)
        while (offsetsLog.statistics.cleanerDirtyRatio ?? 1) > 0, ContinuousClock.now < deadline {
            logs.logCleaner?.wakeUp()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(offsetsLog.statistics.cleanerDirtyRatio == 0)
        // Below the active segment: one record per group and partition, the 12 live keys.
        let activeBase = try #require(offsetsLog.segmentBaseOffsets.last)
        var cleanedRecordCount = 0
        var next = offsetsLog.logStartOffset
        while next < activeBase {
            let read = try offsetsLog.read(from: next, maxBytes: 1 << 20, upTo: activeBase)
            let (batches, _) = try RecordBatch.split(read.records)
            guard let last = batches.last else { break }
            for batch in batches { cleanedRecordCount += Int(batch.recordCount) }
            next = last.nextOffset
        }
        #expect(cleanedRecordCount == 12)
        #expect(written - activeBase > 0)
        try await logs.close()

        let (reopenedLogs, reopened) = try await open()
        let fetched = try await roundTrip(
            reopened,
            OffsetFetchRequest(
                groups: groups.map {
                    .init(groupId: $0, topics: [.init(name: "orders", partitionIndexes: [0, 1, 2, 3])])
                }
            ),
            version: 8
        )
        for group in fetched?.groups ?? [] {
            #expect(group.topics.first?.partitions.map(\.committedOffset) == [600, 601, 602, 603], "\(group.groupId)")
        }
        #expect(fetched?.groups.count == 3)
        try await reopenedLogs.close()
    }
}
