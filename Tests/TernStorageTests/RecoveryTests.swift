import NIOCore
import TernRecords
import TernStorage
import Testing

@Suite struct RecoveryTests {
    /// Writes `count` one-record batches ("v0", "v1", …) with .fsync, with small index intervals
    /// and segments so several segments and index entries exist, then crashes (or closes).
    static func populate(_ storage: TestStorage, count: Int, cleanly: Bool) async throws {
        let manager = try await storage.open()
        try manager.createTopic(
            "t",
            partitionCount: 1,
            configOverrides: ["index.interval.bytes": "150", "segment.bytes": "1500"]
        )
        let log = manager.partition(topic: "t", index: 0)!
        for index in 0..<count { _ = try await log.append(makeBatch(["v\(index)"]), durability: .fsync) }
        if cleanly { try await manager.close() } else { storage.fileSystem.simulateCrash() }
    }

    static func expectedValues(_ count: Int) -> [String] { (0..<count).map { "v\($0)" } }

    @Test func cleanShutdownReopensWithoutScanningSegments() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 100, cleanly: true)
        #expect(storage.fileSystem.fileExists(atPath: "/data/.tern_cleanshutdown"))
        let readBefore = storage.fileSystem.readByteCount
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        let readForOpen = storage.fileSystem.readByteCount - readBefore
        #expect(log.segmentBaseOffsets.count > 3)
        // Index files, checkpoints and one batch tail per segment, not the segments.
        #expect(readForOpen < Int(log.sizeBytes) / 2, "open read \(readForOpen) of \(log.sizeBytes) bytes")
        #expect(!storage.fileSystem.fileExists(atPath: "/data/.tern_cleanshutdown"))
        #expect(log.logEndOffset == 100)
        #expect(try allValues(log) == Self.expectedValues(100))
        try await manager.close()
    }

    /// Cuts the last batch off the durable bytes of the segment before the last one, and returns
    /// the offset its kept bytes end at (`next`) and the last segment's base offset.
    static func loseTheTailOfTheNextToLastSegment(_ storage: TestStorage) throws -> (next: Int64, laterBase: Int64) {
        let bases = try storage.fileSystem.listDirectory(atPath: "/data/t-0")
            .compactMap { SegmentFileName(parsing: $0) }.filter { $0.kind == .log }.map(\.baseOffset).sorted()
        #expect(bases.count >= 3)
        let path = storage.segmentPath(bases[bases.count - 2], .log)
        let bytes = try #require(storage.fileSystem.contents(ofPath: path))
        let all = try batches(in: ByteBuffer(bytes: bytes))
        let kept = all.dropLast()
        storage.fileSystem.setContents(ofPath: path, to: Array(bytes.prefix(kept.map(\.byteCount).reduce(0, +))))
        for kind in [SegmentFileName.Kind.offsetIndex, .timeIndex] {
            let index = storage.segmentPath(bases[bases.count - 2], kind)
            if storage.fileSystem.fileExists(atPath: index) { try storage.fileSystem.remove(atPath: index) }
        }
        return (kept.last!.lastOffset + 1, bases[bases.count - 1])
    }

    /// A crash took the tail of an earlier segment while a later one was written back: recovery
    /// drops the later segments, so the log stays contiguous and the loss is a suffix.
    @Test func recoveryDropsSegmentsThatFollowMissingRecords() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 100, cleanly: false)
        let (next, laterBase) = try Self.loseTheTailOfTheNextToLastSegment(storage)
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(log.logEndOffset == next)
        #expect(!log.segmentBaseOffsets.contains(laterBase))
        #expect(!storage.fileSystem.fileExists(atPath: storage.segmentPath(laterBase, .log)))
        #expect(try allValues(log) == Self.expectedValues(Int(next)))
        // Appending continues at the end, with no gap.
        #expect(try await log.append(makeBatch(["after"]), durability: .fsync).baseOffset == next)
        try await manager.close()
    }

    /// A gap between trusted segments (as compaction leaves): a read at an offset in the gap
    /// returns the next segment's first batch, as Kafka's does, instead of nothing forever.
    @Test func aReadInAGapBetweenSegmentsContinuesWithTheNextSegment() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 100, cleanly: true)
        let (next, laterBase) = try Self.loseTheTailOfTheNextToLastSegment(storage)
        #expect(next < laterBase)
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(log.logEndOffset == 100)
        let read = try log.read(from: next, maxBytes: 1 << 20)
        #expect(try batches(in: read.records).first?.baseOffset == laterBase)
        try await manager.close()
    }

    @Test func recoveryAfterACrashKeepsEverythingAcknowledged() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 100, cleanly: false)
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(log.logEndOffset == 100)
        #expect(try allValues(log) == Self.expectedValues(100))
        #expect(log.offset(forTimestamp: 0)?.offset == 0)
        try await manager.close()
    }

    /// Corrupts one byte of the last batch in the active segment.
    @Test(arguments: [0, 20, 40, 60])
    func aCorruptByteInTheTailIsCutOff(distanceFromEnd: Int) async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 30, cleanly: false)
        let active = try await Self.activeSegmentBase(storage)
        var bytes = storage.fileSystem.contents(ofPath: storage.segmentPath(active, .log))!
        let lastBatchByteCount = makeBatch(["v29"]).readableBytes
        let position = bytes.count - 1 - distanceFromEnd
        #expect(distanceFromEnd < lastBatchByteCount)
        bytes[position] ^= 0x5A
        storage.fileSystem.setContents(ofPath: storage.segmentPath(active, .log), to: bytes)

        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        // Either the CRC or the framing of the last batch fails: it goes, nothing else does.
        #expect(log.logEndOffset == 29)
        #expect(try allValues(log) == Self.expectedValues(29))
        #expect(
            storage.fileSystem.contents(ofPath: storage.segmentPath(active, .log))!.count == bytes.count
                - lastBatchByteCount
        )
        _ = try await log.append(makeBatch(["new"]), durability: .fsync)
        #expect(try allValues(log) == Self.expectedValues(29) + ["new"])
        try await manager.close()
    }

    @Test func aBatchCutMidwayIsDroppedAndLaterSegmentsWithIt() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 60, cleanly: false)
        let segments = try await Self.segmentBases(storage)
        #expect(segments.count >= 3)
        // Cut the second-to-last segment in the middle of a batch.
        let victim = segments[segments.count - 2]
        let path = storage.segmentPath(victim, .log)
        let bytes = storage.fileSystem.contents(ofPath: path)!
        let batchByteCount = makeBatch(["v10"]).readableBytes
        storage.fileSystem.setContents(ofPath: path, to: Array(bytes.prefix(batchByteCount * 3 + 10)))

        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(log.logEndOffset == victim + 3)
        #expect(log.segmentBaseOffsets == Array(segments.dropLast()))
        #expect(try allValues(log) == Self.expectedValues(Int(victim) + 3))
        #expect(!storage.fileSystem.fileExists(atPath: storage.segmentPath(segments.last!, .log)))
        try await manager.close()
    }

    @Test(arguments: ["delete", "garbage", "truncate"])
    func aMissingOrCorruptIndexIsRebuilt(damage: String) async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 60, cleanly: true)
        let segments = try await Self.segmentBases(storage)
        let path = storage.segmentPath(segments[0], .offsetIndex)
        let original = storage.fileSystem.contents(ofPath: path)!
        #expect(original.count >= 16)
        switch damage {
        case "delete": try storage.fileSystem.remove(atPath: path)
        case "garbage": storage.fileSystem.setContents(ofPath: path, to: original.map { $0 ^ 0xA5 })
        default: storage.fileSystem.setContents(ofPath: path, to: Array(original.prefix(original.count - 3)))
        }
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(try allValues(log) == Self.expectedValues(60))
        for offset in Int64(0)..<60 {
            let read = try log.read(from: offset, maxBytes: 1)
            #expect(try batches(in: read.records).first?.baseOffset == offset)
        }
        try await manager.close()
        // Rebuilt and rewritten on close.
        #expect(storage.fileSystem.contents(ofPath: path) == original)
    }

    @Test func aCorruptTimeIndexIsRebuilt() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 40, cleanly: true)
        let segments = try await Self.segmentBases(storage)
        let path = storage.segmentPath(segments[0], .timeIndex)
        let original = storage.fileSystem.contents(ofPath: path)!
        storage.fileSystem.setContents(ofPath: path, to: Array(original.reversed()))
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(log.offset(forTimestamp: 1_700_000_000_000)?.offset == 0)
        try await manager.close()
        #expect(storage.fileSystem.contents(ofPath: path) == original)
    }

    @Test func garbageAfterTheLastBatchOfACleanLogIsCut() async throws {
        let storage = TestStorage()
        try await Self.populate(storage, count: 10, cleanly: true)
        let active = try await Self.activeSegmentBase(storage)
        let path = storage.segmentPath(active, .log)
        storage.fileSystem.setContents(ofPath: path, to: storage.fileSystem.contents(ofPath: path)! + [1, 2, 3, 4, 5])
        let manager = try await storage.open()
        let log = manager.partition(topic: "t", index: 0)!
        #expect(try allValues(log) == Self.expectedValues(10))
        _ = try await log.append(makeBatch(["more"]), durability: .none)
        #expect(try allValues(log) == Self.expectedValues(10) + ["more"])
        try await manager.close()
    }

    /// Found by the `segment` fuzz target: a segment trusted after a clean shutdown (its index
    /// checks out) whose second batch has a corrupt length made the read's batch walk step back
    /// before the buffer and trap on a force unwrap; a length of -12 made it loop forever. A read
    /// now stops at the damage: the first batch comes back, a read at the damage throws.
    @Test(arguments: [Int32(-500), -12, 20])
    func aReadStopsAtACorruptBatchLengthInATrustedSegment(corruptLength: Int32) async throws {
        let storage = TestStorage()
        // An index entry for every batch: the clean open checks the last one and trusts the rest.
        let (manager, log) = try await storage.openWithPartition(overrides: ["index.interval.bytes": "1"])
        for index in 0..<3 {
            _ = try await log.append(makeBatch(["v\(index)"]), durability: .fsync)
        }
        try await manager.close()
        let path = storage.segmentPath(0, .log)
        var bytes = storage.fileSystem.contents(ofPath: path)!
        let firstBatchByteCount = Int(ByteBuffer(bytes: bytes).getInteger(at: 8, as: Int32.self)!) + 12
        withUnsafeBytes(of: corruptLength.bigEndian) { length in
            bytes.replaceSubrange((firstBatchByteCount + 8)..<(firstBatchByteCount + 12), with: length)
        }
        storage.fileSystem.setContents(ofPath: path, to: bytes)

        let reopened = try await storage.open()
        let damaged = reopened.partition(topic: "t", index: 0)!
        let read = try damaged.read(from: 0, maxBytes: 1 << 20)
        #expect(try values(in: read.records) == ["v0"])
        #expect(throws: StorageError.self) { try damaged.read(from: 1, maxBytes: 1 << 20) }
        try await reopened.close()
    }

    static func segmentBases(_ storage: TestStorage) async throws -> [Int64] {
        try storage.fileSystem.listDirectory(atPath: "/data/t-0").compactMap { SegmentFileName(parsing: $0) }
            .filter { $0.kind == .log }.map(\.baseOffset).sorted()
    }

    static func activeSegmentBase(_ storage: TestStorage) async throws -> Int64 {
        try await self.segmentBases(storage).last!
    }
}
