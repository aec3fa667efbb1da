import NIOCore
import TernBroker
import TernRecords
import TernStorage
import TernWire
import Testing

@Suite struct BrokerHandlerTests {
    private func batch(_ values: [String], timestampMs: Int64 = 1_700_000_000_000) throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for (index, value) in values.enumerated() {
            builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: timestampMs + Int64(index))
        }
        return try builder.build()
    }

    private func produce(_ broker: Broker, _ topic: String, _ values: [String], acks: Int16 = 1) async throws
        -> ProduceResponse.PartitionProduceResponse?
    {
        let request = ProduceRequest(
            acks: acks,
            timeoutMs: 1000,
            topicData: [.init(name: topic, partitionData: [.init(index: 0, records: try batch(values))])]
        )
        return try await roundTrip(broker, request, version: 7)?.responses.first?.partitionResponses.first
    }

    @Test func aCompactedTopicRefusesRecordsWithoutAKey() async throws {
        let broker = try await makeBroker()
        let created = try await roundTrip(
            broker,
            CreateTopicsRequest(
                topics: [
                    .init(
                        name: "changelog",
                        numPartitions: 1,
                        replicationFactor: 1,
                        configs: [.init(name: "cleanup.policy", value: "compact")]
                    )
                ]
            ),
            version: 3
        )
        #expect(created?.topics.first?.errorCode == KafkaErrorCode.none)
        let keyless = ProduceRequest(
            acks: 1,
            timeoutMs: 1000,
            topicData: [.init(name: "changelog", partitionData: [.init(index: 0, records: try batch(["no key"]))])]
        )
        let refused = try await roundTrip(broker, keyless, version: 8)?.responses.first?.partitionResponses.first
        #expect(refused?.errorCode == .invalidRecord)
        #expect(refused?.errorMessage?.contains("Compacted topic cannot accept message without key") == true)

        var builder = RecordBatchBuilder()
        builder.append(key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"), timestampMs: 1_700_000_000_000)
        let request = ProduceRequest(
            acks: 1,
            timeoutMs: 1000,
            topicData: [.init(name: "changelog", partitionData: [.init(index: 0, records: try builder.build())])]
        )
        let accepted = try await roundTrip(broker, request, version: 8)?.responses.first?.partitionResponses.first
        #expect(accepted?.errorCode == KafkaErrorCode.none)
        #expect(accepted?.baseOffset == 0)
    }

    @Test(arguments: ["__consumer_offsets", "__transaction_state"])
    func clientsCannotProduceToTheCoordinatorsTopics(topic: String) async throws {
        let broker = try await makeBroker()
        let refused = try await produce(broker, topic, ["forged"])
        #expect(refused?.errorCode == .invalidTopicException)
    }

    @Test func metadataAutoCreatesOnlyWhenAllowed() async throws {
        var configuration = BrokerConfiguration()
        configuration.defaultPartitionCount = 3
        let broker = try await makeBroker(configuration: configuration)
        let refused = try await roundTrip(
            broker,
            MetadataRequest(topics: [.init(name: "orders")], allowAutoTopicCreation: false),
            version: 4
        )
        #expect(refused?.topics.first?.errorCode == .unknownTopicOrPartition)
        let created = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "orders")]), version: 4)
        #expect(created?.topics.first?.errorCode == KafkaErrorCode.none)
        #expect(created?.topics.first?.partitions.map(\.partitionIndex) == [0, 1, 2])
        #expect(created?.controllerId == 0)
        let invalid = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "bad/name")]), version: 4)
        #expect(invalid?.topics.first?.errorCode == .invalidTopicException)
        let all = try await roundTrip(broker, MetadataRequest(topics: nil), version: 1)
        // The coordinators' internal topics are listed too, marked internal, as Kafka does.
        #expect(all?.topics.map(\.name) == ["__consumer_offsets", "__transaction_state", "orders"])
        #expect(all?.topics.map(\.isInternal) == [true, true, false])
    }

    @Test func createTopicsValidates() async throws {
        let broker = try await makeBroker()
        func create(_ topic: CreateTopicsRequest.CreatableTopic, validateOnly: Bool = false) async throws
            -> KafkaErrorCode?
        {
            try await roundTrip(broker, CreateTopicsRequest(topics: [topic], validateOnly: validateOnly), version: 3)?
                .topics.first?.errorCode
        }
        func topic(
            _ name: String,
            _ partitions: Int32 = 1,
            replication: Int16 = 1,
            configs: [CreateTopicsRequest.CreatableTopicConfig] = []
        )
            -> CreateTopicsRequest.CreatableTopic
        {
            .init(
                name: name,
                numPartitions: partitions,
                replicationFactor: replication,
                assignments: [],
                configs: configs
            )
        }
        #expect(try await create(topic("t"), validateOnly: true) == KafkaErrorCode.none)
        #expect(try await create(topic("t")) == KafkaErrorCode.none)
        #expect(try await create(topic("t")) == .topicAlreadyExists)
        #expect(try await create(topic("u", 0)) == .invalidPartitions)
        #expect(try await create(topic("u", replication: 3)) == .invalidReplicationFactor)
        #expect(try await create(topic("..")) == .invalidTopicException)
        #expect(try await create(topic("u", configs: [.init(name: "retention.ms", value: "soon")])) == .invalidConfig)
        #expect(try await create(topic("u", configs: [.init(name: "no.such.key", value: "1")])) == .invalidConfig)
        #expect(broker.configuration.defaultPartitionCount == 1)
        let described = try await roundTrip(
            broker,
            DescribeConfigsRequest(resources: [
                .init(resourceType: .topic, resourceName: "t", configurationKeys: ["retention.ms"])
            ]),
            version: 1
        )
        #expect(described?.results.first?.configs.map(\.name) == ["retention.ms"])
        #expect(described?.results.first?.configs.first?.configSource == .defaultConfig)
    }

    /// A fetch waiting for min_bytes answers as soon as a produce lands, long before max_wait.
    @Test func longPollingFetchWakesOnProduce() async throws {
        // max_wait far above the bound below: a fetch that is never woken waits it out and fails.
        var configuration = BrokerConfiguration()
        configuration.fetchMaxWaitMs = 120_000
        let broker = try await makeBroker(configuration: configuration)
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "events")]), version: 4)
        let fetch = FetchRequest(
            maxWaitMs: 120_000,
            minBytes: 1,
            topics: [
                .init(topic: "events", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])
            ]
        )
        let started = ContinuousClock.now
        async let fetched = roundTrip(broker, fetch, version: 11)
        try await Task.sleep(for: .milliseconds(100))
        let produced = try await produce(broker, "events", ["hello"])
        #expect(produced?.errorCode == KafkaErrorCode.none)
        let response = try await fetched
        let waited = ContinuousClock.now - started
        // Generous for a loaded machine (stalls of ~13 s seen), and far below max_wait: the append
        // woke the fetch.
        #expect(waited < .seconds(40), "the fetch waited \(waited) although data arrived after 100 ms")
        let records = try #require(response?.responses.first?.partitions.first?.records)
        #expect(try RecordBatch.split(records).batches.count == 1)
        #expect(response?.responses.first?.partitions.first?.highWatermark == 1)
    }

    @Test func fetchWithoutDataWaitsForMaxWait() async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "quiet")]), version: 4)
        let started = ContinuousClock.now
        let response = try await roundTrip(
            broker,
            FetchRequest(
                maxWaitMs: 200,
                minBytes: 1,
                topics: [
                    .init(topic: "quiet", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1024)])
                ]
            ),
            version: 11
        )
        #expect(ContinuousClock.now - started >= .milliseconds(190))
        #expect(response?.responses.first?.partitions.first?.records?.readableBytes == 0)
    }

    @Test func listOffsetsEarliestLatestAndByTime() async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "clock")]), version: 4)
        _ = try await produce(broker, "clock", ["a", "b"])
        var later = try batch(["c"], timestampMs: 1_800_000_000_000)
        later = later.slice()
        _ = try await roundTrip(
            broker,
            ProduceRequest(
                acks: -1,
                timeoutMs: 1000,
                topicData: [.init(name: "clock", partitionData: [.init(index: 0, records: later)])]
            ),
            version: 7
        )
        func lookup(_ timestamp: Int64) async throws -> ListOffsetsResponse.ListOffsetsPartitionResponse? {
            try await roundTrip(
                broker,
                ListOffsetsRequest(topics: [
                    .init(name: "clock", partitions: [.init(partitionIndex: 0, timestamp: timestamp)])
                ]),
                version: 2
            )?.topics.first?.partitions.first
        }
        #expect(try await lookup(-2)?.offset == 0)
        #expect(try await lookup(-1)?.offset == 3)
        #expect(try await lookup(1_700_000_000_001)?.offset == 1)
        #expect(try await lookup(1_750_000_000_000)?.offset == 2)
        let none = try await lookup(1_900_000_000_000)
        #expect(none?.offset == -1 && none?.timestamp == -1)
    }

    @Test func acksZeroSendsNoResponse() async throws {
        let broker = try await makeBroker()
        _ = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "fire")]), version: 4)
        #expect(try await produce(broker, "fire", ["x"], acks: 0) == nil)
        #expect(broker.configuration.autoCreateTopics)
        let latest = try await roundTrip(
            broker,
            ListOffsetsRequest(topics: [.init(name: "fire", partitions: [.init(partitionIndex: 0, timestamp: -1)])]),
            version: 2
        )
        #expect(latest?.topics.first?.partitions.first?.offset == 1)
    }
}
