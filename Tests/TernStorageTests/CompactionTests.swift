import NIOCore
import Synchronization
import TernCompression
import TernRecords
import Testing

@testable import TernStorage

/// A producer batch of (key, value) records; a nil value is a tombstone.
private func keyedBatch(
    _ records: [(String?, String?)],
    timestampMs: Int64 = 1_700_000_000_000,
    codec: CompressionCodec = .none,
    producerId: Int64 = -1,
    baseSequence: Int32 = -1
) -> ByteBuffer {
    var builder = RecordBatchBuilder(
        codec: codec,
        producerId: producerId,
        producerEpoch: producerId >= 0 ? 0 : -1,
        baseSequence: baseSequence
    )
    for (index, (key, value)) in records.enumerated() {
        builder.append(
            key: key.map { ByteBuffer(string: $0) },
            value: value.map { ByteBuffer(string: $0) },
            timestampMs: timestampMs + Int64(index)
        )
    }
    return try! builder.build()
}

/// One record as read back: offset, key, value (nil for a tombstone), timestamp.
private struct Kept: Hashable, CustomStringConvertible {
    var offset: Int64
    var key: String?
    var value: String?
    var timestampMs: Int64 = 0

    var description: String { "\(self.offset):\(self.key ?? "∅")=\(self.value ?? "†")" }
}

/// Every record from the log start to the log end, in order.
private func readAll(_ log: PartitionLog) throws -> [Kept] {
    var next = log.logStartOffset
    var result: [Kept] = []
    while next < log.logEndOffset {
        let read = try log.read(from: next, maxBytes: 1 << 20)
        let found = try batches(in: read.records)
        guard !found.isEmpty else { break }
        for batch in found {
            try batch.validate()
            for record in try batch.records(decompressionLimit: 1 << 20) where record.offset >= next {
                result.append(
                    Kept(
                        offset: record.offset,
                        key: record.key.map { String(buffer: $0) },
                        value: record.value.map { String(buffer: $0) },
                        timestampMs: record.timestampMs
                    )
                )
            }
            next = batch.lastOffset + 1
        }
    }
    return result
}

/// The last record per key, in offset order: what a complete compaction keeps.
private func latestPerKey(_ records: [Kept], droppingTombstones: Bool) -> [Kept] {
    var last: [String: Kept] = [:]
    for record in records { if let key = record.key { last[key] = record } }
    return last.values.filter { !droppingTombstones || $0.value != nil }.sorted { $0.offset < $1.offset }
}

/// Every batch rolls a segment (segment.ms 1 and the clock moves 10 ms per append), so segments
/// are small and the cleaner groups them, up to 400 bytes.
private let compacted: [String: String] = [
    "cleanup.policy": "compact", "segment.bytes": "400", "segment.ms": "1", "delete.retention.ms": "1000",
]

private func append(_ storage: TestStorage, _ log: PartitionLog, _ batch: ByteBuffer) async throws {
    storage.clock.set(nowMs: storage.clock.nowMs + 10)
    _ = try await log.append(batch, durability: .none)
}

/// Appends one batch per element, each in a segment of its own, and flushes.
private func produce(_ storage: TestStorage, _ log: PartitionLog, _ batches: [[(String?, String?)]]) async throws {
    for records in batches { try await append(storage, log, keyedBatch(records)) }
    try await log.flush()
}

@Suite struct OffsetMapTests {
    @Test func keepsTheLargestOffsetPerKey() {
        var map = OffsetMap(budgetBytes: 1 << 16)
        map.put(key: ByteBuffer(string: "a"), offset: 3)
        map.put(key: ByteBuffer(string: "b"), offset: 4)
        map.put(key: ByteBuffer(string: "a"), offset: 9)
        map.put(key: ByteBuffer(string: "a"), offset: 5)
        #expect(map.get(key: ByteBuffer(string: "a")) == 9)
        #expect(map.get(key: ByteBuffer(string: "b")) == 4)
        #expect(map.get(key: ByteBuffer(string: "c")) == nil)
        #expect(map.count == 2)
        #expect(map.latestOffset == 9)
    }

    @Test func theBudgetBoundsTheEntriesAndGrowingKeepsThem() {
        // 24 bytes a slot: 4096 bytes hold 128 slots, 96 entries at 75 %.
        var map = OffsetMap(budgetBytes: 4096, initialSlotCount: 2)
        #expect(map.maximumSlotCount == 128)
        #expect(map.maximumEntryCount == 96)
        for index in 0..<96 { map.put(key: ByteBuffer(string: "key-\(index)"), offset: Int64(index)) }
        #expect(!map.canHold(additional: 1))
        #expect(map.canHold(additional: 0))
        for index in 0..<96 { #expect(map.get(key: ByteBuffer(string: "key-\(index)")) == Int64(index)) }
    }
}

@Suite struct CompactionTests {
    static let budget = 1 << 20

    @Test func keepsTheLastRecordPerKeyWithOffsetsAndNeverTouchesTheActiveSegment() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        let input: [[(String?, String?)]] = [
            [("a", "a1"), ("b", "b1")], [("c", "c1"), ("a", "a2")], [("b", "b2"), ("d", "d1")],
            [("a", "a3"), (nil, "keyless")], [("c", "c2")], [("e", "e1"), ("a", "a4")],
        ]
        try await produce(storage, log, input)
        let before = try readAll(log)
        let activeBase = log.segmentBaseOffsets.last!
        #expect(log.segmentBaseOffsets.count > 2)

        let result = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        let after = try readAll(log)
        let cleanable = before.filter { $0.offset < activeBase }
        let active = before.filter { $0.offset >= activeBase }
        // Below the active segment: the last record per key (keyless ones dropped), unless the key
        // appears again in the active segment, which the cleaner does not read.
        var expected = latestPerKey(cleanable, droppingTombstones: false)
        expected.append(contentsOf: active)
        #expect(after == expected)
        #expect(zip(after, after.dropFirst()).allSatisfy { $0.offset < $1.offset })
        #expect(log.segmentBaseOffsets.last == activeBase)
        #expect(log.logEndOffset == Int64(before.count))
        #expect(result.firstDirtyOffset == activeBase)
        #expect(log.firstDirtyOffset == activeBase)
        // Small segments were grouped: fewer segments below the active one.
        #expect(log.segmentBaseOffsets.count < 4)

        // A second pass finds nothing dirty and changes nothing.
        #expect(log.cleaningCandidate(nowMs: storage.clock.nowMs)?.isCleanable == false)
        try await manager.close()

        // The cleaned log survives a clean restart and a scan, with the cleaner checkpoint.
        let reopened = try await storage.open()
        let again = reopened.partition(topic: "t", index: 0)!
        #expect(try readAll(again) == expected)
        try await reopened.close()
    }

    @Test func keepsBatchMetadataAndRecompressesWithTheBatchCodec() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        try await append(
            storage,
            log,
            keyedBatch([("a", "a1"), ("b", "b1"), ("a", "a2")], timestampMs: 1_000, codec: .zstd)
        )
        try await append(storage, log, keyedBatch([("x", String(repeating: "x", count: 300))]))
        try await append(storage, log, keyedBatch([("y", "y")]))
        try await log.flush()
        let original = try batches(in: try log.read(from: 0, maxBytes: 1 << 20).records)[0]
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        let cleaned = try batches(in: try log.read(from: 0, maxBytes: 1 << 20).records)[0]
        try cleaned.validate()
        #expect(cleaned.attributes.codec == .zstd)
        #expect(cleaned.baseOffset == 0)
        #expect(cleaned.lastOffsetDelta == 2)
        #expect(cleaned.recordCount == 2)
        #expect(cleaned.maxTimestampMs == original.maxTimestampMs)
        #expect(cleaned.baseTimestampMs == original.baseTimestampMs)
        #expect(cleaned.partitionLeaderEpoch == original.partitionLeaderEpoch)
        let records = try cleaned.records(decompressionLimit: 1 << 20).map {
            Kept(
                offset: $0.offset,
                key: String(buffer: $0.key!),
                value: String(buffer: $0.value!),
                timestampMs: $0.timestampMs
            )
        }
        #expect(
            records == [
                Kept(offset: 1, key: "b", value: "b1", timestampMs: 1_001),
                Kept(offset: 2, key: "a", value: "a2", timestampMs: 1_002),
            ]
        )
        try await manager.close()
    }

    @Test func tombstonesStayForDeleteRetentionAfterTheFirstCleanThenGo() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        try await produce(
            storage,
            log,
            [
                [("a", "a1"), ("b", "b1")], [("a", nil), ("c", "c1")], [("b", "b2")],
                [("z", String(repeating: "z", count: 300))], [("q", "q")],
            ]
        )
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        let first = try readAll(log)
        #expect(first.contains { $0.key == "a" && $0.value == nil && $0.offset == 2 })
        #expect(!first.contains { $0.key == "a" && $0.value != nil })
        #expect(first.first { $0.key == "a" }?.timestampMs == 1_700_000_000_000)  // timestamps survive the horizon
        // Before the horizon nothing makes the partition due; after it the tombstone goes.
        #expect(log.cleaningCandidate(nowMs: storage.clock.nowMs + 999)?.isOverdue == false)
        storage.clock.set(nowMs: storage.clock.nowMs + 1_000)
        #expect(log.cleaningCandidate(nowMs: storage.clock.nowMs)?.isCleanable == true)
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        let second = try readAll(log)
        #expect(!second.contains { $0.key == "a" })
        #expect(second.map(\.key) == first.filter { $0.key != "a" }.map(\.key))
        #expect(log.cleaningCandidate(nowMs: storage.clock.nowMs)?.isCleanable == false)
        try await manager.close()
    }

    @Test func aSmallDedupeBufferCleansInSeveralPasses() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        var input: [[(String?, String?)]] = []
        for round in 0..<6 { input.append((0..<4).map { ("k\($0)", "v\(round)-\($0)") }) }
        input.append([("end", "end")])
        try await produce(storage, log, input)
        let activeBase = log.segmentBaseOffsets.last!
        let before = try readAll(log)
        // 8 slots: 6 keys, fewer than the dirty section's distinct offsets need in one pass.
        var passes = 0
        while log.firstDirtyOffset < activeBase {
            let result = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: 8 * OffsetMap.slotByteCount)
            passes += 1
            #expect(result.firstDirtyOffset > 0)
            #expect(passes < 20)
        }
        #expect(passes > 1)
        var expected = latestPerKey(before.filter { $0.offset < activeBase }, droppingTombstones: false)
        expected.append(contentsOf: before.filter { $0.offset >= activeBase })
        #expect(try readAll(log) == expected)
        try await manager.close()
    }

    @Test func keepsTheLastBatchOfEachProducerAsAnEmptyHeaderWhenNoRecordStays() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        try await append(storage, log, keyedBatch([("a", "p1"), ("b", "p1")], producerId: 7, baseSequence: 0))
        try await append(
            storage,
            log,
            keyedBatch([("a", "a2"), ("b", "b2"), ("c", String(repeating: "c", count: 250))])
        )
        try await append(storage, log, keyedBatch([("d", "d")]))
        try await log.flush()
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        let first = try batches(in: try log.read(from: 0, maxBytes: 1 << 20).records)[0]
        try first.validate()
        #expect(first.producerId == 7)
        #expect(first.producerEpoch == 0)
        #expect(first.recordCount == 0)
        #expect(first.baseOffset == 0)
        #expect(first.lastOffsetDelta == 1)
        #expect(first.baseSequence == 0)
        #expect(first.byteCount == RecordBatch.headerByteCount)
        // Readers step over it: the next record read is the first kept one.
        #expect(try readAll(log).first?.offset == 2)
        try await manager.close()
    }

    /// A group whose last batch is all superseded keeps it as an empty header, so the segments stay
    /// contiguous and an unclean restart, which rescans from the recovery point and takes a segment
    /// starting past its predecessor's end for lost records, keeps everything.
    @Test func segmentsStayContiguousAndSurviveAnUncleanRestart() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        try await produce(
            storage,
            log,
            [[("x", "x1")], [("a", "a1")], [("c", String(repeating: "c", count: 300))], [("a", "a2")], [("z", "z")]]
        )
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        let cleaned = try readAll(log)
        #expect(cleaned.map(\.offset) == [0, 2, 3, 4])
        let contiguous = log.state.withLock { state in
            zip(state.segments, state.segments.dropFirst()).allSatisfy { $0.nextOffset == $1.baseOffset }
        }
        #expect(contiguous)
        // No recovery point checkpoint yet: every segment is rescanned at the next open.
        storage.fileSystem.simulateCrash()
        manager.closeAbruptly()
        let reopened = try await storage.open()
        #expect(try readAll(reopened.partition(topic: "t", index: 0)!) == cleaned)
        try await reopened.close()
    }

    /// DeleteRecords (or retention) removing a segment of a group while the pass writes it: the
    /// swap is abandoned, its files go, and the log reads on from the new log start.
    @Test func aSwapIsAbandonedWhenRetentionRemovedItsSegments() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        try await produce(storage, log, [[("a", "a1")], [("a", "a2")], [("b", "b1")], [("c", "c1")]])
        let before = try readAll(log)
        _ = try log.clean(
            nowMs: storage.clock.nowMs,
            offsetMapBudgetBytes: Self.budget,
            afterStep: { step throws(StorageError) in
                if case .swapCommitted = step { try log.deleteRecords(before: 1) }
            }
        )
        #expect(try readAll(log) == before.filter { $0.offset >= 1 })
        #expect(log.logStartOffset == 1)
        #expect(log.firstDirtyOffset == 1)  // nothing was cleaned: the boundary did not move
        let leftovers = try storage.fileSystem.listDirectory(atPath: "/data/t-0").filter {
            $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap")
        }
        #expect(leftovers.isEmpty)
        // The next pass cleans what is left.
        _ = try log.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
        #expect(try readAll(log).map(\.value) == ["a2", "b1", "c1"])
        try await manager.close()
    }

    @Test func readersKeepWorkingDuringASwap() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        try await produce(
            storage,
            log,
            [
                [("a", "a1"), ("b", "b1")], [("a", "a2"), ("b", "b2")], [("c", String(repeating: "c", count: 300))],
                [("d", "d")],
            ]
        )
        let before = try readAll(log)
        // A snapshot taken before the swap, as a fetch in progress holds one.
        let snapshot = log.state.withLock { $0.segments[0].snapshot(forOffset: 0) }
        var readsDuringSwap: [[Kept]] = []
        _ = try log.clean(
            nowMs: storage.clock.nowMs,
            offsetMapBudgetBytes: Self.budget,
            afterStep: { step throws(StorageError) in
                do { readsDuringSwap.append(try readAll(log)) } catch {
                    throw StorageError(.io, "read during \(step) failed: \(error)")
                }
            }
        )
        #expect(readsDuringSwap.count >= 4)
        let after = try readAll(log)
        for read in readsDuringSwap { #expect(read == before || read == after) }
        let old = try snapshot.readBatches(from: 0, maxBytes: 1 << 20, limitPosition: snapshot.endPosition)
        #expect(try batches(in: old).first?.recordCount == 2)  // the unlinked old file still reads
        try await manager.close()
    }

    /// Stops a clean after each step in turn, crashes (unsynced writes lost), reopens: the log is
    /// the old or the new one, never a mix that lost or duplicated a record; cleaning then
    /// completes.
    @Test func aCrashAtEveryStepOfACleanRecoversTheOldOrTheNewSegments() async throws {
        let input: [[(String?, String?)]] = [
            [("a", "a1"), ("b", "b1")], [("c", "c1"), ("a", "a2")], [("b", nil), ("d", "d1")],
            [("a", "a3"), ("e", "e1")], [("c", "c2"), ("f", String(repeating: "f", count: 200))],
            [("g", "g1")], [("h", "h1")],
        ]
        var stepCount = 0
        var expectedAfter: [Kept] = []
        var original: [Kept] = []
        do {
            let storage = TestStorage()
            let (manager, log) = try await storage.openWithPartition(overrides: compacted)
            try await produce(storage, log, input)
            original = try readAll(log)
            _ = try log.clean(
                nowMs: storage.clock.nowMs,
                offsetMapBudgetBytes: Self.budget,
                afterStep: { _ throws(StorageError) in
                    stepCount += 1
                }
            )
            expectedAfter = try readAll(log)
            try await manager.close()
        }
        #expect(stepCount >= 12)  // two groups of six steps at least
        #expect(expectedAfter != original)

        for crashAfter in 0...stepCount {
            let storage = TestStorage()
            let (manager, log) = try await storage.openWithPartition(overrides: compacted)
            try await produce(storage, log, input)
            var steps = 0
            do {
                _ = try log.clean(
                    nowMs: storage.clock.nowMs,
                    offsetMapBudgetBytes: Self.budget,
                    afterStep: { step throws(StorageError) in
                        steps += 1
                        if steps > crashAfter { throw StorageError(.io, "crash after \(step)") }
                    }
                )
            } catch {}
            storage.fileSystem.simulateCrash()
            manager.closeAbruptly()

            let reopened = try await storage.open()
            let recovered = reopened.partition(topic: "t", index: 0)!
            try await recovered.flush()  // recovered segments are cleanable once rewritten and synced
            let records = try readAll(recovered)
            // No duplicates, offsets increasing, nothing live lost, nothing invented.
            #expect(zip(records, records.dropFirst()).allSatisfy { $0.offset < $1.offset }, "crash after \(crashAfter)")
            #expect(Set(records).isSubset(of: Set(original)), "crash after \(crashAfter)")
            #expect(Set(expectedAfter).isSubset(of: Set(records)), "crash after \(crashAfter)")
            #expect(recovered.logEndOffset == Int64(original.count))
            let leftovers = try storage.fileSystem.listDirectory(atPath: "/data/t-0").filter {
                $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap")
            }
            #expect(leftovers.isEmpty, "crash after \(crashAfter): \(leftovers)")
            // Cleaning again reaches the same result.
            while recovered.cleaningCandidate(nowMs: storage.clock.nowMs)?.isCleanable == true {
                _ = try recovered.clean(nowMs: storage.clock.nowMs, offsetMapBudgetBytes: Self.budget)
            }
            #expect(try readAll(recovered) == expectedAfter, "crash after \(crashAfter)")
            try await reopened.close()
        }
    }

    @Test func theCleanerThreadCleansTheDirtiestPartitionAndPersistsItsCheckpoint() async throws {
        var storage = TestStorage()
        var cleaner = LogCleanerConfig()
        cleaner.backoffMs = 20
        storage.cleaner = cleaner
        let (manager, log) = try await storage.openWithPartition(overrides: compacted)
        var input: [[(String?, String?)]] = []
        for round in 0..<8 { input.append([("k", "v\(round)"), ("j", String(repeating: "j", count: 150))]) }
        try await produce(storage, log, input)
        let deadline = ContinuousClock.now + .seconds(20)
        while log.firstDirtyOffset < log.segmentBaseOffsets.last!, ContinuousClock.now < deadline {
            manager.logCleaner?.wakeUp()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(log.firstDirtyOffset == log.segmentBaseOffsets.last!)
        #expect((manager.logCleaner?.passCount ?? 0) >= 1)
        let checkpoint = storage.fileSystem.contents(ofPath: "/data/cleaner-offset-checkpoint").map {
            String(decoding: $0, as: UTF8.self)
        }
        #expect(checkpoint?.contains("t 0 \(log.firstDirtyOffset)") == true)
        try await manager.close()
    }
}
