import Glibc
import NIOCore
import TernRecords
import TernStorage
import Testing

@Suite struct AppendAndReadTests {
    @Test func appendAssignsOffsetsAndStampsTheLeaderEpoch() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        let first = makeBatch(["a", "b", "c"])
        let result = try await log.append(first, durability: .none)
        #expect(result == AppendResult(baseOffset: 0, lastOffset: 2, logAppendTimeMs: -1, logStartOffset: 0))
        let second = try await log.append(makeBatch(["d"]), durability: .none)
        #expect(second.baseOffset == 3)
        #expect(log.logEndOffset == 4)
        #expect(log.highWatermark == 4)

        let read = try log.read(from: 0, maxBytes: 1 << 20)
        let stored = try batches(in: read.records)
        #expect(stored.map(\.baseOffset) == [0, 3])
        // Byte for byte what the producer sent but the broker's two fields: the base offset (0
        // already here) and the partition leader epoch (the producer's -1 becomes epoch 0).
        var expected = try RecordBatch(first)
        #expect(expected.partitionLeaderEpoch == -1)
        expected.setPartitionLeaderEpoch(0)
        #expect(stored[0].buffer == expected.buffer)
        #expect(try stored.allSatisfy { try $0.validate() == () })
        #expect(read.highWatermark == 4)
        #expect(read.logStartOffset == 0)
        try await manager.close()
    }

    @Test func clientBaseOffsetIsOverwritten() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        var builder = RecordBatchBuilder(baseOffset: 77)
        builder.append(key: nil, value: ByteBuffer(string: "x"), timestampMs: 1)
        _ = try await log.append(makeBatch(["first"]), durability: .none)
        let result = try await log.append(try builder.build(), durability: .none)
        #expect(result.baseOffset == 1)
        #expect(try batches(in: log.read(from: 1, maxBytes: 1000).records).map(\.baseOffset) == [1])
        try await manager.close()
    }

    @Test func readStartsAtTheBatchHoldingTheOffsetAndReturnsWholeBatches() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        for index in 0..<10 {
            _ = try await log.append(makeBatch(["\(index)a", "\(index)b"]), durability: .none)
        }
        let middle = try log.read(from: 7, maxBytes: 1 << 20)
        #expect(try batches(in: middle.records).first?.baseOffset == 6)
        let batchByteCount = makeBatch(["0a", "0b"]).readableBytes
        let limited = try log.read(from: 0, maxBytes: batchByteCount * 2 + 5)
        #expect(try batches(in: limited.records).count == 2)
        // A first batch larger than maxBytes comes back whole.
        let tiny = try log.read(from: 4, maxBytes: 1)
        #expect(try batches(in: tiny.records).map(\.baseOffset) == [4])
        #expect(try log.read(from: 20, maxBytes: 100).records.readableBytes == 0)
        #expect(throws: StorageError(.offsetOutOfRange)) { try log.read(from: 21, maxBytes: 100) }
        #expect(throws: StorageError(.offsetOutOfRange)) { try log.read(from: -1, maxBytes: 100) }
        let bounded = try log.read(from: 0, maxBytes: 1 << 20, upTo: 5)
        #expect(try batches(in: bounded.records).map(\.baseOffset) == [0, 2])
        try await manager.close()
    }

    @Test func refusesBadBatches() async throws {
        var config = LogConfig()
        config.maxMessageBytes = 2000
        let (manager, log) = try await TestStorage().openWithPartition(config)
        var corrupt = makeBatch(["value"])
        corrupt.setInteger(UInt8(0xFF), at: corrupt.writerIndex - 1)
        await #expect(throws: StorageError(.corruptBatch)) { try await log.append(corrupt, durability: .none) }
        var legacy = makeBatch(["value"])
        legacy.setInteger(Int8(1), at: 16)
        await #expect(throws: StorageError(.invalidRecord)) { try await log.append(legacy, durability: .none) }
        var truncated = makeBatch(["value"])
        truncated.moveWriterIndex(to: truncated.writerIndex - 3)
        await #expect(throws: StorageError(.corruptBatch)) { try await log.append(truncated, durability: .none) }
        await #expect(throws: StorageError(.messageTooLarge)) {
            try await log.append(makeBatch(valueByteCount: 3000), durability: .none)
        }
        var control = RecordBatchBuilder(isControl: true)
        control.append(key: nil, value: nil, timestampMs: 1)
        await #expect(throws: StorageError(.invalidRecord)) {
            try await log.append(try control.build(), durability: .none)
        }
        let twoBatches = makeBatch(["a"]).readableBytesView + makeBatch(["b"]).readableBytesView
        await #expect(throws: StorageError(.corruptBatch)) {
            try await log.append(ByteBuffer(bytes: twoBatches), durability: .none)
        }
        #expect(log.logEndOffset == 0)
        try await manager.close()

        var smallSegments = LogConfig()
        smallSegments.segmentBytes = 1000
        let (other, otherLog) = try await TestStorage().openWithPartition(smallSegments)
        await #expect(throws: StorageError(.recordListTooLarge)) {
            try await otherLog.append(makeBatch(valueByteCount: 1500), durability: .none)
        }
        try await other.close()
    }

    @Test func logAppendTimeStampsTheBatchAndKeepsItsCRCValid() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["message.timestamp.type": "LogAppendTime"])
        storage.clock.set(nowMs: 1_800_000_000_000)
        let result = try await log.append(makeBatch(["a", "b"], timestampMs: 5), durability: .none)
        #expect(result.logAppendTimeMs == 1_800_000_000_000)
        let stored = try batches(in: log.read(from: 0, maxBytes: 1000).records)[0]
        try stored.validate()
        #expect(stored.attributes.timestampType == .logAppendTime)
        #expect(stored.maxTimestampMs == 1_800_000_000_000)
        await #expect(throws: StorageError(.invalidTimestamp)) {
            try await log.append(stored.buffer, durability: .none)
        }
        try await manager.close()
    }

    @Test func offsetForTimestampFindsTheFirstRecordAtOrAfterIt() async throws {
        var config = LogConfig()
        config.indexIntervalBytes = 100  // Many index entries.
        config.segmentBytes = 1000  // Several segments.
        let (manager, log) = try await TestStorage().openWithPartition(config)
        for index in 0..<50 {
            _ = try await log.append(
                makeBatch(["\(index)", "\(index)'"], timestampMs: 1000 + Int64(index) * 10),
                durability: .none
            )
        }
        #expect(log.segmentBaseOffsets.count > 2)
        #expect(log.offset(forTimestamp: 0)! == (0, 1000))
        #expect(log.offset(forTimestamp: 1001)! == (1, 1001))
        #expect(log.offset(forTimestamp: 1002)! == (2, 1010))
        #expect(log.offset(forTimestamp: 1255)! == (52, 1260))
        #expect(log.offset(forTimestamp: 1491)! == (99, 1491))
        #expect(log.offset(forTimestamp: 1492) == nil)
        try await manager.close()
    }

    @Test func waitForDataIsWokenByAppendAndTimesOut() async throws {
        let (manager, log) = try await TestStorage().openWithPartition()
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await log.waitForData(beyond: 0, timeout: .milliseconds(50)) == false)
        #expect(clock.now - start >= .milliseconds(50))
        // The bounds sit far below the 120 s timeout (a wake that never comes takes the whole
        // timeout) and far above the stalls a loaded 2-core machine gives the test process (~13 s seen).
        async let woken = log.waitForData(beyond: 0, timeout: .seconds(120))
        try await Task.sleep(for: .milliseconds(20))
        _ = try await log.append(makeBatch(["x"]), durability: .none)
        #expect(await woken == true)
        #expect(clock.now - start < .seconds(40))
        // Data already there: no wait at all.
        #expect(await log.waitForData(beyond: 0, timeout: .seconds(120)) == true)
        #expect(clock.now - start < .seconds(40))
        try await manager.close()
    }
}

@Suite struct RollTests {
    @Test func rollsWhenTheSegmentWouldExceedSegmentBytes() async throws {
        var config = LogConfig()
        config.segmentBytes = makeBatch(valueByteCount: 300).readableBytes * 3
        let (manager, log) = try await TestStorage().openWithPartition(config)
        for index in 0..<10 {
            _ = try await log.append(makeBatch(valueByteCount: 300, fill: UInt8(index)), durability: .none)
        }
        #expect(log.segmentBaseOffsets == [0, 3, 6, 9])
        #expect(try allValues(log).count == 10)
        try await manager.close()
    }

    @Test func rollsWhenTheSegmentIsOlderThanSegmentMs() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["segment.ms": "1000"])
        let now = storage.clock.nowMs
        _ = try await log.append(makeBatch(["a"], timestampMs: now), durability: .none)
        storage.clock.advance(byMs: 999)
        _ = try await log.append(makeBatch(["b"], timestampMs: now + 999), durability: .none)
        #expect(log.segmentBaseOffsets == [0])
        storage.clock.advance(byMs: 1)
        _ = try await log.append(makeBatch(["c"], timestampMs: now + 1000), durability: .none)
        #expect(log.segmentBaseOffsets == [0, 2])
        try await manager.close()
    }

    @Test func rollsWhenTheOffsetIndexIsFull() async throws {
        // Equal timestamps add no time index entries; the three offset index entries fill first.
        let (manager, log) = try await TestStorage().openWithPartition(
            overrides: ["segment.index.bytes": "24", "index.interval.bytes": "0"]
        )
        for index in 0..<9 { _ = try await log.append(makeBatch(["\(index)"]), durability: .none) }
        #expect(log.segmentBaseOffsets == [0, 4, 8])
        try await manager.close()
    }

    @Test func rollsWhenTheTimeIndexIsFull() async throws {
        // Three offset index entries and two time index entries fit; every batch after the first
        // gets an entry, so the time index fills after the third batch.
        let (manager, log) = try await TestStorage().openWithPartition(
            overrides: ["segment.index.bytes": "24", "index.interval.bytes": "0"]
        )
        for index in 0..<7 {
            _ = try await log.append(makeBatch(["\(index)"], timestampMs: 1000 + Int64(index)), durability: .none)
        }
        #expect(log.segmentBaseOffsets == [0, 3, 6])
        #expect(try allValues(log) == (0..<7).map { "\($0)" })
        try await manager.close()
    }
}

@Suite struct DurabilityTests {
    @Test func fsyncAppendsSurviveACrashAndUnsyncedOnesMayNot() async throws {
        let storage = TestStorage()
        let (_, log) = try await storage.openWithPartition()
        _ = try await log.append(makeBatch(["durable"]), durability: .fsync)
        _ = try await log.append(makeBatch(["volatile"]), durability: .none)
        storage.fileSystem.simulateCrash()

        let reopened = try await storage.open()
        let recovered = reopened.partition(topic: "t", index: 0)!
        #expect(try allValues(recovered) == ["durable"])
        #expect(recovered.logEndOffset == 1)
        _ = try await recovered.append(makeBatch(["after"]), durability: .fsync)
        #expect(try allValues(recovered) == ["durable", "after"])
        try await reopened.close()
    }

    @Test func groupCommitFsyncsOnceForManyConcurrentAppends() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        try await log.flush()
        let fsyncsBefore = storage.fileSystem.fileFsyncCount
        let appendCount = 200
        // The first append's fsync is held, as on a slow disk; the other appends arrive meanwhile and
        // must all be covered by the one fsync that follows it.
        storage.fileSystem.holdFsyncs()
        let offsets = try await withThrowingTaskGroup(of: Int64.self) { group in
            group.addTask { try await log.append(makeBatch(["first"]), durability: .fsync).baseOffset }
            while storage.fileSystem.fileFsyncCount == fsyncsBefore && log.logEndOffset == 0 {
                try await Task.sleep(for: .milliseconds(1))
            }
            for index in 1..<appendCount {
                group.addTask { try await log.append(makeBatch(["\(index)"]), durability: .fsync).baseOffset }
            }
            while log.logEndOffset < Int64(appendCount) {
                try await Task.sleep(for: .milliseconds(1))
            }
            storage.fileSystem.releaseFsyncs()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(offsets) == Set(0..<Int64(appendCount)))
        #expect(log.recoveryPoint == Int64(appendCount))
        let fsyncs = storage.fileSystem.fileFsyncCount - fsyncsBefore
        #expect(fsyncs >= 1)
        #expect(fsyncs <= 2, "one fsync for the first append, one for the 199 behind it; got \(fsyncs)")
        try await manager.close()
    }

    @Test func flushMessagesTriggersAnFsyncWithoutWaiters() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["flush.messages": "3"])
        try await log.flush()
        for index in 0..<3 { _ = try await log.append(makeBatch(["\(index)"]), durability: .none) }
        // The flush runs on a flush thread; wait for it to land.
        for _ in 0..<500 where log.recoveryPoint < 3 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(log.recoveryPoint == 3)
        try await manager.close()
    }

    @Test func flushMsIsAppliedByThePeriodicCheck() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["flush.ms": "1000"])
        try await log.flush()
        _ = try await log.append(makeBatch(["a"]), durability: .none)
        manager.flushDirtyLogs()
        try await Task.sleep(for: .milliseconds(20))
        #expect(log.recoveryPoint == 0)
        storage.clock.advance(byMs: 1000)
        manager.flushDirtyLogs()
        for _ in 0..<500 where log.recoveryPoint < 1 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(log.recoveryPoint == 1)
        try await manager.close()
    }

    @Test func diskFullLeavesTheLogReadableUpToItsLastGoodBatch() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        _ = try await log.append(makeBatch(["one"]), durability: .fsync)
        storage.fileSystem.injectWriteFault(.torn(keepingBytes: 30, errno: ENOSPC))
        await #expect(throws: StorageError(.diskFull)) { try await log.append(makeBatch(["two"]), durability: .fsync) }
        #expect(log.logEndOffset == 1)
        #expect(try allValues(log) == ["one"])
        storage.fileSystem.injectWriteFault(.fail(errno: ENOSPC))
        await #expect(throws: StorageError(.diskFull)) { try await log.append(makeBatch(["two"]), durability: .none) }
        #expect(try allValues(log) == ["one"])
        // Space is back: appending resumes where the log ended.
        _ = try await log.append(makeBatch(["three"]), durability: .fsync)
        #expect(try allValues(log) == ["one", "three"])
        try await manager.close()
        let reopened = try await storage.open()
        #expect(try allValues(reopened.partition(topic: "t", index: 0)!) == ["one", "three"])
        try await reopened.close()
    }

    @Test func aFailedFsyncFailsWaitersAndStopsAppends() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        try await log.flush()
        storage.fileSystem.injectFsyncFault(errno: EIO)
        await #expect(throws: StorageError(.io)) { try await log.append(makeBatch(["a"]), durability: .fsync) }
        await #expect(throws: StorageError(.io)) { try await log.append(makeBatch(["b"]), durability: .none) }
        // Nor reads: what it holds past its last good fsync may not survive a restart.
        #expect(throws: StorageError(.io)) { try log.read(from: 0, maxBytes: 1 << 20) }
        #expect(log.failure == StorageError(.io))
        await #expect(throws: StorageError(.io)) { try await manager.close() }
    }
}
