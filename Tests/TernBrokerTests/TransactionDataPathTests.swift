import NIOCore
import TernRecords
import TernStorage
import TernWire
import Testing

@testable import TernBroker

/// Fetch and ListOffsets over transactional data: the last stable offset, aborted transactions and
/// read committed bounds, with markers written through `Broker.appendTransactionMarker`.
@Suite struct TransactionDataPathTests {
    /// An open transaction on `topic`-0, begun through the coordinator (the produce path refuses
    /// transactional batches outside one).
    private struct OpenTransaction {
        var transactionalId: String
        var producerId: Int64
        var epoch: Int16
    }

    private func begin(_ broker: Broker, _ topic: String) async throws -> OpenTransaction {
        let transactionalId = "tx-\(topic)"
        let producer = try await TransactionApiTests.initProducer(broker, transactionalId)
        #expect(producer.errorCode == KafkaErrorCode.none)
        let added = try await TransactionApiTests.addPartitions(
            broker,
            transactionalId,
            producerId: producer.producerId,
            epoch: producer.producerEpoch,
            [topic: [0]]
        )
        #expect(added == [topic: [0: KafkaErrorCode.none]])
        return OpenTransaction(
            transactionalId: transactionalId,
            producerId: producer.producerId,
            epoch: producer.producerEpoch
        )
    }

    private func produce(
        _ broker: Broker,
        _ topic: String,
        _ value: String,
        producerId: Int64 = -1,
        sequence: Int32 = -1,
        in transaction: OpenTransaction? = nil
    ) async throws -> ProduceResponse.PartitionProduceResponse? {
        var builder = RecordBatchBuilder(
            isTransactional: transaction != nil,
            producerId: transaction?.producerId ?? producerId,
            producerEpoch: transaction?.epoch ?? (producerId >= 0 ? 0 : -1),
            baseSequence: transaction != nil ? 0 : sequence
        )
        builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: 1_700_000_000_000)
        let request = ProduceRequest(
            transactionalId: transaction?.transactionalId,
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

    /// Writes the transaction's marker directly (the coordinator's marker writes are asynchronous).
    private func end(_ broker: Broker, _ topic: String, _ transaction: OpenTransaction, commit: Bool = false)
        async throws
    {
        _ = try await broker.appendTransactionMarker(
            topicPartition: TopicPartition(topic: topic, partition: 0),
            producerId: transaction.producerId,
            producerEpoch: transaction.epoch,
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
        let transaction = try await begin(broker, topic)
        #expect(try await produce(broker, topic, "open", in: transaction)?.errorCode == KafkaErrorCode.none)
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

        try await self.end(broker, topic, transaction)
        let after = try #require(try await fetch(broker, topic, version: version, isolation: .readCommitted))
        #expect(after.lastStableOffset == 3)
        #expect(after.highWatermark == 3)
        #expect(after.abortedTransactions?.map(\.producerId) == [transaction.producerId])
        #expect(after.abortedTransactions?.map(\.firstOffset) == [0])
        #expect(try RecordBatch.split(try #require(after.records)).batches.count == 3)
    }

    @Test func listOffsetsLatestIsTheLastStableOffsetForReadCommitted() async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "lo")]), version: 4)
        _ = try await produce(broker, "lo", "plain")
        let transaction = try await begin(broker, "lo")
        _ = try await produce(broker, "lo", "open", in: transaction)
        _ = try await produce(broker, "lo", "later")
        #expect(try await latest(broker, "lo", isolation: .readCommitted) == 1)
        #expect(try await latest(broker, "lo", isolation: .readCommitted, version: 7) == 1)
        #expect(try await latest(broker, "lo", isolation: .readUncommitted) == 3)
        // ListOffsets v1 has no isolation level: the high watermark.
        #expect(try await latest(broker, "lo", isolation: .readCommitted, version: 1) == 3)
        try await self.end(broker, "lo", transaction, commit: true)
        #expect(try await latest(broker, "lo", isolation: .readCommitted) == 4)
    }

    /// A read committed long poll blocked on an open transaction wakes when the marker lands.
    @Test func aReadCommittedLongPollWakesOnTheMarker() async throws {
        var configuration = BrokerConfiguration()
        configuration.fetchMaxWaitMs = 120_000
        let broker = try await makeBroker(configuration: configuration)
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "lp")]), version: 4)
        let transaction = try await begin(broker, "lp")
        _ = try await produce(broker, "lp", "open", in: transaction)
        let started = ContinuousClock.now
        async let fetched = fetch(broker, "lp", version: 11, isolation: .readCommitted, maxWaitMs: 120_000, minBytes: 1)
        try await Task.sleep(for: .milliseconds(100))
        try await self.end(broker, "lp", transaction, commit: true)
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
