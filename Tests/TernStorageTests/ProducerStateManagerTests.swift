import Testing

@testable import TernStorage

/// Idempotent producer rules as event → verdict lines.
@Suite struct ProducerStateManagerTests {
    typealias Table = ProducerStateManager

    private func record(
        _ table: inout Table,
        _ id: Int64,
        epoch: Int16 = 0,
        _ first: Int32,
        _ last: Int32,
        at offset: Int64
    ) {
        table.record(
            producerId: id,
            epoch: epoch,
            batch: .init(
                firstSequence: first,
                lastSequence: last,
                firstOffset: offset,
                lastOffset: offset + Int64(last - first)
            ),
            maxTimestampMs: 1_000 + offset
        )
    }

    @Test func unknownProducersAndNonIdempotentBatchesAreAppended() {
        let table = Table()
        #expect(table.check(producerId: -1, epoch: -1, firstSequence: -1, lastSequence: -1) == .append)
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 42, lastSequence: 45) == .append)
    }

    @Test func sequencesMustFollowOnAndDuplicatesGetTheirOriginalOffsets() {
        var table = Table()
        record(&table, 7, 0, 2, at: 100)
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 3, lastSequence: 5) == .append)
        #expect(
            table.check(producerId: 7, epoch: 0, firstSequence: 0, lastSequence: 2)
                == .duplicate(firstOffset: 100, lastOffset: 102)
        )
        #expect(
            table.check(producerId: 7, epoch: 0, firstSequence: 4, lastSequence: 5)
                == .reject(.outOfOrderSequence)
        )
        #expect(
            table.check(producerId: 7, epoch: 0, firstSequence: 1, lastSequence: 1)
                == .reject(.outOfOrderSequence)
        )
    }

    @Test func onlyTheLastFiveBatchesAreRemembered() {
        var table = Table()
        for batch in Int32(0)..<6 { record(&table, 1, batch, batch, at: Int64(batch)) }
        #expect(
            table.check(producerId: 1, epoch: 0, firstSequence: 1, lastSequence: 1)
                == .duplicate(firstOffset: 1, lastOffset: 1)
        )
        #expect(
            table.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 0)
                == .reject(.outOfOrderSequence)
        )
    }

    @Test func epochsFenceOldProducersAndANewEpochStartsAtZero() {
        var table = Table()
        record(&table, 9, epoch: 3, 0, 0, at: 0)
        #expect(
            table.check(producerId: 9, epoch: 2, firstSequence: 1, lastSequence: 1) == .reject(.invalidProducerEpoch)
        )
        #expect(
            table.check(producerId: 9, epoch: 4, firstSequence: 5, lastSequence: 5)
                == .reject(.outOfOrderSequence)
        )
        #expect(table.check(producerId: 9, epoch: 4, firstSequence: 0, lastSequence: 0) == .append)
        record(&table, 9, epoch: 4, 0, 0, at: 10)
        #expect(table.check(producerId: 9, epoch: 4, firstSequence: 1, lastSequence: 1) == .append)
    }

    @Test func sequencesWrapAtInt32Max() {
        #expect(Table.nextSequence(after: .max) == 0)
        #expect(Table.lastSequence(first: .max - 1, lastOffsetDelta: 3) == 1)
        var table = Table()
        record(&table, 3, .max - 1, .max, at: 0)
        #expect(table.check(producerId: 3, epoch: 0, firstSequence: 0, lastSequence: 4) == .append)
    }

    /// What DescribeProducers reports: the last sequence and timestamp written, reset by a new epoch.
    @Test func lastSequenceAndTimestampFollowTheLastBatch() {
        var table = Table()
        record(&table, 4, 0, 2, at: 10)
        record(&table, 4, 3, 7, at: 13)
        #expect(table.entries[4]?.lastSequence == 7)
        #expect(table.entries[4]?.lastTimestampMs == 1_013)
        record(&table, 4, epoch: 1, 0, 0, at: 20)
        #expect(table.entries[4]?.epoch == 1)
        #expect(table.entries[4]?.lastSequence == 0)
        #expect(table.entries[4]?.lastTimestampMs == 1_020)
        #expect(Table.Entry(epoch: 0, batches: []).lastSequence == -1)
    }

    // MARK: Transactions

    private func recordTransactional(
        _ table: inout Table,
        _ id: Int64,
        epoch: Int16 = 0,
        _ sequence: Int32,
        at offset: Int64
    ) {
        table.record(
            producerId: id,
            epoch: epoch,
            batch: .init(firstSequence: sequence, lastSequence: sequence, firstOffset: offset, lastOffset: offset),
            maxTimestampMs: 1_000 + offset,
            isTransactional: true
        )
    }

    /// The first transactional batch starts the transaction; later ones do not move its start.
    @Test func aTransactionalBatchStartsATransactionAtItsFirstOffset() {
        var table = Table()
        #expect(table.firstUnstableOffset == nil)
        recordTransactional(&table, 1, 0, at: 10)
        recordTransactional(&table, 1, 1, at: 11)
        #expect(table.entries[1]?.currentTxnFirstOffset == 10)
        recordTransactional(&table, 2, 0, at: 12)
        #expect(table.firstUnstableOffset == 10)
        record(&table, 3, 0, 0, at: 13)  // Idempotent only: no transaction.
        #expect(table.entries[3]?.currentTxnFirstOffset == nil)
    }

    /// A marker ends the transaction and says what it ended; the LSO moves to the next open one.
    @Test func aMarkerEndsTheTransaction() {
        var table = Table()
        recordTransactional(&table, 1, 0, at: 10)
        recordTransactional(&table, 2, 0, at: 12)
        let completed = table.recordMarker(
            producerId: 1,
            epoch: 0,
            coordinatorEpoch: 5,
            offset: 14,
            timestampMs: 2_000,
            isCommit: false
        )
        #expect(completed == .init(producerId: 1, firstOffset: 10, lastOffset: 14, isAborted: true))
        #expect(table.entries[1]?.currentTxnFirstOffset == nil)
        #expect(table.entries[1]?.coordinatorEpoch == 5)
        #expect(table.firstUnstableOffset == 12)
        #expect(table.lastStableOffset(completing: completed!) == 12)
        let commit = table.recordMarker(
            producerId: 2,
            epoch: 0,
            coordinatorEpoch: 5,
            offset: 15,
            timestampMs: 2_000,
            isCommit: true
        )
        #expect(commit?.isAborted == false)
        #expect(table.lastStableOffset(completing: commit!) == 16)
        #expect(table.firstUnstableOffset == nil)
        // No transaction (or no producer) here: nothing is recorded.
        #expect(
            table.recordMarker(producerId: 2, epoch: 0, coordinatorEpoch: 5, offset: 16, timestampMs: 0, isCommit: true)
                == nil
        )
        #expect(
            table.recordMarker(producerId: 9, epoch: 0, coordinatorEpoch: 5, offset: 17, timestampMs: 0, isCommit: true)
                == nil
        )
        #expect(table.entries[9] == nil)
    }

    @Test func markersFromOldEpochsOrOldCoordinatorsAreRefused() {
        var table = Table()
        recordTransactional(&table, 1, epoch: 3, 0, at: 0)
        #expect(table.checkMarker(producerId: 1, epoch: 2, coordinatorEpoch: 0) == .invalidProducerEpoch)
        #expect(table.checkMarker(producerId: 1, epoch: 3, coordinatorEpoch: 0) == nil)
        #expect(table.checkMarker(producerId: 1, epoch: 4, coordinatorEpoch: 0) == nil)
        #expect(table.checkMarker(producerId: 7, epoch: 0, coordinatorEpoch: 0) == nil)
        _ = table.recordMarker(producerId: 1, epoch: 4, coordinatorEpoch: 2, offset: 1, timestampMs: 0, isCommit: false)
        // The marker's bumped epoch is the producer's now, with a fresh sequence space.
        #expect(table.entries[1]?.epoch == 4)
        #expect(table.entries[1]?.batches == [])
        #expect(table.checkMarker(producerId: 1, epoch: 4, coordinatorEpoch: 1) == .transactionCoordinatorFenced)
        #expect(
            table.check(producerId: 1, epoch: 3, firstSequence: 1, lastSequence: 1) == .reject(.invalidProducerEpoch)
        )
    }

    /// Inside a transaction a producer writes transactionally (Kafka's INVALID_TXN_STATE).
    @Test func aNonTransactionalBatchInsideATransactionIsRefused() {
        var table = Table()
        recordTransactional(&table, 1, 0, at: 0)
        #expect(
            table.check(producerId: 1, epoch: 0, firstSequence: 1, lastSequence: 1, isTransactional: false)
                == .reject(.invalidTxnState)
        )
        #expect(
            table.check(producerId: 1, epoch: 0, firstSequence: 1, lastSequence: 1, isTransactional: true) == .append
        )
        // A retry of the transactional batch is still a duplicate.
        #expect(
            table.check(producerId: 1, epoch: 0, firstSequence: 0, lastSequence: 0, isTransactional: true)
                == .duplicate(firstOffset: 0, lastOffset: 0)
        )
    }
}
