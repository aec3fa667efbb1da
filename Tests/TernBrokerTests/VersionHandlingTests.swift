import NIOCore
import TernBroker
import TernRecords
import TernWire
import Testing

/// What changes with the request version: batched groups, coordinator keys and members, topic ids,
/// v0 conventions, ListOffsets' special timestamps, and the answers Kafka gives where Tern once
/// differed (empty records on errors, deleted topics not auto-created again).
@Suite struct VersionHandlingTests {
    private func batch(_ values: [String], timestampMs: Int64 = 1_700_000_000_000) throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for (index, value) in values.enumerated() {
            builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: timestampMs + Int64(index))
        }
        return try builder.build()
    }

    private func produce(_ broker: Broker, _ topic: String, _ values: [String], timestampMs: Int64 = 1_700_000_000_000)
        async throws
    {
        let request = ProduceRequest(
            acks: 1,
            timeoutMs: 1000,
            topicData: [
                .init(
                    name: topic,
                    partitionData: [.init(index: 0, records: try batch(values, timestampMs: timestampMs))]
                )
            ]
        )
        let response = try await roundTrip(broker, request, version: 9)
        #expect(response?.responses.first?.partitionResponses.first?.errorCode == KafkaErrorCode.none)
    }

    private func createTopic(_ broker: Broker, _ name: String) async throws -> MetadataResponse.MetadataResponseTopic? {
        try await roundTrip(broker, MetadataRequest(topics: [.init(name: name)]), version: 12)?.topics.first
    }

    @Test func advertisesEveryVersionOfEveryServedSchema() {
        #expect(Broker.advertisedApis.count == KafkaRequest.servedApis.count)
        for (entry, served) in zip(Broker.advertisedApis, KafkaRequest.servedApis) {
            #expect(entry.apiKey == served.apiKey)
            #expect(entry.minVersion == 0, "\(entry.apiKey) must be served from v0")
            #expect(entry.maxVersion == served.versions.upperBound)
        }
        let produce = Broker.advertisedApis.first { $0.apiKey == .produce }
        #expect(produce?.maxVersion == 11)
        #expect(Broker.advertisedApis.first { $0.apiKey == .fetch }?.maxVersion == 17)
    }

    /// Metadata v0 asks for every topic with an empty list; v1+ with null, and an empty list asks
    /// for none.
    @Test func metadataEmptyTopicListMeansAllOnlyInVersionZero() async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "a")
        let v0 = try await roundTrip(broker, MetadataRequest(topics: []), version: 0)
        #expect(v0?.topics.map(\.name).contains("a") == true)
        let v1 = try await roundTrip(broker, MetadataRequest(topics: []), version: 1)
        #expect(v1?.topics.isEmpty == true)
    }

    @Test func topicIdsAreStableAndResolveInMetadataAndFetch() async throws {
        let broker = try await makeBroker()
        let created = try #require(try await self.createTopic(broker, "ids"))
        #expect(created.topicId != .zero)
        try await self.produce(broker, "ids", ["one", "two"])
        // Metadata v10+ by id alone.
        let byId = try await roundTrip(
            broker,
            MetadataRequest(topics: [.init(topicId: created.topicId, name: nil)]),
            version: 12
        )
        #expect(byId?.topics.first?.name == "ids")
        #expect(byId?.topics.first?.errorCode == KafkaErrorCode.none)
        // Fetch v13+ names topics by id only, and answers with the id.
        let fetch = FetchRequest(
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            topics: [
                .init(
                    topicId: created.topicId,
                    partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)]
                )
            ]
        )
        let fetched = try await roundTrip(broker, fetch, version: 17)
        let topic = try #require(fetched?.responses.first)
        #expect(topic.topicId == created.topicId)
        let partition = try #require(topic.partitions.first)
        #expect(partition.errorCode == KafkaErrorCode.none)
        #expect(partition.highWatermark == 2)
        #expect(try RecordBatch.split(try #require(partition.records)).batches.count == 1)
        // A wrong id: UNKNOWN_TOPIC_ID, empty records.
        var unknown = fetch
        unknown.topics[0].topicId = KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 2)
        let refused = try await roundTrip(broker, unknown, version: 13)?.responses.first?.partitions.first
        #expect(refused?.errorCode == .unknownTopicId)
        #expect(refused?.records == ByteBuffer())
        let unknownMetadata = try await roundTrip(
            broker,
            MetadataRequest(topics: [.init(topicId: unknown.topics[0].topicId, name: nil)]),
            version: 10
        )
        #expect(unknownMetadata?.topics.first?.errorCode == .unknownTopicId)
    }

    /// librdkafka reads null records as a parse failure and refetches at once (a spin of ~6,000
    /// fetches a second); Kafka answers an erroring partition with empty records.
    @Test(arguments: [Int16(4), 11, 12, 16])
    func fetchErrorsCarryEmptyRecordsNotNull(version: Int16) async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "e")
        let fetch = FetchRequest(
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            topics: [
                .init(
                    topic: "e",
                    partitions: [
                        .init(partition: 0, fetchOffset: 99, partitionMaxBytes: 1 << 20),
                        .init(partition: 7, fetchOffset: 0, partitionMaxBytes: 1 << 20),
                    ]
                )
            ]
        )
        var request = fetch
        if version >= 13 { request.topics[0].topicId = try #require(try await self.createTopic(broker, "e")).topicId }
        let partitions = try #require(
            try await roundTrip(broker, request, version: version)?.responses.first?.partitions
        )
        #expect(partitions.map(\.errorCode) == [.offsetOutOfRange, .unknownTopicOrPartition])
        #expect(partitions.map(\.records) == [ByteBuffer(), ByteBuffer()])
    }

    /// A topic that was just deleted is not brought back by the Metadata requests its former users
    /// send right after (it was re-created within a millisecond).
    @Test func deletedTopicIsNotAutoCreatedRightAway() async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "gone")
        let deleted = try await roundTrip(
            broker,
            DeleteTopicsRequest(topicNames: ["gone"], timeoutMs: 1000),
            version: 5
        )
        #expect(deleted?.responses.first?.errorCode == KafkaErrorCode.none)
        let metadata = try await roundTrip(broker, MetadataRequest(topics: [.init(name: "gone")]), version: 12)
        #expect(metadata?.topics.first?.errorCode == .unknownTopicOrPartition)
        // Explicit creation still works at once.
        let recreated = try await roundTrip(
            broker,
            CreateTopicsRequest(topics: [.init(name: "gone", numPartitions: 1, replicationFactor: 1)]),
            version: 7
        )
        #expect(recreated?.topics.first?.errorCode == KafkaErrorCode.none)
        #expect(recreated?.topics.first?.topicId != .zero)
    }

    @Test func deleteTopicsVersionSixByNameAndId() async throws {
        let broker = try await makeBroker()
        let first = try #require(try await self.createTopic(broker, "d1"))
        _ = try await self.createTopic(broker, "d2")
        let response = try await roundTrip(
            broker,
            DeleteTopicsRequest(
                topics: [.init(name: nil, topicId: first.topicId), .init(name: "d2")],
                timeoutMs: 1000
            ),
            version: 6
        )
        #expect(response?.responses.map(\.name) == ["d1", "d2"])
        #expect(response?.responses.map(\.errorCode) == [.none, .none])
        #expect(response?.responses.first?.topicId == first.topicId)
    }

    @Test func listOffsetsSpecialTimestampsAndVersionZero() async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "lo")
        try await self.produce(broker, "lo", ["a", "b"], timestampMs: 5_000)
        try await self.produce(broker, "lo", ["c"], timestampMs: 9_000)
        try await self.produce(broker, "lo", ["d"], timestampMs: 7_000)
        func offset(_ timestamp: Int64, version: Int16 = 10) async throws -> (Int64?, Int64?) {
            let request = ListOffsetsRequest(
                replicaId: -1,
                topics: [.init(name: "lo", partitions: [.init(partitionIndex: 0, timestamp: timestamp)])]
            )
            let partition = try await roundTrip(broker, request, version: version)?.topics.first?.partitions.first
            return (partition?.offset, partition?.timestamp)
        }
        #expect(try await offset(ListOffsetsRequest.latestTimestamp).0 == 4)
        #expect(try await offset(ListOffsetsRequest.earliestTimestamp).0 == 0)
        #expect(try await offset(ListOffsetsRequest.earliestLocalTimestamp).0 == 0)
        let max = try await offset(ListOffsetsRequest.maxTimestamp)
        #expect(max.0 == 2 && max.1 == 9_000)
        #expect(try await offset(ListOffsetsRequest.latestTieredTimestamp).0 == -1)
        #expect(try await offset(5_001).0 == 1)
        // v0: a list of offsets instead of one.
        let v0 = try await roundTrip(
            broker,
            ListOffsetsRequest(
                replicaId: -1,
                topics: [
                    .init(name: "lo", partitions: [.init(partitionIndex: 0, timestamp: -1, maxNumOffsets: 1)])
                ]
            ),
            version: 0
        )
        #expect(v0?.topics.first?.partitions.first?.oldStyleOffsets == [4])
    }

    @Test func findCoordinatorBatchesKeysFromVersionFour() async throws {
        let broker = try await makeBroker()
        let batched = try await roundTrip(
            broker,
            FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["a", "b"]),
            version: 4
        )
        #expect(batched?.coordinators.map(\.key) == ["a", "b"])
        #expect(batched?.coordinators.map(\.errorCode) == [.none, .none])
        let transactional = try await roundTrip(
            broker,
            FindCoordinatorRequest(keyType: 1, coordinatorKeys: ["t"]),
            version: 6
        )
        // Transactional ids have a coordinator too (this broker).
        #expect(transactional?.coordinators.map(\.key) == ["t"])
        #expect(transactional?.coordinators.first?.errorCode == KafkaErrorCode.none)
        #expect(transactional?.coordinators.first?.port == broker.configuration.advertisedPort)
        let single = try await roundTrip(broker, FindCoordinatorRequest(key: "g"), version: 3)
        #expect(single?.errorCode == KafkaErrorCode.none)
        #expect(single?.port == broker.configuration.advertisedPort)
    }

    /// OffsetFetch v8+ asks for several groups at once; each is answered on its own.
    @Test func offsetFetchBatchesGroupsFromVersionEight() async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "of")
        let commit = OffsetCommitRequest(
            groupId: "g1",
            generationIdOrMemberEpoch: -1,
            topics: [.init(name: "of", partitions: [.init(partitionIndex: 0, committedOffset: 42)])]
        )
        let committed = try await roundTrip(broker, commit, version: 9)
        #expect(committed?.topics.first?.partitions.first?.errorCode == KafkaErrorCode.none)
        let fetched = try await roundTrip(
            broker,
            OffsetFetchRequest(groups: [
                .init(groupId: "g1", topics: [.init(name: "of", partitionIndexes: [0])]),
                .init(groupId: "g2", topics: nil),
            ]),
            version: 9
        )
        #expect(fetched?.groups.map(\.groupId) == ["g1", "g2"])
        #expect(fetched?.groups.first?.topics.first?.partitions.first?.committedOffset == 42)
        #expect(fetched?.groups.last?.topics.isEmpty == true)
    }

    /// OffsetCommit v0 and v1 (no retention time, v1 with a commit timestamp): a simple consumer's
    /// commits are taken, as Kafka takes them.
    @Test(arguments: [Int16(0), 1, 2, 5, 8])
    func oldOffsetCommitVersionsAreAccepted(version: Int16) async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "oc")
        let commit = OffsetCommitRequest(
            groupId: "simple",
            generationIdOrMemberEpoch: -1,
            topics: [.init(name: "oc", partitions: [.init(partitionIndex: 0, committedOffset: 7, commitTimestamp: -1)])]
        )
        let committed = try await roundTrip(broker, commit, version: version)
        #expect(committed?.topics.first?.partitions.first?.errorCode == KafkaErrorCode.none)
        let fetched = try await roundTrip(
            broker,
            OffsetFetchRequest(groupId: "simple", topics: [.init(name: "oc", partitionIndexes: [0])]),
            version: min(version, 7)
        )
        #expect(fetched?.topics.first?.partitions.first?.committedOffset == 7)
    }

    @Test func listGroupsReportsAndFiltersStates() async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "lg")
        let commit = OffsetCommitRequest(
            groupId: "idle",
            generationIdOrMemberEpoch: -1,
            topics: [.init(name: "lg", partitions: [.init(partitionIndex: 0, committedOffset: 1)])]
        )
        _ = try await roundTrip(broker, commit, version: 8)
        let all = try await roundTrip(broker, ListGroupsRequest(), version: 5)
        #expect(all?.groups.map(\.groupState) == ["Empty"])
        #expect(all?.groups.map(\.groupType) == ["classic"])
        let stable = try await roundTrip(broker, ListGroupsRequest(statesFilter: ["Stable"]), version: 4)
        #expect(stable?.groups.isEmpty == true)
        let empty = try await roundTrip(broker, ListGroupsRequest(statesFilter: ["empty"]), version: 4)
        #expect(empty?.groups.map(\.groupId) == ["idle"])
    }

    /// LeaveGroup v3+ removes a batch of members, answering each; an unknown member gets
    /// UNKNOWN_MEMBER_ID while the others leave.
    @Test func leaveGroupBatchesMembersFromVersionThree() async throws {
        let broker = try await makeBroker()
        // A static member (JoinGroup v5+ with an instance id: no MEMBER_ID_REQUIRED round trip).
        let join = JoinGroupRequest(
            groupId: "lv",
            sessionTimeoutMs: 10_000,
            rebalanceTimeoutMs: 10_000,
            memberId: "",
            groupInstanceId: "i1",
            protocolType: "consumer",
            protocols: [.init(name: "range", metadata: ByteBuffer())]
        )
        let joined = try #require(try await roundTrip(broker, join, version: 5))
        #expect(joined.errorCode == KafkaErrorCode.none)
        #expect(joined.memberId.hasPrefix("i1-"))
        // Each member of the batch is removed on its own, a static one by its instance id alone.
        let leave = LeaveGroupRequest(
            groupId: "lv",
            members: [
                .init(memberId: "", groupInstanceId: "i1"), .init(memberId: "nobody"),
                .init(memberId: "", groupInstanceId: "ghost"),
            ]
        )
        let left = try await roundTrip(broker, leave, version: 5)
        #expect(left?.errorCode == KafkaErrorCode.none)
        #expect(left?.members.map(\.memberId) == ["", "nobody", ""])
        #expect(left?.members.map(\.groupInstanceId) == ["i1", nil, "ghost"])
        #expect(left?.members.map(\.errorCode) == [.none, .unknownMemberId, .unknownMemberId])
        let described = try await roundTrip(broker, DescribeGroupsRequest(groups: ["lv"]), version: 5)
        #expect(described?.groups.first?.groupState == "Empty")
    }

    /// JoinGroup v7+ and SyncGroup v5 carry the protocol type and name, which members check.
    @Test func joinAndSyncCarryProtocolTypeAndName() async throws {
        let broker = try await makeBroker()
        let join = JoinGroupRequest(
            groupId: "js",
            sessionTimeoutMs: 10_000,
            rebalanceTimeoutMs: 10_000,
            memberId: "",
            protocolType: "consumer",
            protocols: [.init(name: "range", metadata: ByteBuffer())]
        )
        // v4+: the first join only hands out the member id (KIP-394), the second uses it.
        let required = try #require(try await roundTrip(broker, join, version: 9))
        #expect(required.errorCode == KafkaErrorCode.memberIdRequired)
        #expect(required.memberId.hasPrefix("test-"), "client id + \"-\" + suffix: \(required.memberId)")
        var again = join
        again.memberId = required.memberId
        let joined = try #require(try await roundTrip(broker, again, version: 9))
        #expect(joined.errorCode == KafkaErrorCode.none)
        #expect(joined.memberId == required.memberId)
        #expect(joined.protocolType == "consumer")
        #expect(joined.protocolName == "range")
        let sync = SyncGroupRequest(
            groupId: "js",
            generationId: joined.generationId,
            memberId: joined.memberId,
            protocolType: "consumer",
            protocolName: "range",
            assignments: [.init(memberId: joined.memberId, assignment: ByteBuffer(string: "x"))]
        )
        let synced = try #require(try await roundTrip(broker, sync, version: 5))
        #expect(synced.errorCode == KafkaErrorCode.none)
        #expect(synced.protocolType == "consumer")
        #expect(synced.protocolName == "range")
        #expect(synced.assignment == ByteBuffer(string: "x"))
    }

    /// Produce v0-v2 carries magic 0/1 message sets, stored as v2 batches; Fetch v0-v3 answers
    /// with the magic its version allows (0 for v0-v1, 1 for v2-v3).
    @Test(arguments: [(Int16(0), Int8(0)), (1, 0), (2, 1)])
    func oldMessageFormatsAreConvertedBothWays(produceVersion: Int16, magic: Int8) async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "old")
        let legacy = try LegacyMessageSet.downConvert(
            try self.batch(["one", "two", "three"]),
            toMagic: magic,
            decompressionLimit: 1 << 20
        )
        #expect(LegacyMessageSet.magic(of: legacy) == magic)
        let produced = try await roundTrip(
            broker,
            ProduceRequest(
                acks: 1,
                timeoutMs: 1000,
                topicData: [.init(name: "old", partitionData: [.init(index: 0, records: legacy)])]
            ),
            version: produceVersion
        )
        #expect(produced?.responses.first?.partitionResponses.first?.errorCode == KafkaErrorCode.none)
        // Stored as a v2 batch: a new client reads it as one.
        let current = try await roundTrip(
            broker,
            FetchRequest(
                maxWaitMs: 0,
                minBytes: 0,
                maxBytes: 1 << 20,
                topics: [
                    .init(topic: "old", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])
                ]
            ),
            version: 11
        )
        let stored = try #require(current?.responses.first?.partitions.first?.records)
        #expect(try RecordBatch.split(stored).batches.count == 1)
        for fetchVersion in [Int16(0), 1, 2, 3] {
            let old = try await roundTrip(
                broker,
                FetchRequest(
                    maxWaitMs: 0,
                    minBytes: 0,
                    maxBytes: 1 << 20,
                    topics: [
                        .init(
                            topic: "old",
                            partitions: [.init(partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20)]
                        )
                    ]
                ),
                version: fetchVersion
            )
            let records = try #require(old?.responses.first?.partitions.first?.records)
            #expect(LegacyMessageSet.magic(of: records) == (fetchVersion <= 1 ? 0 : 1))
            let parsed = try LegacyMessageSet.parse(records, decompressionLimit: 1 << 20)
            #expect(parsed.map(\.offset) == [1, 2])
            #expect(parsed.map { $0.value.map { String(buffer: $0) } } == ["two", "three"])
        }
    }

    @Test func corruptLegacyMessageSetIsRefused() async throws {
        let broker = try await makeBroker()
        _ = try await self.createTopic(broker, "old")
        var legacy = try LegacyMessageSet.downConvert(try self.batch(["x"]), toMagic: 1, decompressionLimit: 1 << 20)
        legacy.setInteger(UInt8(0xFF), at: legacy.writerIndex - 1)  // last value byte: the CRC no longer matches
        let produced = try await roundTrip(
            broker,
            ProduceRequest(
                acks: 1,
                timeoutMs: 1000,
                topicData: [.init(name: "old", partitionData: [.init(index: 0, records: legacy)])]
            ),
            version: 2
        )
        #expect(produced?.responses.first?.partitionResponses.first?.errorCode == .corruptMessage)
    }
}
