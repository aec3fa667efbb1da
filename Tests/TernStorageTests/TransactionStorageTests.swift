import NIOCore
import TernRecords
import TernWire
import Testing

@testable import TernStorage

/// A batch of one record per value from an idempotent (and, with `transactional`, transactional)
/// producer.
func makeProducerBatch(
    _ values: [String],
    producerId: Int64,
    epoch: Int16 = 0,
    sequence: Int32,
    transactional: Bool = false,
    key: String? = nil
) -> ByteBuffer {
    var builder = RecordBatchBuilder(
        isTransactional: transactional,
        producerId: producerId,
        producerEpoch: epoch,
        baseSequence: sequence
    )
    for (index, value) in values.enumerated() {
        builder.append(
            key: (key ?? value).isEmpty ? nil : ByteBuffer(string: key ?? value),
            value: ByteBuffer(string: value),
            timestampMs: 1_700_000_000_000 + Int64(index)
        )
    }
    return try! builder.build()
}

/// Kafka's txnindex entry bytes.
func txnIndexEntry(producerId: Int64, first: Int64, last: Int64, lastStable: Int64) -> [UInt8] {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int16(0))
    buffer.writeInteger(producerId)
    buffer.writeInteger(first)
    buffer.writeInteger(last)
    buffer.writeInteger(lastStable)
    return Array(buffer.readableBytesView)
}

@Suite struct TransactionStorageTests {
    // MARK: Idempotence in the log

    @Test func aRetriedBatchGetsItsOriginalOffsetsAndIsWrittenOnce() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        _ = try await log.append(makeBatch(["plain"]), durability: .none)
        let first = try await log.append(makeProducerBatch(["a", "b"], producerId: 7, sequence: 0), durability: .none)
        #expect(first.baseOffset == 1 && first.lastOffset == 2 && !first.isDuplicate)
        let retry = try await log.append(makeProducerBatch(["a", "b"], producerId: 7, sequence: 0), durability: .fsync)
        #expect(retry.isDuplicate)
        #expect(retry.baseOffset == 1 && retry.lastOffset == 2)
        #expect(log.logEndOffset == 3)
        // A gap in sequences, an old epoch.
        await #expect(throws: StorageError(.outOfOrderSequence)) {
            try await log.append(makeProducerBatch(["c"], producerId: 7, sequence: 5), durability: .none)
        }
        _ = try await log.append(makeProducerBatch(["c"], producerId: 7, epoch: 1, sequence: 0), durability: .none)
        await #expect(throws: StorageError(.invalidProducerEpoch)) {
            try await log.append(makeProducerBatch(["d"], producerId: 7, epoch: 0, sequence: 3), durability: .none)
        }
        #expect(log.logEndOffset == 4)
        #expect(log.producerStates[7]?.epoch == 1)
        #expect(log.producerStates[7]?.lastSequence == 0)
        try await manager.close()
    }

    @Test func clientOriginAddsKafkasClientRules() async throws {
        let (manager, log) = try await TestStorage().openWithPartition(overrides: ["cleanup.policy": "compact"])
        var builder = RecordBatchBuilder(baseOffset: 5)
        builder.append(key: ByteBuffer(string: "k"), value: nil, timestampMs: 1)
        let nonZeroBase = try builder.build()
        await #expect(throws: StorageError(.invalidRecord)) {
            try await log.append(nonZeroBase, durability: .none, origin: .client)
        }
        let keyless = makeProducerBatch(["x"], producerId: 1, sequence: 0, key: "")
        let error = await #expect(throws: StorageError(.recordWithoutKey)) {
            try await log.append(keyless, durability: .none, origin: .client)
        }
        #expect(error?.message.contains("Compacted topic cannot accept message without key") == true)
        #expect(error?.kafkaErrorCode == .invalidRecord)
        // The broker's own writers keep the stored-batch rules only.
        _ = try await log.append(nonZeroBase, durability: .none)
        let twoBatches = makeBatch(["a"]).readableBytesView + makeBatch(["b"]).readableBytesView
        await #expect(throws: StorageError(.invalidRecord)) {
            try await log.append(ByteBuffer(bytes: twoBatches), durability: .none, origin: .client)
        }
        try await manager.close()
    }

    // MARK: Markers and the last stable offset

    @Test func aMarkerIsAControlBatchAsKafkaWritesIt() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        _ = try await log.append(
            makeProducerBatch(["t"], producerId: 3, epoch: 2, sequence: 0, transactional: true),
            durability: .none
        )
        let marker = try await log.appendTransactionMarker(
            producerId: 3,
            producerEpoch: 2,
            coordinatorEpoch: 9,
            commit: true,
            durability: .fsync
        )
        #expect(marker.baseOffset == 1 && marker.lastOffset == 1)
        let stored = try batches(in: log.read(from: 1, maxBytes: 1 << 20).records)
        #expect(stored.count == 1)
        let batch = stored[0]
        #expect(batch.attributes.isControl && batch.attributes.isTransactional)
        #expect(batch.producerId == 3 && batch.producerEpoch == 2 && batch.baseSequence == -1)
        #expect(batch.recordCount == 1)
        let record = try #require(try batch.records(decompressionLimit: 1 << 20).map { $0 }.first)
        #expect(Array(record.key!.readableBytesView) == [0, 0, 0, 1])  // version 0, COMMIT
        #expect(Array(record.value!.readableBytesView) == [0, 0, 0, 0, 0, 9])  // version 0, epoch 9
        try await manager.close()
    }

    @Test func theLastStableOffsetStopsAtTheFirstOpenTransaction() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        _ = try await log.append(makeBatch(["plain"]), durability: .none)
        #expect(log.lastStableOffset == 1)
        _ = try await log.append(
            makeProducerBatch(["p1"], producerId: 1, sequence: 0, transactional: true),
            durability: .none
        )
        _ = try await log.append(
            makeProducerBatch(["p2"], producerId: 2, sequence: 0, transactional: true),
            durability: .none
        )
        _ = try await log.append(
            makeProducerBatch(["p1b"], producerId: 1, sequence: 1, transactional: true),
            durability: .none
        )
        #expect(log.lastStableOffset == 1)
        #expect(log.producerStates[1]?.currentTxnFirstOffset == 1)
        #expect(log.producerStates[2]?.currentTxnFirstOffset == 2)
        // Read committed never returns a batch at or beyond the LSO; uncommitted returns all.
        let committed = try log.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted)
        #expect(try values(in: committed.records) == ["plain"])
        #expect(committed.lastStableOffset == 1)
        #expect(committed.abortedTransactions == [])
        #expect(try log.read(from: 1, maxBytes: 1 << 20, isolation: .readCommitted).records.readableBytes == 0)
        #expect(try values(in: log.read(from: 0, maxBytes: 1 << 20).records) == ["plain", "p1", "p2", "p1b"])
        #expect(try log.read(from: 0, maxBytes: 1).abortedTransactions == nil)
        #expect(log.latestOffset(isolation: .readCommitted) == 1)
        #expect(log.latestOffset(isolation: .readUncommitted) == 4)
        #expect(log.offset(forTimestamp: 0, isolation: .readCommitted)?.offset == 0)
        #expect(log.offset(forTimestamp: 1_700_000_000_001, isolation: .readCommitted) == nil)

        _ = try await log.appendTransactionMarker(
            producerId: 1,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: true,
            durability: .none
        )
        #expect(log.lastStableOffset == 2)  // p2's transaction is still open.
        _ = try await log.appendTransactionMarker(
            producerId: 2,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )
        #expect(log.lastStableOffset == log.logEndOffset)
        let after = try log.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted)
        #expect(try batches(in: after.records).count == 6)
        #expect(after.abortedTransactions?.map(\.producerId) == [2])
        #expect(after.abortedTransactions?.map(\.firstOffset) == [2])
        try await manager.close()
    }

    @Test func markersFromFencedProducersAreRefusedAndStrayMarkersRecordNothing() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        _ = try await log.append(
            makeProducerBatch(["x"], producerId: 4, epoch: 5, sequence: 0, transactional: true),
            durability: .none
        )
        await #expect(throws: StorageError(.invalidProducerEpoch)) {
            try await log.appendTransactionMarker(
                producerId: 4,
                producerEpoch: 4,
                coordinatorEpoch: 0,
                commit: false,
                durability: .none
            )
        }
        #expect(log.logEndOffset == 1)
        // No transaction for producer 8 here: written, nothing recorded.
        let stray = try await log.appendTransactionMarker(
            producerId: 8,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )
        #expect(stray.baseOffset == 1)
        #expect(log.producerStates[8] == nil)
        #expect(log.lastStableOffset == 0)
        // A client may still not write a control batch.
        var control = RecordBatchBuilder(isControl: true, producerId: 4, producerEpoch: 5, baseSequence: 1)
        control.append(key: nil, value: nil, timestampMs: 1)
        await #expect(throws: StorageError(.invalidRecord)) {
            try await log.append(try control.build(), durability: .none, origin: .client)
        }
        try await manager.close()
    }

    // MARK: txnindex

    @Test func anAbortWritesKafkasTxnIndexEntryInTheMarkersSegment() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["segment.bytes": "300"])
        _ = try await log.append(
            makeProducerBatch(["aaaaaaaaaaaaaaaaaaaa"], producerId: 11, sequence: 0, transactional: true),
            durability: .none
        )
        _ = try await log.append(
            makeProducerBatch(["bbbbbbbbbbbbbbbbbbbb"], producerId: 12, sequence: 0, transactional: true),
            durability: .none
        )
        _ = try await log.append(makeBatch(["cccccccccccccccccccccccc"]), durability: .none)
        let abort = try await log.appendTransactionMarker(
            producerId: 11,
            producerEpoch: 0,
            coordinatorEpoch: 1,
            commit: false,
            durability: .none
        )
        let markerSegment = log.segmentBaseOffsets.last!
        #expect(log.segmentBaseOffsets.count >= 2)
        try await manager.close()
        let bytes = try #require(storage.fileSystem.contents(ofPath: storage.segmentPath(markerSegment, .txnIndex)))
        // producer 11, first offset 0, marker offset, LSO 1 (producer 12 still open).
        #expect(bytes == txnIndexEntry(producerId: 11, first: 0, last: abort.baseOffset, lastStable: 1))
        #expect(!storage.fileSystem.fileExists(atPath: storage.segmentPath(0, .txnIndex)) || markerSegment == 0)

        // Reopened from the file after a clean shutdown, the entry still answers reads.
        let reopened = try await storage.open()
        let again = reopened.partition(topic: "t", index: 0)!
        #expect(again.lastStableOffset == 1)
        #expect(again.producerStates[12]?.currentTxnFirstOffset == 1)
        try await reopened.close()
    }

    /// A txnindex goes with its segment.
    @Test func deleteRecordsRemovesTheTxnIndexWithItsSegment() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["segment.bytes": "300"])
        _ = try await log.append(
            makeProducerBatch(["aaaaaaaaaaaaaaaaaaaa"], producerId: 1, sequence: 0, transactional: true),
            durability: .none
        )
        _ = try await log.appendTransactionMarker(
            producerId: 1,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )
        for index in 0..<6 { _ = try await log.append(makeBatch(["filler-\(index)-xxxxxxxxxxxx"]), durability: .none) }
        try await log.flush()
        let path = storage.segmentPath(0, .txnIndex)
        #expect(storage.fileSystem.fileExists(atPath: path))
        try log.deleteRecords(before: log.segmentBaseOffsets[1])
        try await log.flush()
        #expect(!storage.fileSystem.fileExists(atPath: path))
        #expect(
            try log.read(from: log.logStartOffset, maxBytes: 1 << 20, isolation: .readCommitted).abortedTransactions
                == []
        )
        try await manager.close()
    }

    /// Kafka's collectAbortedTransactions: an entry overlaps when its marker is at or after the
    /// fetch offset and its first offset is below the offset after the returned batches.
    @Test func readCommittedListsTheAbortedTransactionsOverlappingWhatItReturns() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        _ = try await log.append(
            makeProducerBatch(["a0"], producerId: 1, sequence: 0, transactional: true),
            durability: .none
        )  // 0
        _ = try await log.appendTransactionMarker(
            producerId: 1,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )  // 1
        _ = try await log.append(makeBatch(["plain"]), durability: .none)  // 2
        _ = try await log.append(
            makeProducerBatch(["b0"], producerId: 2, sequence: 0, transactional: true),
            durability: .none
        )  // 3
        _ = try await log.append(
            makeProducerBatch(["b1"], producerId: 2, sequence: 1, transactional: true),
            durability: .none
        )  // 4
        _ = try await log.appendTransactionMarker(
            producerId: 2,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )  // 5
        let all = try log.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted)
        #expect(all.abortedTransactions?.map { [$0.producerId, $0.firstOffset] } == [[1, 0], [2, 3]])
        // From offset 2: the first transaction's marker is behind.
        let fromTwo = try log.read(from: 2, maxBytes: 1 << 20, isolation: .readCommitted)
        #expect(fromTwo.abortedTransactions?.map(\.producerId) == [2])
        // Only the plain batch fits: the second transaction starts past what is returned.
        let oneBatch = try log.read(from: 2, maxBytes: 1, isolation: .readCommitted)
        #expect(try batches(in: oneBatch.records).map(\.baseOffset) == [2])
        #expect(oneBatch.abortedTransactions == [])
        #expect(try log.read(from: 6, maxBytes: 1 << 20, isolation: .readCommitted).abortedTransactions == [])
        try await manager.close()
    }

    // MARK: Snapshots and recovery

    @Test func snapshotsAreWrittenAtRollsAndCloseAndTheNewestTwoKept() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["segment.bytes": "200"])
        for sequence in Int32(0)..<6 {
            _ = try await log.append(
                makeProducerBatch(["value-\(sequence)-xxxxxxxxxxxxxxxxxxxx"], producerId: 5, sequence: sequence),
                durability: .fsync
            )
        }
        #expect(log.segmentBaseOffsets.count >= 4)
        try await log.flush()
        #expect(log.producerSnapshotOffsets.count == 2)
        #expect(log.producerSnapshotOffsets.last == log.segmentBaseOffsets.last)
        try await manager.close()
        #expect(log.producerSnapshotOffsets.last == 6)
        let bytes = try #require(storage.fileSystem.contents(ofPath: "/data/t-0/00000000000000000006.snapshot"))
        // version 1, crc, one entry of 46 bytes.
        #expect(bytes.count == 10 + 46)
        #expect(bytes[0...1] == [0, 1])
        #expect(bytes[6...9] == [0, 0, 0, 1])
        #expect(Array(bytes[10..<18]) == [0, 0, 0, 0, 0, 0, 0, 5])  // producer id

        let reopened = try await storage.open()
        let again = reopened.partition(topic: "t", index: 0)!
        #expect(again.producerStates[5]?.lastSequence == 5)
        // The last batch is known from the snapshot alone: its retry is a duplicate.
        let retry = try await again.append(
            makeProducerBatch(["value-5-xxxxxxxxxxxxxxxxxxxx"], producerId: 5, sequence: 5),
            durability: .none
        )
        #expect(retry.isDuplicate && retry.baseOffset == 5)
        try await reopened.close()
    }

    @Test func aCorruptSnapshotIsIgnoredAndTheLogReplayed() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        _ = try await log.append(
            makeProducerBatch(["a"], producerId: 2, sequence: 0, transactional: true),
            durability: .none
        )
        _ = try await log.append(
            makeProducerBatch(["b"], producerId: 2, sequence: 1, transactional: true),
            durability: .none
        )
        try await manager.close()
        let path = "/data/t-0/00000000000000000002.snapshot"
        var bytes = try #require(storage.fileSystem.contents(ofPath: path))
        bytes[bytes.count - 1] ^= 0xFF
        storage.fileSystem.setContents(ofPath: path, to: bytes)
        let reopened = try await storage.open()
        let again = reopened.partition(topic: "t", index: 0)!
        #expect(again.producerStates[2]?.currentTxnFirstOffset == 0)
        #expect(again.producerStates[2]?.lastSequence == 1)
        #expect(again.lastStableOffset == 0)
        try await reopened.close()
    }

    /// After a crash (unsynced data dropped) idempotence and ongoing and aborted transactions are
    /// rebuilt from the durable log: the active segment's txnindex was never written, and the
    /// newest snapshot is older than the log's end.
    @Test func crashRecoveryRebuildsProducerStateAndTheTxnIndex() async throws {
        let storage = TestStorage()
        let (_, log) = try await storage.openWithPartition(overrides: ["segment.bytes": "400"])
        var sequences: [Int64: Int32] = [1: 0, 2: 0, 3: 0]
        func produce(_ producerId: Int64, transactional: Bool) async throws -> AppendResult {
            let sequence = sequences[producerId]!
            sequences[producerId] = sequence + 1
            return try await log.append(
                makeProducerBatch(
                    ["p\(producerId)-\(sequence)-xxxxxxxxxxxx"],
                    producerId: producerId,
                    sequence: sequence,
                    transactional: transactional
                ),
                durability: .fsync
            )
        }
        let aborted = try await produce(1, transactional: true)
        for _ in 0..<4 { _ = try await produce(3, transactional: false) }
        let abort = try await log.appendTransactionMarker(
            producerId: 1,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .fsync
        )
        let open = try await produce(2, transactional: true)
        let lastIdempotent = try await produce(3, transactional: false)
        #expect(log.segmentBaseOffsets.count >= 2)
        storage.fileSystem.simulateCrash()

        let recovered = try await storage.open()
        let again = recovered.partition(topic: "t", index: 0)!
        #expect(again.logEndOffset == lastIdempotent.lastOffset + 1)
        #expect(again.lastStableOffset == open.baseOffset)
        #expect(again.producerStates[2]?.currentTxnFirstOffset == open.baseOffset)
        #expect(again.producerStates[1]?.currentTxnFirstOffset == nil)
        let read = try again.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted)
        #expect(
            read.abortedTransactions?.map { [$0.producerId, $0.firstOffset, $0.lastOffset] } == [
                [1, aborted.baseOffset, abort.baseOffset]
            ]
        )
        let retry = try await again.append(
            makeProducerBatch(["p3-4-xxxxxxxxxxxx"], producerId: 3, sequence: 4),
            durability: .none
        )
        #expect(retry.isDuplicate && retry.baseOffset == lastIdempotent.baseOffset)
        await #expect(throws: StorageError(.outOfOrderSequence)) {
            try await again.append(makeProducerBatch(["gap"], producerId: 3, sequence: 9), durability: .none)
        }
        // The transaction open before the crash can still be committed.
        _ = try await again.appendTransactionMarker(
            producerId: 2,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: true,
            durability: .none
        )
        #expect(again.lastStableOffset == again.logEndOffset)
        try await recovered.close()
    }

    /// An ABORT marker that was never fsynced is lost with the crash: the transaction is ongoing
    /// again, with no txnindex entry, and can be ended anew.
    @Test func aMarkerLostInACrashLeavesTheTransactionOpen() async throws {
        let storage = TestStorage()
        let (_, log) = try await storage.openWithPartition()
        let open = try await log.append(
            makeProducerBatch(["t"], producerId: 6, sequence: 0, transactional: true),
            durability: .fsync
        )
        _ = try await log.appendTransactionMarker(
            producerId: 6,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )
        #expect(log.lastStableOffset == 2)
        storage.fileSystem.simulateCrash()

        let recovered = try await storage.open()
        let again = recovered.partition(topic: "t", index: 0)!
        #expect(again.logEndOffset == 1)
        #expect(again.lastStableOffset == open.baseOffset)
        #expect(again.producerStates[6]?.currentTxnFirstOffset == 0)
        #expect(try again.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted).records.readableBytes == 0)
        _ = try await again.appendTransactionMarker(
            producerId: 6,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .fsync
        )
        let read = try again.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted)
        #expect(read.abortedTransactions?.map(\.lastOffset) == [1])
        try await recovered.close()
    }

    // MARK: Cleaner

    @Test func theCleanerDropsAbortedRecordsKeepsCommittedOnesAndStopsAtTheLastStableOffset() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(
            overrides: ["cleanup.policy": "compact", "segment.bytes": "300"]
        )
        func put(_ key: String, _ value: String, producerId: Int64, sequence: Int32) async throws {
            _ = try await log.append(
                makeProducerBatch([value], producerId: producerId, sequence: sequence, transactional: true, key: key),
                durability: .none
            )
        }
        try await put("k", "committed", producerId: 1, sequence: 0)
        _ = try await log.appendTransactionMarker(
            producerId: 1,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: true,
            durability: .none
        )
        try await put("k", "aborted", producerId: 2, sequence: 0)
        try await put("other", "aborted-too", producerId: 2, sequence: 1)
        _ = try await log.appendTransactionMarker(
            producerId: 2,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            commit: false,
            durability: .none
        )
        for index in 0..<3 {
            _ = try await log.append(makeBatch(["filler-\(index)"], key: "f\(index)"), durability: .none)
        }
        // Undecided: must not shadow filler-0 (the map never reaches past the LSO).
        try await put("f0", "open", producerId: 3, sequence: 0)
        for index in 3..<6 {
            _ = try await log.append(makeBatch(["filler-\(index)"], key: "f\(index)"), durability: .none)
        }
        try await log.flush()
        let lastStable = log.lastStableOffset
        #expect(lastStable < log.logEndOffset)
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: 1 << 20)
        var stored: [RecordBatch] = []
        var next = log.logStartOffset
        while next < log.logEndOffset {  // A read returns one segment's batches.
            let read = try batches(in: log.read(from: next, maxBytes: 1 << 20).records)
            stored += read
            next = read.last!.nextOffset
        }
        var kept: [String: [String]] = [:]
        var controlCount = 0
        for batch in stored where batch.baseOffset < lastStable {
            if batch.attributes.isControl { controlCount += 1 }
            guard !batch.attributes.isControl else { continue }
            for record in try batch.records(decompressionLimit: 1 << 20) {
                kept[String(buffer: record.key!), default: []].append(String(buffer: record.value!))
            }
        }
        // The aborted value neither shadows the committed one nor survives; markers stay.
        #expect(kept["k"] == ["committed"])
        #expect(kept["other"] == nil)
        #expect(kept["f0"] == ["filler-0"])
        #expect(controlCount == 2)
        // Nothing at or past the LSO was touched.
        #expect(try values(in: log.read(from: lastStable, maxBytes: 1 << 20).records).first == "open")
        #expect(log.firstDirtyOffset <= lastStable)
        // The aborted transaction is still listed for read committed consumers.
        #expect(
            try log.read(from: 0, maxBytes: 1 << 20, isolation: .readCommitted).abortedTransactions?.map(\.producerId)
                == [2]
        )
        try await manager.close()
    }
}
