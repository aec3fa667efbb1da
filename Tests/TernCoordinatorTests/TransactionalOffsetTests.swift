import NIOCore
import TernCoordinator
import TernWire
import Testing

let producer: Int64 = 500
let tp0 = TopicPartition("t", 0)
let tp1 = TopicPartition("t", 1)

extension GroupCoordinator {
    mutating func txnCommit(
        groupId: String = group,
        producerId: Int64 = producer,
        generation: Int32 = -1,
        member: String = "",
        instanceId: String? = nil,
        _ offsets: [TransactionalOffset],
        at nowMs: Int64 = 50
    ) -> CoordinatorResult {
        self.txnOffsetCommit(
            groupId: groupId,
            producerId: producerId,
            producerEpoch: 3,
            generationId: generation,
            memberId: member,
            groupInstanceId: instanceId,
            offsets: offsets,
            ticket: RequestTicket(7),
            nowMs: nowMs,
            partitionExists: knownPartition
        )
    }

    /// The committed offset of t-`partition` that OffsetFetch shows, with its error.
    func fetched(_ partition: Int32, requireStable: Bool = false) -> (Int64, KafkaErrorCode) {
        let response = self.fetchOffsets(
            OffsetFetchRequest(
                groupId: group,
                topics: [OffsetFetchRequest.OffsetFetchRequestTopic(name: "t", partitionIndexes: [partition])],
                requireStable: requireStable
            )
        )
        let answer = response.topics[0].partitions[0]
        return (answer.committedOffset, answer.errorCode)
    }
}

func txnErrors(_ result: CoordinatorResult) -> [TopicPartition: KafkaErrorCode]? {
    guard case .txnOffsetCommit(let partitions) = result.allResponses.first?.response else { return nil }
    return partitions
}

@Suite struct TransactionalOffsetTests {
    typealias Setup = @Sendable (inout GroupCoordinator) -> Void

    /// A group that only commits offsets: Empty, generation 0.
    static let simple: Setup = { c in _ = c.commit([("t", 2, 1, nil)], at: 1) }
    static let stable: Setup = { c in stableGroup(&c, clients: ["a", "b"]) }
    /// "a" joined, the initial delay passed, nobody synced yet.
    static let completing: Setup = { c in
        _ = c.join("a", ticket: 1, at: 0)
        _ = c.fire(.initialRebalanceDelay(groupId: group), at: delayMs)
        precondition(c.state(ofGroup: group) == .completingRebalance)
    }

    /// (setup, generation, member id, instance id, expected error)
    static let validation: [(String, Setup?, Int32, String, String?, KafkaErrorCode)] = [
        ("no group, simple", nil, -1, "", nil, .none),
        ("no group, a member", nil, 1, "a-1", nil, .illegalGeneration),
        ("empty group, simple", simple, -1, "", nil, .none),
        ("empty group, a member", simple, 0, "x", nil, .unknownMemberId),
        ("stable, no member fields (before v3)", stable, -1, "", nil, .none),
        ("stable, the member", stable, 1, "a-1", nil, .none),
        ("stable, old generation", stable, 0, "b-2", nil, .illegalGeneration),
        ("stable, unknown member", stable, 1, "zz", nil, .unknownMemberId),
        ("stable, member without generation", stable, -1, "a-1", nil, .illegalGeneration),
        ("stable, unknown instance", stable, 1, "a-1", "ghost", .unknownMemberId),
        ("completing rebalance, the member", completing, 1, "a-1", nil, .none),
    ]

    @Test(arguments: validation)
    func groupValidation(
        name: String,
        setup: Setup?,
        generation: Int32,
        member: String,
        instanceId: String?,
        errorCode: KafkaErrorCode
    ) {
        var coordinator = makeCoordinator()
        setup?(&coordinator)
        let result = coordinator.txnCommit(
            generation: generation,
            member: member,
            instanceId: instanceId,
            [TransactionalOffset(tp0, offset: 10)]
        )
        #expect(txnErrors(result) == [tp0: errorCode])
        let accepted = errorCode == .none
        #expect(result.appends.count == (accepted ? 1 : 0))
        #expect(result.responses.count == (accepted ? 0 : 1))
        #expect(coordinator.hasPendingTransactionalOffset(groupId: group, partition: tp0) == accepted)
        if accepted { #expect(coordinator.state(ofGroup: group) != nil) }
    }

    @Test func emptyGroupIdIsInvalid() {
        var coordinator = makeCoordinator()
        let result = coordinator.txnCommit(groupId: "", [TransactionalOffset(tp0, offset: 1)])
        #expect(txnErrors(result) == [tp0: .invalidGroupId])
        #expect(result.appends.isEmpty)
    }

    @Test func partitionErrorsAndTheTransactionalAppend() {
        var coordinator = makeCoordinator()
        let result = coordinator.txnCommit(
            [
                TransactionalOffset(tp0, offset: 10, leaderEpoch: 4, metadata: "m"),
                TransactionalOffset(TopicPartition("nope", 0), offset: 1),
                TransactionalOffset(tp1, offset: 1, metadata: String(repeating: "x", count: 4097)),
            ],
            at: 60
        )
        #expect(
            txnErrors(result) == [
                tp0: .none, TopicPartition("nope", 0): .unknownTopicOrPartition, tp1: .offsetMetadataTooLarge,
            ]
        )
        let value = OffsetCommitValue(offset: 10, leaderEpoch: 4, metadata: "m", commitTimestampMs: 60)
        #expect(result.appends.map(\.records) == [[offsetRecord("t", 0, value)]])
        #expect(
            result.appends.map(\.transactionalProducer) == [
                TransactionalProducer(producerId: producer, producerEpoch: 3)
            ]
        )
        #expect(coordinator.pendingTransactionalOffsets(producerId: producer) == [group: [tp0: value]])
    }

    @Test(arguments: [true, false])
    func markerDecidesThePendingOffsets(commit: Bool) {
        var coordinator = makeCoordinator()
        _ = coordinator.commit([("t", 0, 5, nil)], at: 1)
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10), TransactionalOffset(tp1, offset: 20)])
        // Pending offsets are invisible; require_stable refuses to answer for their partitions.
        #expect(coordinator.fetched(0) == (5, .none))
        #expect(coordinator.fetched(1) == (-1, .none))
        #expect(coordinator.fetched(0, requireStable: true) == (-1, .unstableOffsetCommit))
        #expect(coordinator.fetched(1, requireStable: true) == (-1, .unstableOffsetCommit))
        #expect(coordinator.fetched(2, requireStable: true) == (-1, .none))

        coordinator.completeTransaction(producerId: producer, commit: commit)
        #expect(coordinator.fetched(0, requireStable: true) == (commit ? 10 : 5, .none))
        #expect(coordinator.fetched(1, requireStable: true) == (commit ? 20 : -1, .none))
        #expect(coordinator.pendingTransactionalOffsets(producerId: producer).isEmpty)
        #expect(!coordinator.hasPendingTransactionalOffset(groupId: group, partition: tp0))
    }

    @Test func fetchingAllOffsetsWithRequireStable() {
        var coordinator = makeCoordinator()
        _ = coordinator.commit([("t", 0, 5, nil), ("t", 1, 6, nil)], at: 1)
        _ = coordinator.txnCommit([TransactionalOffset(tp1, offset: 10)])
        let response = coordinator.fetchOffsets(OffsetFetchRequest(groupId: group, topics: nil, requireStable: true))
        #expect(
            response.topics.flatMap(\.partitions).map { ($0.partitionIndex, $0.committedOffset, $0.errorCode) }
                .elementsEqual(
                    [(0, 5, .none), (1, -1, .unstableOffsetCommit)]) { $0 == $1 }
        )
    }

    @Test func unknownProducerCompletesNothing() {
        var coordinator = makeCoordinator()
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10)])
        coordinator.completeTransaction(producerId: 999, commit: true)
        #expect(coordinator.fetched(0, requireStable: true) == (-1, .unstableOffsetCommit))
    }

    /// Kafka keeps the most recent offset record of a partition, whichever kind it is.
    @Test func aLaterOrdinaryCommitWinsOverTheTransactions() {
        var coordinator = makeCoordinator()
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10), TransactionalOffset(tp1, offset: 11)])
        _ = coordinator.commit([("t", 0, 7, nil)], at: 60)
        coordinator.completeTransaction(producerId: producer, commit: true)
        #expect(coordinator.fetched(0) == (7, .none))
        #expect(coordinator.fetched(1) == (11, .none))
    }

    @Test func anEarlierOrdinaryCommitLosesToTheTransactions() {
        var coordinator = makeCoordinator()
        _ = coordinator.commit([("t", 0, 7, nil)], at: 40)
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10)])
        coordinator.completeTransaction(producerId: producer, commit: true)
        #expect(coordinator.fetched(0) == (10, .none))
    }

    /// Producers 1 and 2 wrote offsets of one partition, 1 first: whichever commits first, the
    /// later record (2's) is what remains.
    @Test(arguments: [[Int64(1), 2], [2, 1]])
    func twoTransactionsOnOnePartition(order: [Int64]) {
        var coordinator = makeCoordinator()
        _ = coordinator.txnCommit(producerId: 1, [TransactionalOffset(tp0, offset: 100)])
        _ = coordinator.txnCommit(producerId: 2, [TransactionalOffset(tp0, offset: 200)])
        for producerId in order { coordinator.completeTransaction(producerId: producerId, commit: true) }
        #expect(coordinator.fetched(0, requireStable: true) == (200, .none))
    }

    @Test func aProducersLaterOffsetReplacesItsEarlierOne() {
        var coordinator = makeCoordinator()
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10)])
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 12)])
        coordinator.completeTransaction(producerId: producer, commit: true)
        #expect(coordinator.fetched(0) == (12, .none))
    }

    @Test func deletingTheGroupTombstonesPendingOffsets() {
        var coordinator = makeCoordinator()
        _ = coordinator.commit([("t", 0, 5, nil)], at: 1)
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10), TransactionalOffset(tp1, offset: 11)])
        let result = coordinator.deleteGroup(group, ticket: RequestTicket(9), nowMs: 70)
        #expect(
            result.appends.map(\.records) == [
                [offsetRecord("t", 0, nil), offsetRecord("t", 1, nil), .groupMetadata(groupId: group, nil)]
            ]
        )
        #expect(!coordinator.hasPendingTransactionalOffset(groupId: group, partition: tp1))
        coordinator.completeTransaction(producerId: producer, commit: true)
        #expect(coordinator.committedOffsets(ofGroup: group).isEmpty)
    }

    @Test func offsetDeleteDropsThePartitionsPendingOffset() {
        var coordinator = makeCoordinator()
        _ = coordinator.commit([("t", 0, 5, nil), ("t", 1, 6, nil)], at: 1)
        _ = coordinator.txnCommit([TransactionalOffset(tp0, offset: 10), TransactionalOffset(tp1, offset: 11)])
        _ = coordinator.deleteOffsets(groupId: group, partitions: [tp0], ticket: RequestTicket(9), nowMs: 70)
        coordinator.completeTransaction(producerId: producer, commit: true)
        #expect(coordinator.fetched(0) == (-1, .none))
        #expect(coordinator.fetched(1) == (11, .none))
    }

    // MARK: Replay

    /// A log: an ordinary commit, producer 1's transactional offsets (committed by a marker),
    /// producer 2's (aborted), producer 3's (no marker yet), in that order.
    static func replayedLog(_ coordinator: inout GroupCoordinator) throws {
        func value(_ offset: Int64) -> OffsetCommitValue {
            OffsetCommitValue(offset: offset, metadata: "", commitTimestampMs: 1)
        }
        func bytes(_ record: CoordinatorRecord) -> (ByteBuffer, ByteBuffer?) {
            (record.encodeKey(), record.encodeValue())
        }
        let ordinary = bytes(offsetRecord("t", 0, value(5)))
        try coordinator.replay(key: ordinary.0, value: ordinary.1)
        let first = bytes(offsetRecord("t", 0, value(10)))
        try coordinator.replayTransactional(key: first.0, value: first.1, producerId: 1)
        let second = bytes(offsetRecord("t", 1, value(20)))
        try coordinator.replayTransactional(key: second.0, value: second.1, producerId: 2)
        let third = bytes(offsetRecord("t", 2, value(30)))
        try coordinator.replayTransactional(key: third.0, value: third.1, producerId: 3)
        coordinator.completeTransaction(producerId: 1, commit: true)
        coordinator.completeTransaction(producerId: 2, commit: false)
    }

    @Test func replayRoutesTransactionalRecordsToPending() throws {
        var replayed = makeCoordinator()
        try Self.replayedLog(&replayed)
        #expect(replayed.fetched(0) == (10, .none))
        #expect(replayed.fetched(1) == (-1, .none))
        #expect(replayed.fetched(2) == (-1, .none))
        #expect(replayed.fetched(2, requireStable: true) == (-1, .unstableOffsetCommit))
        #expect(
            replayed.pendingTransactionalOffsets(producerId: 3) == [
                group: [TopicPartition("t", 2): OffsetCommitValue(offset: 30, metadata: "", commitTimestampMs: 1)]
            ]
        )

        // The same events live give the same offsets.
        var live = makeCoordinator()
        _ = live.commit([("t", 0, 5, nil)], at: 1)
        _ = live.txnCommit(producerId: 1, [TransactionalOffset(tp0, offset: 10)], at: 1)
        _ = live.txnCommit(producerId: 2, [TransactionalOffset(tp1, offset: 20)], at: 1)
        _ = live.txnCommit(producerId: 3, [TransactionalOffset(TopicPartition("t", 2), offset: 30)], at: 1)
        live.completeTransaction(producerId: 1, commit: true)
        live.completeTransaction(producerId: 2, commit: false)
        #expect(live.committedOffsets(ofGroup: group) == replayed.committedOffsets(ofGroup: group))
        #expect(live.pendingTransactionalOffsets(producerId: 3) == replayed.pendingTransactionalOffsets(producerId: 3))
    }

    @Test func aGroupWithOnlyPendingOffsetsSurvivesReplay() throws {
        var replayed = makeCoordinator()
        let record = offsetRecord("t", 0, OffsetCommitValue(offset: 1, metadata: "", commitTimestampMs: 1))
        try replayed.replayTransactional(key: record.encodeKey(), value: record.encodeValue(), producerId: 4)
        // A tombstone of another partition leaves the group without committed offsets.
        replayed.replay(offsetRecord("t", 1, nil))
        #expect(replayed.state(ofGroup: group) == .empty)
        replayed.completeTransaction(producerId: 4, commit: true)
        #expect(replayed.fetched(0) == (1, .none))
    }

    @Test func replayedTombstoneDropsPendingOffsets() throws {
        var replayed = makeCoordinator()
        let record = offsetRecord("t", 0, OffsetCommitValue(offset: 1, metadata: "", commitTimestampMs: 1))
        try replayed.replayTransactional(key: record.encodeKey(), value: record.encodeValue(), producerId: 4)
        // Tombstones in a transactional batch are applied as ordinary ones, as Kafka.
        replayed.replayTransactional(offsetRecord("t", 0, nil), producerId: 4)
        #expect(!replayed.hasPendingTransactionalOffset(groupId: group, partition: tp0))
        replayed.completeTransaction(producerId: 4, commit: true)
        #expect(replayed.fetched(0) == (-1, .none))
    }
}
