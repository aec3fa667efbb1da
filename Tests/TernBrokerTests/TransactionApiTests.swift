import NIOCore
import TernRecords
import TernStorage
import TernWire
import Testing

@testable import TernBroker

/// The transaction APIs through `Broker.handle`, with Kafka's answers for good and bad requests:
/// coordinator lookup, InitProducerId epochs and fencing, AddPartitionsToTxn errors per version,
/// EndTxn outside a transaction, the produce path's checks, markers in the log, describe/list,
/// and state surviving a restart.
@Suite struct TransactionApiTests {
    static func open(_ fileSystem: InMemoryFileSystem) async throws -> Broker {
        let logs = try await LogManager.open(
            dataDirectory: "/data",
            defaultConfig: LogConfig(),
            fileSystem: fileSystem,
            logger: quietLogger
        )
        return try Broker(configuration: BrokerConfiguration(), logs: logs, logger: quietLogger)
    }

    static func createTopic(_ broker: Broker, _ name: String, partitions: Int32 = 2) async throws {
        let created = try await roundTrip(
            broker,
            CreateTopicsRequest(topics: [.init(name: name, numPartitions: partitions, replicationFactor: 1)]),
            version: 3
        )
        #expect(created?.topics.first?.errorCode == KafkaErrorCode.none)
    }

    static func initProducer(_ broker: Broker, _ transactionalId: String, version: Int16 = 1) async throws
        -> InitProducerIdResponse
    {
        try #require(
            try await roundTrip(
                broker,
                InitProducerIdRequest(transactionalId: transactionalId, transactionTimeoutMs: 60_000),
                version: version
            )
        )
    }

    static func addPartitions(
        _ broker: Broker,
        _ transactionalId: String,
        producerId: Int64,
        epoch: Int16,
        _ partitions: [String: [Int32]],
        version: Int16 = 3
    ) async throws -> [String: [Int32: KafkaErrorCode]] {
        let response = try #require(
            try await roundTrip(
                broker,
                AddPartitionsToTxnRequest(
                    v3AndBelowTransactionalId: transactionalId,
                    v3AndBelowProducerId: producerId,
                    v3AndBelowProducerEpoch: epoch,
                    v3AndBelowTopics: partitions.keys.sorted().map { .init(name: $0, partitions: partitions[$0]!) }
                ),
                version: version
            )
        )
        var errors: [String: [Int32: KafkaErrorCode]] = [:]
        for topic in response.resultsByTopicV3AndBelow {
            for partition in topic.resultsByPartition {
                errors[topic.name, default: [:]][partition.partitionIndex] = partition.partitionErrorCode
            }
        }
        return errors
    }

    static func endTxn(_ broker: Broker, _ transactionalId: String, producerId: Int64, epoch: Int16, commit: Bool)
        async throws -> KafkaErrorCode?
    {
        try await roundTrip(
            broker,
            EndTxnRequest(
                transactionalId: transactionalId,
                producerId: producerId,
                producerEpoch: epoch,
                committed: commit
            ),
            version: 3
        )?.errorCode
    }

    static func transactionalBatch(producerId: Int64, epoch: Int16, sequence: Int32, values: [String]) throws
        -> ByteBuffer
    {
        var builder = RecordBatchBuilder(
            isTransactional: true,
            producerId: producerId,
            producerEpoch: epoch,
            baseSequence: sequence
        )
        for value in values {
            builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: 1_700_000_000_000)
        }
        return try builder.build()
    }

    static func produce(
        _ broker: Broker,
        transactionalId: String?,
        topic: String,
        partition: Int32,
        _ records: ByteBuffer
    ) async throws -> ProduceResponse.PartitionProduceResponse? {
        try await roundTrip(
            broker,
            ProduceRequest(
                transactionalId: transactionalId,
                acks: -1,
                timeoutMs: 1000,
                topicData: [.init(name: topic, partitionData: [.init(index: partition, records: records)])]
            ),
            version: 8
        )?.responses.first?.partitionResponses.first
    }

    @Test(arguments: [Int16(1), 3, 4])
    func findCoordinatorAnswersForTransactionalIds(version: Int16) async throws {
        let broker = try await makeBroker()
        let request =
            version >= 4
            ? FindCoordinatorRequest(keyType: 1, coordinatorKeys: ["tx"])
            : FindCoordinatorRequest(key: "tx", keyType: 1)
        let response = try #require(try await roundTrip(broker, request, version: version))
        let (errorCode, nodeId) =
            version >= 4
            ? (response.coordinators.first?.errorCode, response.coordinators.first?.nodeId)
            : (response.errorCode, response.nodeId)
        #expect(errorCode == KafkaErrorCode.none)
        #expect(nodeId == 0)
    }

    @Test func initProducerIdBumpsTheEpochAndFencesTheOldProducer() async throws {
        let broker = try await makeBroker()
        let first = try await Self.initProducer(broker, "tx")
        #expect(first.errorCode == KafkaErrorCode.none)
        #expect(first.producerId >= 0 && first.producerEpoch == 0)
        let second = try await Self.initProducer(broker, "tx")
        #expect(second.producerId == first.producerId && second.producerEpoch == 1)
        // The first producer's epoch is stale now: fenced, with the code its version knows.
        try await Self.createTopic(broker, "t")
        let fencedOld = try await Self.addPartitions(
            broker,
            "tx",
            producerId: first.producerId,
            epoch: 0,
            ["t": [0]],
            version: 1
        )
        #expect(fencedOld == ["t": [0: .invalidProducerEpoch]])
        let fencedNew = try await Self.addPartitions(broker, "tx", producerId: first.producerId, epoch: 0, ["t": [0]])
        #expect(fencedNew == ["t": [0: .producerFenced]])
        // A timeout above transaction.max.timeout.ms is refused.
        let tooLong = try await roundTrip(
            broker,
            InitProducerIdRequest(transactionalId: "tx", transactionTimeoutMs: 900_001),
            version: 1
        )
        #expect(tooLong?.errorCode == .invalidTransactionTimeout)
    }

    @Test func addPartitionsRefusesUnknownProducersAndPartitions() async throws {
        let broker = try await makeBroker()
        try await Self.createTopic(broker, "t")
        let unknown = try await Self.addPartitions(broker, "nobody", producerId: 42, epoch: 0, ["t": [0]])
        #expect(unknown == ["t": [0: .invalidProducerIdMapping]])
        let producer = try await Self.initProducer(broker, "tx")
        let missing = try await Self.addPartitions(
            broker,
            "tx",
            producerId: producer.producerId,
            epoch: producer.producerEpoch,
            ["t": [0, 7], "missing": [0]]
        )
        #expect(
            missing == [
                "t": [0: .operationNotAttempted, 7: .unknownTopicOrPartition], "missing": [0: .unknownTopicOrPartition],
            ]
        )
        let wrongId = try await Self.addPartitions(
            broker,
            "tx",
            producerId: producer.producerId + 1,
            epoch: producer.producerEpoch,
            ["t": [0]]
        )
        #expect(wrongId == ["t": [0: .invalidProducerIdMapping]])
    }

    @Test func endTxnOutsideATransactionIsAnInvalidState() async throws {
        let broker = try await makeBroker()
        let producer = try await Self.initProducer(broker, "tx")
        #expect(
            try await Self.endTxn(
                broker,
                "tx",
                producerId: producer.producerId,
                epoch: producer.producerEpoch,
                commit: true
            )
                == .invalidTxnState
        )
        #expect(
            try await Self.endTxn(broker, "unknown", producerId: 1, epoch: 0, commit: false)
                == .invalidProducerIdMapping
        )
    }

    /// A transactional batch needs its partition added first; a committed transaction leaves a
    /// COMMIT control batch after its records, and the coordinator returns to CompleteCommit.
    @Test func producedRecordsAndMarkersFollowTheTransaction() async throws {
        let broker = try await makeBroker()
        try await Self.createTopic(broker, "t")
        let producer = try await Self.initProducer(broker, "tx")
        let (id, epoch) = (producer.producerId, producer.producerEpoch)
        let early = try await Self.produce(
            broker,
            transactionalId: "tx",
            topic: "t",
            partition: 0,
            try Self.transactionalBatch(producerId: id, epoch: epoch, sequence: 0, values: ["early"])
        )
        #expect(early?.errorCode == .invalidTxnState)
        let withoutId = try await Self.produce(
            broker,
            transactionalId: nil,
            topic: "t",
            partition: 0,
            try Self.transactionalBatch(producerId: id, epoch: epoch, sequence: 0, values: ["no id"])
        )
        #expect(withoutId?.errorCode == .invalidRecord)

        #expect(
            try await Self.addPartitions(broker, "tx", producerId: id, epoch: epoch, ["t": [0]]) == ["t": [0: .none]]
        )
        let written = try await Self.produce(
            broker,
            transactionalId: "tx",
            topic: "t",
            partition: 0,
            try Self.transactionalBatch(producerId: id, epoch: epoch, sequence: 0, values: ["a", "b"])
        )
        #expect(written?.errorCode == KafkaErrorCode.none)
        #expect(try await Self.endTxn(broker, "tx", producerId: id, epoch: epoch, commit: true) == KafkaErrorCode.none)

        let log = try #require(broker.logs.partition(topic: "t", index: 0))
        // Markers are written after EndTxn is answered; wait a bounded time for the COMMIT.
        var described = ""
        for _ in 0..<200 {
            described =
                try await roundTrip(broker, DescribeTransactionsRequest(transactionalIds: ["tx"]), version: 0)?
                .transactionStates.first?.transactionState ?? ""
            if described == "CompleteCommit" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(described == "CompleteCommit")
        #expect(log.logEndOffset == 3)
        let batches = try RecordBatch.split(try log.read(from: 0, maxBytes: 1 << 20).records).batches
        #expect(batches.map(\.attributes.isControl) == [false, true])
        #expect(batches.map(\.attributes.isTransactional) == [true, true])
        let markerBatch = try #require(batches.last)
        let marker = try #require(try markerBatch.records(decompressionLimit: 1 << 20).first { _ in true })
        // Control record key: version 0, type 1 (COMMIT).
        #expect(marker.key.map { Array($0.readableBytesView) } == [0, 0, 0, 1])
        #expect(batches.last?.producerId == id)

        // EndTxn again with the same outcome is answered NONE; the other outcome is refused.
        #expect(try await Self.endTxn(broker, "tx", producerId: id, epoch: epoch, commit: true) == KafkaErrorCode.none)
        #expect(try await Self.endTxn(broker, "tx", producerId: id, epoch: epoch, commit: false) == .invalidTxnState)
    }

    @Test func describeAndListTransactions() async throws {
        let broker = try await makeBroker()
        try await Self.createTopic(broker, "t")
        let producer = try await Self.initProducer(broker, "open-tx")
        _ = try await Self.addPartitions(
            broker,
            "open-tx",
            producerId: producer.producerId,
            epoch: producer.producerEpoch,
            ["t": [1, 0]]
        )
        _ = try await Self.initProducer(broker, "idle-tx")
        let described = try #require(
            try await roundTrip(
                broker,
                DescribeTransactionsRequest(transactionalIds: ["open-tx", "missing"]),
                version: 0
            )
        )
        #expect(described.transactionStates.map(\.errorCode) == [.none, .transactionalIdNotFound])
        let open = try #require(described.transactionStates.first)
        #expect(open.transactionState == "Ongoing" && open.producerId == producer.producerId)
        #expect(open.topics.map(\.topic) == ["t"] && open.topics.first?.partitions == [0, 1])
        #expect(open.transactionTimeoutMs == 60_000 && open.transactionStartTimeMs > 0)

        let all = try #require(try await roundTrip(broker, ListTransactionsRequest(), version: 1))
        #expect(Set(all.transactionStates.map(\.transactionalId)) == ["open-tx", "idle-tx"])
        let ongoing = try #require(
            try await roundTrip(broker, ListTransactionsRequest(stateFilters: ["Ongoing", "Bogus"]), version: 0)
        )
        #expect(ongoing.transactionStates.map(\.transactionalId) == ["open-tx"])
        #expect(ongoing.unknownStateFilters == ["Bogus"])
    }

    /// `__transaction_state` is replayed at start: a transactional id keeps its producer id and
    /// epoch, and an open transaction stays open.
    @Test func stateSurvivesARestart() async throws {
        let fileSystem = InMemoryFileSystem()
        let first = try await Self.open(fileSystem)
        try await Self.createTopic(first, "t")
        let producer = try await Self.initProducer(first, "tx")
        _ = try await Self.addPartitions(
            first,
            "tx",
            producerId: producer.producerId,
            epoch: producer.producerEpoch,
            ["t": [0]]
        )
        try await first.logs.close()

        let second = try await Self.open(fileSystem)
        let described = try await roundTrip(second, DescribeTransactionsRequest(transactionalIds: ["tx"]), version: 0)?
            .transactionStates.first
        #expect(described?.transactionState == "Ongoing")
        #expect(described?.producerId == producer.producerId)
        // A new producer for the id aborts the open transaction (CONCURRENT_TRANSACTIONS meanwhile)
        // and then gets the next epoch but one: the abort itself bumped it.
        var next = try await Self.initProducer(second, "tx")
        for _ in 0..<200 where next.errorCode == .concurrentTransactions {
            try await Task.sleep(for: .milliseconds(10))
            next = try await Self.initProducer(second, "tx")
        }
        #expect(next.errorCode == KafkaErrorCode.none)
        #expect(next.producerId == producer.producerId && next.producerEpoch == producer.producerEpoch + 2)
        try await second.logs.close()
    }
}
