import NIOCore
import TernRecords
import TernStorage
import Testing

/// `leader-epoch-checkpoint` and the epoch stamped on appended batches (see docs/storage.md).
@Suite struct LeaderEpochStorageTests {
    static let checkpointPath = "/data/t-0/leader-epoch-checkpoint"

    static func checkpoint(_ storage: TestStorage) -> String? {
        storage.fileSystem.contents(ofPath: Self.checkpointPath).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The partitionLeaderEpoch of every stored batch, in order.
    static func storedEpochs(_ log: PartitionLog) throws -> [Int32] {
        var epochs: [Int32] = []
        var next = log.logStartOffset
        while next < log.logEndOffset {
            for batch in try batches(in: log.read(from: next, maxBytes: 1 << 20).records) {
                epochs.append(batch.partitionLeaderEpoch)
                next = batch.lastOffset + 1
            }
        }
        return epochs
    }

    /// A producer batch carrying `epoch` in its header, as a client might send it.
    static func batch(_ value: String, producerEpoch epoch: Int32) -> ByteBuffer {
        var batch = try! RecordBatch(makeBatch([value]))
        batch.setPartitionLeaderEpoch(epoch)
        return batch.buffer
    }

    @Test func aNewPartitionStartsAtEpochZeroAndStampsEveryBatch() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        try await log.flush()
        #expect(Self.checkpoint(storage) == "0\n1\n0 0\n")
        #expect(log.leaderEpoch == 0)
        // Whatever the producer wrote in the field, the log stores its own epoch.
        for (index, sent) in [Int32(-1), 7, 0].enumerated() {
            _ = try await log.append(Self.batch("v\(index)", producerEpoch: sent), durability: .fsync)
        }
        #expect(try Self.storedEpochs(log) == [0, 0, 0])
        // The stamp is outside the CRC: the stored batches still validate.
        for stored in try batches(in: log.read(from: 0, maxBytes: 1 << 20).records) {
            try stored.validate()
        }
        #expect(Self.checkpoint(storage) == "0\n1\n0 0\n")
        try await manager.close()
    }

    /// Epoch 0 for offsets 0–2, epoch 2 for 3–4, then epoch 5 with no data yet.
    static func populateEpochs(_ storage: TestStorage, overrides: [String: String] = [:]) async throws -> (
        LogManager, PartitionLog
    ) {
        let (manager, log) = try await storage.openWithPartition(overrides: overrides)
        for value in ["a", "b", "c"] { _ = try await log.append(makeBatch([value]), durability: .fsync) }
        try await log.becomeLeader(epoch: 2)
        for value in ["d", "e"] { _ = try await log.append(makeBatch([value]), durability: .fsync) }
        try await log.becomeLeader(epoch: 5)
        return (manager, log)
    }

    @Test(arguments: [true, false])
    func epochsSurviveARestart(cleanly: Bool) async throws {
        let storage = TestStorage()
        let (manager, log) = try await Self.populateEpochs(storage)
        #expect(Self.checkpoint(storage) == "0\n3\n0 0\n2 3\n5 5\n")
        #expect(try Self.storedEpochs(log) == [0, 0, 0, 2, 2])
        if cleanly { try await manager.close() } else { storage.fileSystem.simulateCrash() }

        let reopened = try await storage.open()
        let recovered = reopened.partition(topic: "t", index: 0)!
        #expect(recovered.leaderEpoch == 5)
        #expect(recovered.leaderEpochs.entries.map(\.description) == ["0@0", "2@3", "5@5"])
        _ = try await recovered.append(makeBatch(["f"]), durability: .fsync)
        #expect(try Self.storedEpochs(recovered) == [0, 0, 0, 2, 2, 5])
        #expect(recovered.endOffset(forEpoch: 2) == (2, 5))
        #expect(recovered.endOffset(forEpoch: 5) == (5, 6))
        try await reopened.close()
    }

    @Test(arguments: ["delete", "garbage", "decreasing"])
    func aMissingOrUnreadableCheckpointIsRebuiltFromTheBatches(damage: String) async throws {
        let storage = TestStorage()
        let (manager, _) = try await Self.populateEpochs(storage)
        try await manager.close()
        switch damage {
        case "delete": try storage.fileSystem.remove(atPath: Self.checkpointPath)
        case "garbage": storage.fileSystem.setContents(ofPath: Self.checkpointPath, to: Array("0\n2\n0 0\n".utf8))
        default: storage.fileSystem.setContents(ofPath: Self.checkpointPath, to: Array("0\n2\n3 0\n2 3\n".utf8))
        }

        let reopened = try await storage.open()
        let log = reopened.partition(topic: "t", index: 0)!
        // The batches know epochs 0 and 2; epoch 5 had no batch, so the newest is 2, at the log end.
        #expect(log.leaderEpochs.entries.map(\.description) == ["0@0", "2@3"])
        #expect(log.leaderEpoch == 2)
        try await log.flush()
        #expect(Self.checkpoint(storage) == "0\n2\n0 0\n2 3\n")
        try await reopened.close()
    }

    @Test func recoveryCuttingTheTailTruncatesTheEpochs() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        for value in ["a", "b", "c"] { _ = try await log.append(makeBatch([value]), durability: .fsync) }
        try await log.becomeLeader(epoch: 1)
        for value in ["d", "e"] { _ = try await log.append(makeBatch([value]), durability: .fsync) }
        #expect(Self.checkpoint(storage) == "0\n2\n0 0\n1 3\n")
        storage.fileSystem.simulateCrash()
        _ = manager
        // Tear the last two batches (all of epoch 1's data) mid-way.
        let path = storage.segmentPath(0, .log)
        let bytes = storage.fileSystem.contents(ofPath: path)!
        storage.fileSystem.setContents(ofPath: path, to: Array(bytes.prefix(makeBatch(["a"]).readableBytes * 3 + 20)))

        let reopened = try await storage.open()
        let recovered = reopened.partition(topic: "t", index: 0)!
        #expect(recovered.logEndOffset == 3)
        // Epoch 1 stays the current epoch, now starting at the new log end (truncateFromEnd, then
        // the epoch is assigned again).
        #expect(recovered.leaderEpoch == 1)
        #expect(recovered.leaderEpochs.entries.map(\.description) == ["0@0", "1@3"])
        #expect(recovered.endOffset(forEpoch: 0) == (0, 3))
        try await reopened.close()
    }

    @Test func recoveryAddsEpochsTheCheckpointMissed() async throws {
        let storage = TestStorage()
        let (manager, _) = try await Self.populateEpochs(storage)
        // A checkpoint from before epoch 2 (as if the crash came before the flusher rewrote it).
        storage.fileSystem.setContents(ofPath: Self.checkpointPath, to: Array("0\n1\n0 0\n".utf8))
        storage.fileSystem.simulateCrash()
        _ = manager

        let reopened = try await storage.open()
        let log = reopened.partition(topic: "t", index: 0)!
        #expect(log.leaderEpochs.entries.map(\.description) == ["0@0", "2@3"])
        try await reopened.close()
    }

    @Test func deleteRecordsMovesTheFirstEpochToTheLogStart() async throws {
        let storage = TestStorage()
        let (manager, log) = try await Self.populateEpochs(storage)
        try log.deleteRecords(before: 2)
        try await log.flush()
        #expect(Self.checkpoint(storage) == "0\n3\n0 2\n2 3\n5 5\n")
        try log.deleteRecords(before: 4)
        try await log.flush()
        #expect(Self.checkpoint(storage) == "0\n2\n2 4\n5 5\n")
        #expect(log.endOffset(forEpoch: 0) == (0, 4))
        try await manager.close()
        let reopened = try await storage.open()
        #expect(reopened.partition(topic: "t", index: 0)!.leaderEpochs.entries.map(\.description) == ["2@4", "5@5"])
        try await reopened.close()
    }

    @Test func retentionMovesTheFirstEpochToTheLogStart() async throws {
        let storage = TestStorage()
        let oneBatch = makeBatch(["a"]).readableBytes
        let (manager, log) = try await Self.populateEpochs(
            storage,
            overrides: ["segment.bytes": "\(oneBatch * 2)", "retention.bytes": "\(oneBatch)"]
        )
        #expect(log.segmentBaseOffsets == [0, 2, 4])
        await manager.applyRetention()
        #expect(log.logStartOffset == 4)
        try await log.flush()
        #expect(Self.checkpoint(storage) == "0\n2\n2 4\n5 5\n")
        try await manager.close()
    }
}
