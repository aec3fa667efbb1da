import TernWire
import Testing

@testable import TernBroker

/// Idempotent producer rules as event → verdict lines.
@Suite struct ProducerStateTableTests {
    typealias Table = ProducerStateTable

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
                == .reject(.outOfOrderSequenceNumber)
        )
        #expect(
            table.check(producerId: 7, epoch: 0, firstSequence: 1, lastSequence: 1)
                == .reject(.outOfOrderSequenceNumber)
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
                == .reject(.outOfOrderSequenceNumber)
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
                == .reject(.outOfOrderSequenceNumber)
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
}
