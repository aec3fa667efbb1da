import NIOCore
import TernRecords
import TernStorage
import TernWire
import Testing

@testable import TernBroker

/// Fetch and ListOffsets over transactional data: the last stable offset, aborted transactions and
/// read committed bounds, with markers written through `Broker.appendTransactionMarker`.
@Suite struct TransactionDataPathTests {
    private func produce(
        _ broker: Broker,
        _ topic: String,
        _ value: String,
        producerId: Int64 = -1,
        sequence: Int32 = -1,
        transactional: Bool = false
    ) async throws -> ProduceResponse.PartitionProduceResponse? {
        var builder = RecordBatchBuilder(
            isTransactional: transactional,
            producerId: producerId,
            producerEpoch: producerId >= 0 ? 0 : -1,
            baseSequence: sequence
        )
        builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: 1_700_000_000_000)
        let request = ProduceRequest(
            acks: 1,
            timeoutMs: 1000,
            topicData: [.init(name: topic, partitionData: [.init(index: 0, records: try builder.build())])]
        )
        return try await roundTrip(broker, request, version: 9)?.responses.first?.partitionResponses.first
    }

    private func fetch(
        _ broker: Broker,
        _ topic: String,
        version: Int16,
        isolation: IsolationLevel,
        maxWaitMs: Int32 = 0,
        minBytes: Int32 = 0
    ) async throws -> FetchResponse.PartitionData? {
        let request = FetchRequest(
            maxWaitMs: maxWaitMs,
            minBytes: minBytes,
            maxBytes: 1 << 20,
            isolationLevel: isolation,
            topics: [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        )
        return try await roundTrip(broker, request, version: version)?.responses.first?.partitions.first
    }

    private func latest(_ broker: Broker, _ topic: String, isolation: IsolationLevel, version: Int16 = 2) async throws
        -> Int64?
    {
        let request = ListOffsetsRequest(
            replicaId: -1,
            isolationLevel: isolation,
            topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: -1)])]
        )
        return try await roundTrip(broker, request, version: version)?.topics.first?.partitions.first?.offset
    }

    private func abort(_ broker: Broker, _ topic: String, producerId: Int64, commit: Bool = false) async throws {
        _ = try await broker.appendTransactionMarker(
            topicPartition: TopicPartition(topic: topic, partition: 0),
            producerId: producerId,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: commit,
            durability: .none
        )
    }

    /// Fetch v4+ answers the LSO, and aborted_transactions: a list (empty when none) for read
    /// committed, null for read uncommitted, as Kafka does.
    @Test(arguments: [Int16(4), 7, 11, 12])
    func fetchReadCommittedStopsAtTheLastStableOffsetAndListsAbortedTransactions(version: Int16) async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "tx")]), version: 4)
        let topic = "tx"
        #expect(
            try await produce(broker, topic, "open", producerId: 9, sequence: 0, transactional: true)?.errorCode
                == KafkaErrorCode.none
        )
        #expect(try await produce(broker, topic, "plain")?.errorCode == KafkaErrorCode.none)
        let committed = try #require(try await fetch(broker, topic, version: version, isolation: .readCommitted))
        #expect(committed.highWatermark == 2)
        #expect(committed.lastStableOffset == 0)
        #expect(committed.records?.readableBytes == 0)
        #expect(committed.abortedTransactions == [])
        let uncommitted = try #require(try await fetch(broker, topic, version: version, isolation: .readUncommitted))
        #expect(uncommitted.lastStableOffset == 0)
        #expect(uncommitted.abortedTransactions == nil)
        #expect(try RecordBatch.split(try #require(uncommitted.records)).batches.count == 2)

        try await self.abort(broker, topic, producerId: 9)
        let after = try #require(try await fetch(broker, topic, version: version, isolation: .readCommitted))
        #expect(after.lastStableOffset == 3)
        #expect(after.highWatermark == 3)
        #expect(after.abortedTransactions?.map(\.producerId) == [9])
        #expect(after.abortedTransactions?.map(\.firstOffset) == [0])
        #expect(try RecordBatch.split(try #require(after.records)).batches.count == 3)
    }

    @Test func listOffsetsLatestIsTheLastStableOffsetForReadCommitted() async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "lo")]), version: 4)
        _ = try await produce(broker, "lo", "plain")
        _ = try await produce(broker, "lo", "open", producerId: 4, sequence: 0, transactional: true)
        _ = try await produce(broker, "lo", "later")
        #expect(try await latest(broker, "lo", isolation: .readCommitted) == 1)
        #expect(try await latest(broker, "lo", isolation: .readCommitted, version: 7) == 1)
        #expect(try await latest(broker, "lo", isolation: .readUncommitted) == 3)
        // ListOffsets v1 has no isolation level: the high watermark.
        #expect(try await latest(broker, "lo", isolation: .readCommitted, version: 1) == 3)
        try await self.abort(broker, "lo", producerId: 4, commit: true)
        #expect(try await latest(broker, "lo", isolation: .readCommitted) == 4)
    }

    /// A read committed long poll blocked on an open transaction wakes when the marker lands.
    @Test func aReadCommittedLongPollWakesOnTheMarker() async throws {
        var configuration = BrokerConfiguration()
        configuration.fetchMaxWaitMs = 120_000
        let broker = try await makeBroker(configuration: configuration)
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "lp")]), version: 4)
        _ = try await produce(broker, "lp", "open", producerId: 2, sequence: 0, transactional: true)
        let started = ContinuousClock.now
        async let fetched = fetch(broker, "lp", version: 11, isolation: .readCommitted, maxWaitMs: 120_000, minBytes: 1)
        try await Task.sleep(for: .milliseconds(100))
        try await self.abort(broker, "lp", producerId: 2, commit: true)
        let response = try #require(try await fetched)
        let waited = ContinuousClock.now - started
        #expect(waited < .seconds(40), "the fetch waited \(waited) although the marker came after 100 ms")
        #expect(response.lastStableOffset == 2)
        #expect(try RecordBatch.split(try #require(response.records)).batches.count == 2)
    }

    /// Produce answers a retried batch with its original offset and writes it once.
    @Test func produceAnswersARetryWithItsOriginalOffset() async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "idem")]), version: 4)
        #expect(try await produce(broker, "idem", "a", producerId: 1, sequence: 0)?.baseOffset == 0)
        #expect(try await produce(broker, "idem", "b")?.baseOffset == 1)
        let retry = try await produce(broker, "idem", "a", producerId: 1, sequence: 0)
        #expect(retry?.errorCode == KafkaErrorCode.none && retry?.baseOffset == 0)
        #expect(
            try await produce(broker, "idem", "gap", producerId: 1, sequence: 3)?.errorCode == .outOfOrderSequenceNumber
        )
        #expect(try await latest(broker, "idem", isolation: .readUncommitted) == 2)
    }
}
