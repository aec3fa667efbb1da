import Glibc
import NIOCore
import TernStorage
import Testing

@Suite struct LogManagerTests {
    @Test func createValidatesNamesCountsAndConfigs() async throws {
        let manager = try await TestStorage().open()
        for name in ["", ".", "..", "a b", "a/b", String(repeating: "x", count: 250), "ü"] {
            #expect(throws: StorageError(.invalidTopic)) { try manager.createTopic(name, partitionCount: 1) }
        }
        #expect(throws: StorageError(.invalidPartitions)) { try manager.createTopic("t", partitionCount: 0) }
        #expect(throws: StorageError(.invalidConfig)) {
            try manager.createTopic("t", partitionCount: 1, configOverrides: ["retention.ms": "soon"])
        }
        try manager.createTopic("a.b_c-D9", partitionCount: 3, configOverrides: ["retention.ms": "1000"])
        try manager.createTopic(String(repeating: "x", count: 249), partitionCount: 1)
        #expect(throws: StorageError(.topicAlreadyExists)) { try manager.createTopic("a.b_c-D9", partitionCount: 1) }
        let description = manager.topic("a.b_c-D9")!
        #expect(description.partitionCount == 3)
        #expect(description.config.retentionMs == 1000)
        #expect(description.configOverrides == ["retention.ms": "1000"])
        #expect(manager.partition(topic: "a.b_c-D9", index: 2) != nil)
        #expect(manager.partition(topic: "a.b_c-D9", index: 3) == nil)
        #expect(manager.partition(topic: "nope", index: 0) == nil)
        try await manager.close()
    }

    @Test func topicsAndDataSurviveReopen() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        try manager.createTopic("orders", partitionCount: 2, configOverrides: ["segment.bytes": "2048"])
        try manager.createTopic("audit-log", partitionCount: 1)
        _ = try await manager.partition(topic: "orders", index: 1)!.append(makeBatch(["x"]), durability: .none)
        try await manager.close()

        var defaults = LogConfig()
        defaults.retentionMs = 42
        let reopened = try await storage.open(defaults)
        #expect(reopened.topicNames == ["audit-log", "orders"])
        let orders = reopened.topic("orders")!
        #expect(orders.config.segmentBytes == 2048)
        #expect(orders.config.retentionMs == 42)  // Not overridden: follows the broker default.
        #expect(try allValues(reopened.partition(topic: "orders", index: 1)!) == ["x"])
        #expect(reopened.partition(topic: "orders", index: 0)!.logEndOffset == 0)
        try await reopened.close()
    }

    @Test func deleteRemovesTheTopicAndItsFiles() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        try manager.createTopic("gone", partitionCount: 2)
        let partition = manager.partition(topic: "gone", index: 0)!
        _ = try await partition.append(makeBatch(["x"]), durability: .fsync)
        try manager.deleteTopic("gone")
        #expect(manager.topicNames.isEmpty)
        #expect(!storage.fileSystem.fileExists(atPath: "/data/gone-0"))
        #expect(!storage.fileSystem.fileExists(atPath: "/data/topics/gone.properties"))
        await #expect(throws: StorageError(.closed)) { try await partition.append(makeBatch(["y"]), durability: .none) }
        #expect(throws: StorageError(.unknownTopicOrPartition)) { try manager.deleteTopic("gone") }
        // The name can be reused, starting from offset 0.
        try manager.createTopic("gone", partitionCount: 1)
        #expect(manager.partition(topic: "gone", index: 0)!.logEndOffset == 0)
        try await manager.close()
    }

    @Test func addPartitionsGrowsATopicAndTheNewCountSurvivesACrash() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        try manager.createTopic("grow", partitionCount: 2, configOverrides: ["retention.ms": "1000"])
        let topicId = manager.topic("grow")!.topicId
        #expect(throws: StorageError(.unknownTopicOrPartition)) { try manager.addPartitions("nope", partitionCount: 3) }
        #expect(throws: StorageError(.invalidPartitions)) { try manager.addPartitions("grow", partitionCount: 2) }
        #expect(throws: StorageError(.invalidPartitions)) { try manager.addPartitions("grow", partitionCount: 1) }
        _ = try await manager.partition(topic: "grow", index: 0)!.append(makeBatch(["old"]), durability: .fsync)
        try manager.addPartitions("grow", partitionCount: 4)
        #expect(manager.topic("grow")?.partitionCount == 4)
        #expect(manager.partition(topic: "grow", index: 4) == nil)
        let added = try #require(manager.partition(topic: "grow", index: 3))
        #expect(added.config.retentionMs == 1000)
        _ = try await added.append(makeBatch(["new"]), durability: .fsync)
        // No clean close: the metadata file and the new partition must already be durable.
        storage.fileSystem.simulateCrash()
        _ = manager
        let reopened = try await storage.open()
        let topic = try #require(reopened.topic("grow"))
        #expect(topic.partitionCount == 4)
        #expect(topic.topicId == topicId)
        #expect(topic.configOverrides == ["retention.ms": "1000"])
        #expect(try allValues(reopened.partition(topic: "grow", index: 3)!) == ["new"])
        #expect(try allValues(reopened.partition(topic: "grow", index: 0)!) == ["old"])
        #expect(reopened.partition(topic: "grow", index: 2)!.logEndOffset == 0)
        try await reopened.close()
    }

    @Test func aFailedAddPartitionsLeavesTheTopicAsItWas() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        try manager.createTopic("grow", partitionCount: 2)
        // The next write fails (a new partition's files or the metadata file): nothing is committed.
        storage.fileSystem.injectWriteFault(.fail(errno: ENOSPC))
        #expect(throws: StorageError.self) { try manager.addPartitions("grow", partitionCount: 3) }
        #expect(manager.topic("grow")?.partitionCount == 2)
        #expect(manager.partition(topic: "grow", index: 2) == nil)
        storage.fileSystem.simulateCrash()
        _ = manager
        let reopened = try await storage.open()
        #expect(reopened.topic("grow")?.partitionCount == 2)
        #expect(!storage.fileSystem.fileExists(atPath: "/data/grow-2"))
        try await reopened.close()
    }

    @Test func partitionDirectoriesWithoutATopicAreRemovedAtOpen() async throws {
        let storage = TestStorage()
        try storage.fileSystem.makeDirectory(atPath: "/data/orphan-0")
        let file = try storage.fileSystem.openFile(
            atPath: storage.segmentPath(0, .log, partition: "orphan-0"),
            create: true
        )
        try file.close()
        try storage.fileSystem.makeDirectory(atPath: "/data/not a partition")
        let manager = try await storage.open()
        #expect(!storage.fileSystem.fileExists(atPath: "/data/orphan-0"))
        #expect(storage.fileSystem.fileExists(atPath: "/data/not a partition"))
        try await manager.close()
    }

    @Test func checkpointsUseKafkasTextFormat() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        try manager.createTopic("b", partitionCount: 2)
        try manager.createTopic("a", partitionCount: 1)
        let id = try #require(manager.topic("b")?.topicId)
        _ = try await manager.partition(topic: "b", index: 1)!.append(makeBatch(["1", "2"]), durability: .none)
        try await manager.close()
        let text = String(
            decoding: storage.fileSystem.contents(ofPath: "/data/recovery-point-offset-checkpoint")!,
            as: UTF8.self
        )
        #expect(text == "0\n3\na 0 0\nb 0 0\nb 1 2\n")
        let metadata = String(
            decoding: storage.fileSystem.contents(ofPath: "/data/topics/b.properties")!,
            as: UTF8.self
        )
        #expect(metadata == "# Tern topic metadata\nversion=1\npartition.count=2\ntopic.id=\(id)\n")
    }

    @Test func aCorruptCheckpointMeansAFullRecoveryNotAFailure() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        _ = try await log.append(makeBatch(["a"]), durability: .fsync)
        await manager.applyRetention()  // Writes the checkpoints.
        storage.fileSystem.setContents(ofPath: "/data/recovery-point-offset-checkpoint", to: Array("garbage".utf8))
        storage.fileSystem.simulateCrash()
        let reopened = try await storage.open()
        #expect(try allValues(reopened.partition(topic: "t", index: 0)!) == ["a"])
        try await reopened.close()
    }
}
