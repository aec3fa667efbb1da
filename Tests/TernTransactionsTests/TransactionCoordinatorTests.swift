import NIOCore
import TernTransactions
import TernWire
import Testing

let txn = "tx"
let pid: Int64 = 100
let timeoutMs: Int32 = 60_000
let t0 = TransactionPartition("t", 0)
let t1 = TransactionPartition("t", 1)
let offsets0 = TransactionPartition("__consumer_offsets", 0)

/// A coordinator holding `txn` (producer id 100) in `state`, reached through the events a client
/// sends, at epoch 0 (Empty, Complete*) or epoch 0 with partition t-0 (Ongoing, Prepare*). Time 1000.
func coordinator(in state: TransactionState) -> TransactionCoordinator {
    var coordinator = TransactionCoordinator()
    _ = coordinator.initProducerId(
        transactionalId: txn,
        transactionTimeoutMs: timeoutMs,
        freshProducerId: pid,
        nowMs: 1000
    )
    guard state != .empty else { return coordinator }
    _ = coordinator.addPartitions(
        transactionalId: txn,
        producerId: pid,
        producerEpoch: 0,
        partitions: [t0],
        nowMs: 1000
    )
    guard state != .ongoing else { return coordinator }
    let commit = state == .prepareCommit || state == .completeCommit
    _ = coordinator.endTransaction(transactionalId: txn, producerId: pid, producerEpoch: 0, commit: commit, nowMs: 1000)
    guard !state.isPrepare else { return coordinator }
    _ = coordinator.markersWritten(transactionalId: txn, producerId: pid, producerEpoch: 0, nowMs: 1000)
    return coordinator
}

extension TransactionCoordinator {
    var state: TransactionState? { self.metadata(forTransactionalId: txn)?.state }
    var epoch: Int16? { self.metadata(forTransactionalId: txn)?.producerEpoch }
}

/// The value of the only record of a result.
func onlyValue(_ result: TransactionResult) -> TransactionLogValue? {
    guard result.records.count == 1 else { return nil }
    return result.records[0].value
}

@Suite struct InitProducerIdTests {
    @Test func newTransactionalIdStartsEmptyAtEpochZero() {
        var coordinator = TransactionCoordinator()
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: pid,
            nowMs: 5
        )
        #expect(result.response == .initProducerId(errorCode: .none, producerId: pid, producerEpoch: 0))
        #expect(result.actions.isEmpty)
        #expect(
            result.records == [
                TransactionLogRecord(
                    key: TransactionLogKey(transactionalId: txn),
                    value: TransactionLogValue(
                        producerId: pid,
                        producerEpoch: 0,
                        timeoutMs: timeoutMs,
                        state: .empty,
                        partitions: [],
                        txnLastUpdateTimestampMs: 5,
                        txnStartTimestampMs: -1
                    )
                )
            ]
        )
    }

    @Test func idempotentProducerGetsTheFreshIdAndNothingIsStored() {
        var coordinator = TransactionCoordinator()
        let result = coordinator.initProducerId(
            transactionalId: nil,
            transactionTimeoutMs: -1,
            freshProducerId: 7,
            nowMs: 0
        )
        #expect(
            result == TransactionResult(response: .initProducerId(errorCode: .none, producerId: 7, producerEpoch: 0))
        )
        #expect(coordinator.transactions.isEmpty)
    }

    /// (state before, expected error, epoch after, state after, records, abort markers)
    static let byState: [(TransactionState, KafkaErrorCode, Int16, TransactionState, Int, Bool)] = [
        (.empty, .none, 1, .empty, 1, false),
        (.completeCommit, .none, 1, .empty, 1, false),
        (.completeAbort, .none, 1, .empty, 1, false),
        (.prepareCommit, .concurrentTransactions, 0, .prepareCommit, 0, false),
        (.prepareAbort, .concurrentTransactions, 0, .prepareAbort, 0, false),
        // The open transaction is aborted at a bumped epoch; the client retries.
        (.ongoing, .concurrentTransactions, 1, .prepareAbort, 1, true),
    ]

    @Test(arguments: byState)
    func existingTransactionalId(
        before: TransactionState,
        errorCode: KafkaErrorCode,
        epochAfter: Int16,
        after: TransactionState,
        records: Int,
        aborts: Bool
    ) {
        var coordinator = coordinator(in: before)
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 999,
            nowMs: 2000
        )
        #expect(result.response?.errorCode == errorCode)
        if errorCode == .none {
            #expect(result.response == .initProducerId(errorCode: .none, producerId: pid, producerEpoch: epochAfter))
        } else {
            #expect(result.response == .initProducerId(errorCode: errorCode, producerId: -1, producerEpoch: -1))
        }
        #expect(coordinator.epoch == epochAfter)
        #expect(coordinator.state == after)
        #expect(result.records.count == records)
        #expect(onlyValue(result)?.producerEpoch == (records == 1 ? epochAfter : nil))
        #expect(
            result.markers
                == (aborts
                    ? [
                        TransactionMarkers(
                            transactionalId: txn,
                            producerId: pid,
                            producerEpoch: 1,
                            coordinatorEpoch: 0,
                            commit: false,
                            partitions: [t0]
                        )
                    ] : [])
        )
    }

    @Test func retryAfterTheFencingAbortCompletesBumpsAgain() {
        var coordinator = coordinator(in: .ongoing)
        _ = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 1,
            nowMs: 2
        )
        #expect(
            coordinator.initProducerId(
                transactionalId: txn,
                transactionTimeoutMs: timeoutMs,
                freshProducerId: 1,
                nowMs: 3
            )
            .response?.errorCode == .concurrentTransactions
        )
        _ = coordinator.markersWritten(transactionalId: txn, producerId: pid, producerEpoch: 1, nowMs: 4)
        #expect(coordinator.state == .completeAbort)
        let retry = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 1,
            nowMs: 5
        )
        #expect(retry.response == .initProducerId(errorCode: .none, producerId: pid, producerEpoch: 2))
    }

    static let badRequests: [(String, Int32, Int64, Int16, KafkaErrorCode)] = [
        ("", timeoutMs, -1, -1, .invalidRequest),
        (txn, 0, -1, -1, .invalidTransactionTimeout),
        (txn, -5, -1, -1, .invalidTransactionTimeout),
        (txn, 900_001, -1, -1, .invalidTransactionTimeout),
        (txn, timeoutMs, pid, -1, .invalidRequest),
        (txn, timeoutMs, -1, 0, .invalidRequest),
    ]

    @Test(arguments: badRequests)
    func badRequestsAreRefusedWithoutRecords(
        transactionalId: String,
        timeout: Int32,
        expectedId: Int64,
        expectedEpoch: Int16,
        errorCode: KafkaErrorCode
    ) {
        var coordinator = coordinator(in: .empty)
        let before = coordinator.transactions
        let result = coordinator.initProducerId(
            transactionalId: transactionalId,
            transactionTimeoutMs: timeout,
            expectedProducerId: expectedId,
            expectedProducerEpoch: expectedEpoch,
            freshProducerId: 1,
            nowMs: 9
        )
        #expect(
            result
                == TransactionResult(response: .initProducerId(errorCode: errorCode, producerId: -1, producerEpoch: -1))
        )
        #expect(coordinator.transactions == before)
    }

    @Test func maximumTimeoutIsAccepted() {
        var coordinator = TransactionCoordinator()
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: 900_000,
            freshProducerId: 1,
            nowMs: 0
        )
        #expect(result.response?.errorCode == KafkaErrorCode.none)
    }

    /// KIP-360 (v3+): the producer names the id and epoch it has. (expected id, expected epoch, error,
    /// epoch after) starting from epoch 1 whose last epoch is 0 (an InitProducerId naming epoch 0).
    static let expectedEpochs: [(Int64, Int16, KafkaErrorCode, Int16)] = [
        (pid, 1, .none, 2),  // the current epoch: bump
        (pid, 0, .none, 1),  // the last epoch: a retry of the bump, same epoch again
        (pid, 5, .producerFenced, 1),  // neither
        (555, 1, .producerFenced, 1),  // another producer id
    ]

    @Test(arguments: expectedEpochs)
    func expectedProducerIdAndEpoch(
        expectedId: Int64,
        expectedEpoch: Int16,
        errorCode: KafkaErrorCode,
        epochAfter: Int16
    ) {
        var coordinator = coordinator(in: .empty)
        _ = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            expectedProducerId: pid,
            expectedProducerEpoch: 0,
            freshProducerId: 1,
            nowMs: 2
        )
        #expect(coordinator.epoch == 1)
        #expect(coordinator.metadata(forTransactionalId: txn)?.lastProducerEpoch == 0)
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            expectedProducerId: expectedId,
            expectedProducerEpoch: expectedEpoch,
            freshProducerId: 1,
            nowMs: 3
        )
        #expect(result.response?.errorCode == errorCode)
        #expect(coordinator.epoch == epochAfter)
    }

    @Test func newIdAcceptsAnyExpectedProducer() {
        var coordinator = TransactionCoordinator()
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            expectedProducerId: 3,
            expectedProducerEpoch: 9,
            freshProducerId: pid,
            nowMs: 0
        )
        #expect(result.response == .initProducerId(errorCode: .none, producerId: pid, producerEpoch: 0))
    }

    /// A replayed Empty record at an exhausted epoch, so the next InitProducerId must rotate.
    func exhausted() throws -> TransactionCoordinator {
        var coordinator = TransactionCoordinator()
        let value = TransactionLogValue(
            producerId: pid,
            producerEpoch: Int16.max - 1,
            timeoutMs: timeoutMs,
            state: .completeCommit,
            partitions: [],
            txnLastUpdateTimestampMs: 0,
            txnStartTimestampMs: 0
        )
        try coordinator.replay(key: TransactionLogKey(transactionalId: txn).encode(), value: value.encode())
        return coordinator
    }

    @Test func exhaustedEpochRotatesToTheFreshProducerId() throws {
        var coordinator = try self.exhausted()
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 777,
            nowMs: 1
        )
        #expect(result.response == .initProducerId(errorCode: .none, producerId: 777, producerEpoch: 0))
        #expect(coordinator.metadata(forTransactionalId: txn)?.previousProducerId == pid)
        #expect(onlyValue(result)?.previousProducerId == pid)
        #expect(onlyValue(result)?.producerId == 777)
    }

    @Test func retryWithTheRotatedAwayProducerIsAccepted() throws {
        var coordinator = try self.exhausted()
        _ = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            expectedProducerId: pid,
            expectedProducerEpoch: Int16.max - 1,
            freshProducerId: 777,
            nowMs: 1
        )
        // The answer was lost; the producer retries with its old id and epoch: the previous id with
        // an exhausted epoch passes the fencing check, and matches the last epoch.
        let retry = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            expectedProducerId: pid,
            expectedProducerEpoch: Int16.max - 1,
            freshProducerId: 888,
            nowMs: 2
        )
        #expect(retry.response == .initProducerId(errorCode: .none, producerId: 777, producerEpoch: 0))
    }

    @Test func olderClientsGetInvalidProducerEpochForProducerFenced() {
        let cases: [(ApiKey, Int16, KafkaErrorCode)] = [
            (.initProducerId, 3, .invalidProducerEpoch), (.initProducerId, 4, .producerFenced),
            (.addPartitionsToTxn, 1, .invalidProducerEpoch), (.addPartitionsToTxn, 2, .producerFenced),
            (.addOffsetsToTxn, 1, .invalidProducerEpoch), (.endTxn, 1, .invalidProducerEpoch),
            (.endTxn, 2, .producerFenced), (.produce, 0, .producerFenced),
        ]
        for (api, version, expected) in cases {
            #expect(transactionErrorCode(.producerFenced, forApi: api, version: version) == expected)
        }
        #expect(transactionErrorCode(.concurrentTransactions, forApi: .endTxn, version: 0) == .concurrentTransactions)
    }
}

@Suite struct AddPartitionsTests {
    /// (state before, error, state after, record written)
    static let byState: [(TransactionState, KafkaErrorCode, TransactionState, Bool)] = [
        (.empty, .none, .ongoing, true),
        (.ongoing, .none, .ongoing, true),
        (.completeCommit, .none, .ongoing, true),
        (.completeAbort, .none, .ongoing, true),
        (.prepareCommit, .concurrentTransactions, .prepareCommit, false),
        (.prepareAbort, .concurrentTransactions, .prepareAbort, false),
    ]

    @Test(arguments: byState)
    func addingPartitionT1(before: TransactionState, errorCode: KafkaErrorCode, after: TransactionState, record: Bool) {
        var coordinator = coordinator(in: before)
        let result = coordinator.addPartitions(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            partitions: [t1],
            nowMs: 5000
        )
        #expect(result.response == .addPartitions(errors: [t1: errorCode]))
        #expect(coordinator.state == after)
        #expect(result.records.count == (record ? 1 : 0))
        #expect(result.actions.isEmpty)
        if record {
            let metadata = coordinator.metadata(forTransactionalId: txn)!
            // A new transaction starts its clock now; an open one keeps its start and partitions.
            #expect(metadata.txnStartTimestampMs == (before == .ongoing ? 1000 : 5000))
            #expect(metadata.partitions == (before == .ongoing ? [t0, t1] : [t1]))
            #expect(onlyValue(result)?.partitions == metadata.partitions)
            #expect(onlyValue(result)?.state == .ongoing)
        }
    }

    @Test func partitionsAlreadyInTheTransactionNeedNoRecord() {
        var coordinator = coordinator(in: .ongoing)
        let result = coordinator.addPartitions(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            partitions: [t0],
            nowMs: 5000
        )
        #expect(result == TransactionResult(response: .addPartitions(errors: [t0: .none])))
    }

    /// (transactional id, producer id, epoch, error)
    static let fencing: [(String, Int64, Int16, KafkaErrorCode)] = [
        ("unknown", pid, 0, .invalidProducerIdMapping),
        (txn, 555, 0, .invalidProducerIdMapping),
        (txn, pid, 1, .producerFenced),
        (txn, pid, -1, .producerFenced),
        ("", pid, 0, .invalidRequest),
    ]

    @Test(arguments: fencing)
    func fencingErrors(transactionalId: String, producerId: Int64, epoch: Int16, errorCode: KafkaErrorCode) {
        var coordinator = coordinator(in: .ongoing)
        let before = coordinator.transactions
        let partitions = coordinator.addPartitions(
            transactionalId: transactionalId,
            producerId: producerId,
            producerEpoch: epoch,
            partitions: [t0, t1],
            nowMs: 9
        )
        #expect(partitions == TransactionResult(response: .addPartitions(errors: [t0: errorCode, t1: errorCode])))
        let offsets = coordinator.addOffsets(
            transactionalId: transactionalId,
            producerId: producerId,
            producerEpoch: epoch,
            groupId: "g",
            offsetsPartition: 0,
            nowMs: 9
        )
        #expect(offsets == TransactionResult(response: .addOffsets(errorCode: errorCode)))
        #expect(coordinator.transactions == before)
    }

    @Test func addOffsetsAddsTheGroupsOffsetsPartition() {
        var coordinator = coordinator(in: .empty)
        let result = coordinator.addOffsets(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            groupId: "g",
            offsetsPartition: 0,
            nowMs: 7
        )
        #expect(result.response == .addOffsets(errorCode: .none))
        #expect(coordinator.metadata(forTransactionalId: txn)?.partitions == [offsets0])
        #expect(onlyValue(result)?.partitions == [offsets0])
        #expect(coordinator.state == .ongoing)
    }

    /// verify_only (KIP-890): (state, producer id, epoch, partitions → errors)
    static let verification: [(TransactionState, Int64, Int16, [TransactionPartition: KafkaErrorCode])] = [
        (.ongoing, pid, 0, [t0: .none, t1: .transactionAbortable]),
        (.empty, pid, 0, [t0: .transactionAbortable, t1: .transactionAbortable]),
        (.prepareCommit, pid, 0, [t0: .concurrentTransactions, t1: .concurrentTransactions]),
        (.ongoing, pid, 1, [t0: .producerFenced, t1: .producerFenced]),
        (.ongoing, 5, 0, [t0: .invalidProducerIdMapping, t1: .invalidProducerIdMapping]),
    ]

    @Test(arguments: verification)
    func verifyOnlyChangesNothing(
        state: TransactionState,
        producerId: Int64,
        epoch: Int16,
        errors: [TransactionPartition: KafkaErrorCode]
    ) {
        let coordinator = coordinator(in: state)
        #expect(
            coordinator.verifyPartitions(
                transactionalId: txn,
                producerId: producerId,
                producerEpoch: epoch,
                partitions: [t0, t1]
            )
                == errors
        )
        #expect(
            coordinator.isPartitionInTransaction(
                transactionalId: txn,
                producerId: producerId,
                producerEpoch: epoch,
                partition: t0
            )
                == (errors[t0] == KafkaErrorCode.none)
        )
        #expect(
            !coordinator.isPartitionInTransaction(
                transactionalId: txn,
                producerId: producerId,
                producerEpoch: epoch,
                partition: t1
            )
        )
        #expect(
            coordinator.verifyPartitions(
                transactionalId: "unknown",
                producerId: pid,
                producerEpoch: 0,
                partitions: [t0]
            ) == [t0: .invalidProducerIdMapping]
        )
    }
}

@Suite struct EndTransactionTests {
    /// (state before, commit, error, state after, markers written)
    static let byState: [(TransactionState, Bool, KafkaErrorCode, TransactionState, Bool)] = [
        (.ongoing, true, .none, .prepareCommit, true),
        (.ongoing, false, .none, .prepareAbort, true),
        (.prepareCommit, true, .concurrentTransactions, .prepareCommit, false),
        (.prepareCommit, false, .invalidTxnState, .prepareCommit, false),
        (.prepareAbort, false, .concurrentTransactions, .prepareAbort, false),
        (.prepareAbort, true, .invalidTxnState, .prepareAbort, false),
        (.completeCommit, true, .none, .completeCommit, false),
        (.completeCommit, false, .invalidTxnState, .completeCommit, false),
        (.completeAbort, false, .none, .completeAbort, false),
        (.completeAbort, true, .invalidTxnState, .completeAbort, false),
        (.empty, true, .invalidTxnState, .empty, false),
        (.empty, false, .invalidTxnState, .empty, false),
    ]

    @Test(arguments: byState)
    func endTransaction(
        before: TransactionState,
        commit: Bool,
        errorCode: KafkaErrorCode,
        after: TransactionState,
        markers: Bool
    ) {
        var coordinator = coordinator(in: before)
        let result = coordinator.endTransaction(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            commit: commit,
            nowMs: 3000
        )
        let ok = errorCode == .none
        #expect(
            result.response
                == .endTransaction(errorCode: errorCode, producerId: ok ? pid : -1, producerEpoch: ok ? 0 : -1)
        )
        #expect(coordinator.state == after)
        #expect(result.records.count == (markers ? 1 : 0))
        if markers {
            #expect(onlyValue(result)?.state == after)
            #expect(onlyValue(result)?.partitions == [t0])
            #expect(onlyValue(result)?.txnStartTimestampMs == 1000)
            #expect(onlyValue(result)?.txnLastUpdateTimestampMs == 3000)
            #expect(
                result.markers == [
                    TransactionMarkers(
                        transactionalId: txn,
                        producerId: pid,
                        producerEpoch: 0,
                        coordinatorEpoch: 0,
                        commit: commit,
                        partitions: [t0]
                    )
                ]
            )
        } else {
            #expect(result.actions.isEmpty)
        }
    }

    @Test(arguments: AddPartitionsTests.fencing)
    func fencingErrors(transactionalId: String, producerId: Int64, epoch: Int16, errorCode: KafkaErrorCode) {
        var coordinator = coordinator(in: .ongoing)
        let before = coordinator.transactions
        let result = coordinator.endTransaction(
            transactionalId: transactionalId,
            producerId: producerId,
            producerEpoch: epoch,
            commit: true,
            nowMs: 9
        )
        #expect(
            result
                == TransactionResult(response: .endTransaction(errorCode: errorCode, producerId: -1, producerEpoch: -1))
        )
        #expect(coordinator.transactions == before)
    }

    @Test func markersWrittenCompletesTheTransaction() {
        for commit in [true, false] {
            var coordinator = coordinator(in: commit ? .prepareCommit : .prepareAbort)
            let result = coordinator.markersWritten(
                transactionalId: txn,
                producerId: pid,
                producerEpoch: 0,
                nowMs: 4000
            )
            #expect(result.response == nil)
            #expect(result.actions.isEmpty)
            #expect(coordinator.state == (commit ? .completeCommit : .completeAbort))
            #expect(coordinator.metadata(forTransactionalId: txn)?.partitions == [])
            #expect(onlyValue(result)?.state == (commit ? .completeCommit : .completeAbort))
            #expect(onlyValue(result)?.partitions == [])
            #expect(onlyValue(result)?.txnLastUpdateTimestampMs == 4000)
        }
    }

    @Test(arguments: [
        (TransactionState.prepareCommit, pid, Int16(1)), (.prepareCommit, 5, 0), (.ongoing, pid, 0),
        (.completeCommit, pid, 0),
    ])
    func staleMarkersWrittenChangesNothing(state: TransactionState, producerId: Int64, epoch: Int16) {
        var coordinator = coordinator(in: state)
        let before = coordinator.transactions
        #expect(
            coordinator.markersWritten(transactionalId: txn, producerId: producerId, producerEpoch: epoch, nowMs: 1)
                == .none
        )
        #expect(coordinator.transactions == before)
    }

    @Test func aFullTransactionCycleTwice() {
        var coordinator = coordinator(in: .completeCommit)
        _ = coordinator.addPartitions(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            partitions: [t1],
            nowMs: 2
        )
        let end = coordinator.endTransaction(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            commit: false,
            nowMs: 3
        )
        #expect(end.markers.map(\.partitions) == [[t1]])
        _ = coordinator.markersWritten(transactionalId: txn, producerId: pid, producerEpoch: 0, nowMs: 4)
        #expect(coordinator.state == .completeAbort)
    }
}

@Suite struct FencingAndTimeoutTests {
    @Test func secondInitProducerIdFencesTheFirstProducer() {
        var coordinator = coordinator(in: .empty)
        let second = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 1,
            nowMs: 2
        )
        #expect(second.response == .initProducerId(errorCode: .none, producerId: pid, producerEpoch: 1))
        // The zombie at epoch 0:
        #expect(
            coordinator.addPartitions(
                transactionalId: txn,
                producerId: pid,
                producerEpoch: 0,
                partitions: [t0],
                nowMs: 3
            ).response
                == .addPartitions(errors: [t0: .producerFenced])
        )
        #expect(
            coordinator.endTransaction(transactionalId: txn, producerId: pid, producerEpoch: 0, commit: true, nowMs: 3)
                .response?
                .errorCode == .producerFenced
        )
        #expect(
            coordinator.addPartitions(
                transactionalId: txn,
                producerId: pid,
                producerEpoch: 1,
                partitions: [t0],
                nowMs: 3
            ).response
                == .addPartitions(errors: [t0: .none])
        )
    }

    @Test func zombieWithAnOpenTransactionIsAbortedAndFenced() {
        var coordinator = coordinator(in: .ongoing)
        _ = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 1,
            nowMs: 2
        )
        #expect(coordinator.epoch == 1)
        #expect(
            coordinator.endTransaction(transactionalId: txn, producerId: pid, producerEpoch: 0, commit: true, nowMs: 3)
                .response?
                .errorCode == .producerFenced
        )
        #expect(
            !coordinator.isPartitionInTransaction(
                transactionalId: txn,
                producerId: pid,
                producerEpoch: 0,
                partition: t0
            )
        )
    }

    @Test(arguments: [(Int64(61_000), false), (61_001, true)])
    func ongoingTransactionTimesOut(nowMs: Int64, aborted: Bool) {
        // Started at 1000 with a 60 s timeout: aborted once more than 60 s have passed.
        var coordinator = coordinator(in: .ongoing)
        let result = coordinator.tick(nowMs: nowMs)
        #expect(coordinator.state == (aborted ? .prepareAbort : .ongoing))
        #expect(coordinator.epoch == (aborted ? 1 : 0))
        #expect(result.response == nil)
        #expect(result.records.count == (aborted ? 1 : 0))
        #expect(onlyValue(result)?.producerEpoch == (aborted ? 1 : nil))
        #expect(
            result.markers
                == (aborted
                    ? [
                        TransactionMarkers(
                            transactionalId: txn,
                            producerId: pid,
                            producerEpoch: 1,
                            coordinatorEpoch: 0,
                            commit: false,
                            partitions: [t0]
                        )
                    ]
                    : [])
        )
        if aborted {
            // The timed-out producer is fenced; the abort completes at the new epoch.
            #expect(
                coordinator.endTransaction(
                    transactionalId: txn,
                    producerId: pid,
                    producerEpoch: 0,
                    commit: true,
                    nowMs: nowMs
                )
                .response?.errorCode == .producerFenced
            )
            _ = coordinator.markersWritten(transactionalId: txn, producerId: pid, producerEpoch: 1, nowMs: nowMs)
            #expect(coordinator.state == .completeAbort)
        }
    }

    @Test(arguments: [TransactionState.prepareCommit, .prepareAbort])
    func preparedTransactionsDoNotTimeOut(state: TransactionState) {
        var coordinator = coordinator(in: state)
        #expect(coordinator.tick(nowMs: 1_000_000) == .none)
        #expect(coordinator.state == state)
    }

    static let week: Int64 = 604_800_000

    /// (state, expires at now = 1000 + 7 days)
    @Test(arguments: [
        (TransactionState.empty, true), (.completeCommit, true), (.completeAbort, true), (.prepareCommit, false),
        (.prepareAbort, false),
    ])
    func transactionalIdsExpire(state: TransactionState, expires: Bool) {
        var coordinator = coordinator(in: state)
        #expect(coordinator.tick(nowMs: 1000 + Self.week - 1) == .none)
        let result = coordinator.tick(nowMs: 1000 + Self.week)
        #expect(
            result.records
                == (expires ? [TransactionLogRecord(key: TransactionLogKey(transactionalId: txn), value: nil)] : [])
        )
        #expect((coordinator.state == nil) == expires)
        #expect(result.actions.isEmpty)
    }

    @Test func expiredIdStartsOverAtEpochZero() {
        var coordinator = coordinator(in: .completeCommit)
        _ = coordinator.tick(nowMs: 1000 + Self.week)
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: 200,
            nowMs: 0
        )
        #expect(result.response == .initProducerId(errorCode: .none, producerId: 200, producerEpoch: 0))
        #expect(
            coordinator.addPartitions(
                transactionalId: txn,
                producerId: pid,
                producerEpoch: 0,
                partitions: [t0],
                nowMs: 3
            ).response
                == .addPartitions(errors: [t0: .invalidProducerIdMapping])
        )
    }
}

@Suite struct ReplayTests {
    /// Records of a run through every kind of transition, by several transactional ids.
    static func run() -> (TransactionCoordinator, [TransactionLogRecord]) {
        var coordinator = TransactionCoordinator()
        var records: [TransactionLogRecord] = []
        func apply(_ result: TransactionResult) { records += result.records }
        for (index, id) in ["a", "b", "c", "d", "e"].enumerated() {
            apply(
                coordinator.initProducerId(
                    transactionalId: id,
                    transactionTimeoutMs: timeoutMs,
                    freshProducerId: Int64(index),
                    nowMs: 10
                )
            )
        }
        apply(
            coordinator.initProducerId(transactionalId: "a", transactionTimeoutMs: 5000, freshProducerId: 9, nowMs: 11)
        )
        apply(
            coordinator.addPartitions(
                transactionalId: "a",
                producerId: 0,
                producerEpoch: 1,
                partitions: [t0, t1],
                nowMs: 12
            )
        )
        apply(
            coordinator.addOffsets(
                transactionalId: "a",
                producerId: 0,
                producerEpoch: 1,
                groupId: "g",
                offsetsPartition: 0,
                nowMs: 12
            )
        )
        apply(
            coordinator.endTransaction(transactionalId: "a", producerId: 0, producerEpoch: 1, commit: true, nowMs: 13)
        )
        apply(coordinator.markersWritten(transactionalId: "a", producerId: 0, producerEpoch: 1, nowMs: 14))
        apply(
            coordinator.addPartitions(
                transactionalId: "b",
                producerId: 1,
                producerEpoch: 0,
                partitions: [t0],
                nowMs: 15
            )
        )
        apply(
            coordinator.endTransaction(transactionalId: "b", producerId: 1, producerEpoch: 0, commit: false, nowMs: 16)
        )
        apply(
            coordinator.addPartitions(
                transactionalId: "c",
                producerId: 2,
                producerEpoch: 0,
                partitions: [t1],
                nowMs: 17
            )
        )
        apply(
            coordinator.addPartitions(
                transactionalId: "d",
                producerId: 3,
                producerEpoch: 0,
                partitions: [t1],
                nowMs: 18
            )
        )
        apply(
            coordinator.endTransaction(transactionalId: "d", producerId: 3, producerEpoch: 0, commit: true, nowMs: 19)
        )
        apply(coordinator.tick(nowMs: 14 + 604_800_000))  // c times out, a and e expire
        return (coordinator, records)
    }

    @Test func replayingTheRecordsRebuildsTheState() throws {
        let (live, records) = Self.run()
        #expect(live.state == nil)
        #expect(live.metadata(forTransactionalId: "a") == nil)
        #expect(live.metadata(forTransactionalId: "c")?.state == .prepareAbort)
        var replayed = TransactionCoordinator()
        for record in records {
            try replayed.replay(key: record.encodeKey(), value: record.encodeValue())
        }
        // The last epoch is not in the log, as in Kafka.
        var expected = live.transactions
        for id in expected.keys { expected[id]!.lastProducerEpoch = -1 }
        #expect(replayed.transactions == expected)
        #expect(Set(replayed.transactions.keys) == ["b", "c", "d"])
    }

    @Test func crashBetweenPrepareAndCompleteLeavesPendingCompletions() throws {
        let (_, records) = Self.run()
        var replayed = TransactionCoordinator()
        for record in records { try replayed.replay(record) }
        #expect(
            replayed.pendingCompletions() == [
                TransactionMarkers(
                    transactionalId: "b",
                    producerId: 1,
                    producerEpoch: 0,
                    coordinatorEpoch: 0,
                    commit: false,
                    partitions: [t0]
                ),
                // Aborted by the timeout at the fencing epoch.
                TransactionMarkers(
                    transactionalId: "c",
                    producerId: 2,
                    producerEpoch: 1,
                    coordinatorEpoch: 0,
                    commit: false,
                    partitions: [t1]
                ),
                TransactionMarkers(
                    transactionalId: "d",
                    producerId: 3,
                    producerEpoch: 0,
                    coordinatorEpoch: 0,
                    commit: true,
                    partitions: [t1]
                ),
            ]
        )
        // Completing them after the restart works as before it.
        let completed = replayed.markersWritten(transactionalId: "d", producerId: 3, producerEpoch: 0, nowMs: 100)
        #expect(onlyValue(completed)?.state == .completeCommit)
        #expect(replayed.pendingCompletions().map(\.transactionalId) == ["b", "c"])
        // While the markers are pending, the producer's retry of EndTxn is told to wait.
        #expect(
            replayed.endTransaction(transactionalId: "b", producerId: 1, producerEpoch: 0, commit: false, nowMs: 100)
                .response?
                .errorCode == .concurrentTransactions
        )
    }

    @Test func garbageIsRefusedDuringReplay() {
        var coordinator = TransactionCoordinator()
        #expect(throws: InternalRecordError(.malformed, "")) {
            try coordinator.replay(key: ByteBuffer(bytes: [0, 0, 0, 1, 0x61]), value: ByteBuffer(bytes: [0, 0, 1]))
        }
        #expect(coordinator.transactions.isEmpty)
    }

    @Test(arguments: [TransactionState.dead, .prepareEpochFence])
    func statesKafkaNeverWritesAreRefused(state: TransactionState) {
        var coordinator = TransactionCoordinator()
        let value = TransactionLogValue(
            producerId: 1,
            producerEpoch: 0,
            timeoutMs: 1,
            state: state,
            partitions: [],
            txnLastUpdateTimestampMs: 0,
            txnStartTimestampMs: 0
        )
        #expect(throws: InternalRecordError(.malformed, "")) {
            try coordinator.replay(key: TransactionLogKey(transactionalId: txn).encode(), value: value.encode())
        }
        #expect(coordinator.transactions.isEmpty)
    }

    @Test func extremeStoredTimestampsDoNotTrap() throws {
        var coordinator = TransactionCoordinator()
        for (id, start) in [("min", Int64.min), ("max", Int64.max)] {
            let value = TransactionLogValue(
                producerId: 1,
                producerEpoch: Int16.max,
                timeoutMs: Int32.max,
                state: .ongoing,
                partitions: [t0],
                txnLastUpdateTimestampMs: start,
                txnStartTimestampMs: start
            )
            try coordinator.replay(TransactionLogRecord(key: TransactionLogKey(transactionalId: id), value: value))
        }
        let result = coordinator.tick(nowMs: 1_000_000_000_000)
        // The one that started at Int64.min timed out; the epoch stays at its maximum.
        #expect(result.markers.map(\.transactionalId) == ["min"])
        #expect(result.markers.map(\.producerEpoch) == [Int16.max])
        #expect(coordinator.list(durationFilterMs: 0, nowMs: 0).transactions.map(\.transactionalId) == ["min"])
    }

    @Test func version0LogIsWrittenWhenConfigured() {
        var coordinator = TransactionCoordinator(configuration: TransactionCoordinatorConfiguration(logValueVersion: 0))
        let result = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: pid,
            nowMs: 0
        )
        #expect(onlyValue(result)?.version == 0)
        #expect(onlyValue(result)?.encode().getInteger(at: 0, as: Int16.self) == 0)
    }

    @Test func markersCarryTheConfiguredCoordinatorEpoch() {
        var coordinator = TransactionCoordinator(
            configuration: TransactionCoordinatorConfiguration(coordinatorEpoch: 4)
        )
        _ = coordinator.initProducerId(
            transactionalId: txn,
            transactionTimeoutMs: timeoutMs,
            freshProducerId: pid,
            nowMs: 0
        )
        _ = coordinator.addPartitions(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            partitions: [t0],
            nowMs: 0
        )
        let end = coordinator.endTransaction(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            commit: true,
            nowMs: 0
        )
        #expect(end.markers.map(\.coordinatorEpoch) == [4])
    }
}

@Suite struct DescribeAndListTests {
    @Test func describeShowsKafkasFields() {
        var coordinator = coordinator(in: .ongoing)
        _ = coordinator.addPartitions(
            transactionalId: txn,
            producerId: pid,
            producerEpoch: 0,
            partitions: [t1, TransactionPartition("a", 3)],
            nowMs: 2000
        )
        #expect(
            coordinator.describe(transactionalIds: [txn, "unknown", ""]) == [
                DescribedTransaction(
                    transactionalId: txn,
                    errorCode: .none,
                    state: "Ongoing",
                    timeoutMs: timeoutMs,
                    startTimeMs: 1000,
                    producerId: pid,
                    producerEpoch: 0,
                    topics: [(topic: "a", partitions: [3]), (topic: "t", partitions: [0, 1])]
                ),
                DescribedTransaction(transactionalId: "unknown", errorCode: .transactionalIdNotFound),
                DescribedTransaction(transactionalId: "", errorCode: .invalidRequest),
            ]
        )
    }

    @Test func describeAnEmptyTransaction() {
        let coordinator = coordinator(in: .empty)
        #expect(
            coordinator.describe(transactionalIds: [txn])
                == [
                    DescribedTransaction(
                        transactionalId: txn,
                        errorCode: .none,
                        state: "Empty",
                        timeoutMs: timeoutMs,
                        startTimeMs: -1,
                        producerId: pid,
                        producerEpoch: 0
                    )
                ]
        )
    }

    /// "b" PrepareAbort since 15 (producer 1), "c" PrepareAbort
    /// (timed out), "d" PrepareCommit (producer 3); listed at 14 + 7 days.
    static let filters: [([String], [Int64], Int64, [String], [String])] = [
        ([], [], -1, ["b", "c", "d"], []),
        (["PrepareAbort"], [], -1, ["b", "c"], []),
        (["PrepareCommit", "Nonsense"], [], -1, ["d"], ["Nonsense"]),
        (["prepareabort"], [], -1, [], ["prepareabort"]),
        ([], [1, 3], -1, ["b", "d"], []),
        (["PrepareAbort"], [3], -1, [], []),
        ([], [], 604_800_000 - 10, ["b", "c", "d"], []),
        ([], [], 604_800_000, [], []),
    ]

    @Test(arguments: filters)
    func listFilters(states: [String], producerIds: [Int64], durationMs: Int64, listed: [String], unknown: [String]) {
        let (coordinator, _) = ReplayTests.run()
        let result = coordinator.list(
            stateFilters: states,
            producerIdFilters: producerIds,
            durationFilterMs: durationMs,
            nowMs: 14 + 604_800_000
        )
        #expect(result.transactions.map(\.transactionalId) == listed)
        #expect(result.unknownStateFilters == unknown)
    }

    @Test func listShowsProducerAndState() {
        let coordinator = coordinator(in: .completeCommit)
        #expect(
            coordinator.list(nowMs: 0).transactions == [
                ListedTransaction(transactionalId: txn, producerId: pid, state: "CompleteCommit")
            ]
        )
    }
}
