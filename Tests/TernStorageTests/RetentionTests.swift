import NIOCore
import TernStorage
import Testing

/// Segments of three 300-byte-value batches.
private let threeBatchesByteCount = makeBatch(valueByteCount: 300).readableBytes * 3

@Suite struct RetentionTests {
    @Test func retentionByTimeDeletesOldSegmentsButNeverTheActiveOne() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(
            overrides: ["segment.bytes": "\(threeBatchesByteCount)", "retention.ms": "10000"]
        )
        let start = storage.clock.nowMs
        for index in 0..<9 {
            _ = try await log.append(
                makeBatch(valueByteCount: 300, timestampMs: start + Int64(index) * 1000),
                durability: .none
            )
        }
        #expect(log.segmentBaseOffsets == [0, 3, 6])
        storage.clock.set(nowMs: start + 12_500)  // Segment 0's newest record (start+2000) is 10.5 s old.
        await manager.applyRetention()
        #expect(log.segmentBaseOffsets == [3, 6])
        #expect(log.logStartOffset == 3)
        #expect(throws: StorageError(.offsetOutOfRange)) { try log.read(from: 2, maxBytes: 100) }
        #expect(!storage.fileSystem.fileExists(atPath: storage.segmentPath(0, .log)))
        storage.clock.set(nowMs: start + 1_000_000)
        await manager.applyRetention()
        #expect(log.segmentBaseOffsets == [6])
        #expect(log.logStartOffset == 6)
        #expect(log.logEndOffset == 9)
        try await manager.close()
        let reopened = try await storage.open()
        #expect(reopened.partition(topic: "t", index: 0)!.logStartOffset == 6)
        try await reopened.close()
    }

    @Test func retentionBySizeKeepsTheNewestSegmentsWithinTheLimit() async throws {
        let storage = TestStorage()
        let batchByteCount = makeBatch(valueByteCount: 300).readableBytes
        let (manager, log) = try await storage.openWithPartition(
            overrides: ["segment.bytes": "\(batchByteCount * 2)", "retention.bytes": "\(batchByteCount * 3)"]
        )
        for _ in 0..<9 { _ = try await log.append(makeBatch(valueByteCount: 300), durability: .none) }
        #expect(log.segmentBaseOffsets == [0, 2, 4, 6, 8])
        await manager.applyRetention()
        // 9 batches, limit 3: deleting whole segments leaves [6, 8] (3 batches).
        #expect(log.segmentBaseOffsets == [6, 8])
        #expect(log.sizeBytes == Int64(batchByteCount * 3))
        try await manager.close()
    }

    @Test func compactOnlyTopicsAreNotTrimmed() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(
            overrides: [
                "segment.bytes": "\(threeBatchesByteCount)", "retention.bytes": "0", "cleanup.policy": "compact",
            ]
        )
        for _ in 0..<6 { _ = try await log.append(makeBatch(valueByteCount: 300), durability: .none) }
        await manager.applyRetention()
        #expect(log.segmentBaseOffsets == [0, 3])
        try await manager.close()
    }

    @Test func deleteRecordsMovesTheLogStartOffsetDurably() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: [
            "segment.bytes": "\(threeBatchesByteCount)"
        ])
        for _ in 0..<9 { _ = try await log.append(makeBatch(valueByteCount: 300), durability: .fsync) }
        try log.deleteRecords(before: 4)
        #expect(log.logStartOffset == 4)
        #expect(log.segmentBaseOffsets == [3, 6])
        #expect(throws: StorageError(.offsetOutOfRange)) { try log.read(from: 3, maxBytes: 100) }
        #expect(try log.read(from: 4, maxBytes: 1).records.readableBytes > 0)
        #expect(throws: StorageError(.offsetOutOfRange)) { try log.deleteRecords(before: 10) }
        try log.deleteRecords(before: 2)  // Backwards: no-op.
        #expect(log.logStartOffset == 4)
        storage.fileSystem.simulateCrash()
        _ = manager
        let reopened = try await storage.open()
        let recovered = reopened.partition(topic: "t", index: 0)!
        #expect(recovered.logStartOffset == 4)
        #expect(recovered.logEndOffset == 9)
        try await reopened.close()
    }
}
